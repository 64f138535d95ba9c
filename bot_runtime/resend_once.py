"""A customer's message sent again after its answer was lost is handled once.

A REST client whose request failed on the wire (the Rasa replica behind the front door died mid-request, a timeout)
cannot know whether its message was handled, and must send it again: without a key, a message the dead replica had
already stored would be in the conversation twice (and, during a handoff, twice in the agent's transcript). A client
that names each message with `metadata.message_id` (1 to 128 characters, unique within its conversation) can resend
safely: Rasa keeps the metadata with the user event in the tracker, and `install()` makes
`MessageProcessor.handle_message` (which runs under the conversation's lock) answer a message whose id the
conversation's tracker already holds with no messages instead of handling it again. The client's id also becomes
Rasa's `message_id` of the message, from which the actions derive the idempotency keys of what a turn sends the
routing service (actions/handoff.py `turn_key`): a turn whose replica died after the action forwarded the customer's
words to the agent but before Rasa stored the turn is handled again on the survivor with the same key, so the agent's
transcript has the words once too.
Only the latest session's events are looked at (as Rasa loads them); a resend comes within seconds.

The look-up does not load the conversation (bot_runtime/event_search.py): on Rasa's SQL stores one query on the
sender's index finds the latest session's user events whose stored JSON names the id (`"message_id": <id>`, as
Rasa writes it), and only those are parsed and checked; other stores are searched by loading the tracker.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.events import UserUttered

from bot_runtime.event_search import json_text, latest_session_rows, sql_store

logger = logging.getLogger(__name__)
MESSAGE_ID = "message_id"
MAX_ID_CHARS = 128
_installed: list[bool] = []


def client_message_id(metadata: Any) -> str | None:
    """The client's id of a message (its metadata's `message_id`), or None when absent or unusable."""
    value = metadata.get(MESSAGE_ID) if isinstance(metadata, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= MAX_ID_CHARS else None


async def already_handled(store: TrackerStore, sender_id: str, key: str) -> bool:
    """Whether the conversation's latest session already holds a user message with the client's id `key`. A store
    that fails to answer counts as not holding it (Rasa's FailSafeTrackerStore answers a failed read with no
    tracker too): the message is handled."""
    sql = sql_store(store)
    if sql is not None:
        try:
            rows = latest_session_rows(sql, sender_id, [UserUttered.type_name], f'"{MESSAGE_ID}": {json_text(key)}')
            return any(client_message_id(row.get("metadata")) == key for row in rows)
        except sa.exc.SQLAlchemyError:
            logger.exception("could not look up message id %r of %s; handling the message", key, sender_id)
            return False
    stored = await store.retrieve(sender_id)  # None for a new conversation
    return stored is not None and any(isinstance(e, UserUttered) and client_message_id(e.metadata) == key
                                      for e in stored.events)


def install() -> None:
    """Handle a resent message once (idempotent)."""
    if _installed:
        return
    _installed.append(True)
    original = MessageProcessor.handle_message

    async def handle_message(self: MessageProcessor, message: UserMessage) -> list[dict[str, Any]] | None:
        key = client_message_id(message.metadata)
        if key is not None:
            if await already_handled(self.tracker_store, message.sender_id, key):
                return []
            message.message_id = key
        handled: list[dict[str, Any]] | None = await original(self, message)
        return handled

    MessageProcessor.handle_message = handle_message
