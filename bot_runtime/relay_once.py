"""What the routing service relays into a conversation is applied once, however often it is sent.

The routing service's outbox delivers at least once: an attempt that did land but whose answer was lost (a timeout
while Rasa was slow, the Rasa replica killed after it stored the events, the routing replica killed before it
recorded the outcome) is sent again, by the same or another routing replica. Each relayed call carries the outbox
item's key, `relay_id` (routing/escalations/relay.py): in the agent's bot event's metadata, and as an entity of a
triggered intent (the end of a handoff). Rasa keeps both in the tracker, so the tracker is the record of what was
applied: `install()` makes Rasa's two endpoints skip a call whose key the conversation's tracker already holds.
- `POST /conversations/<id>/tracker/events` calls `rasa.server.update_conversation_with_events` under the
  conversation's lock; the wrapper drops already-applied events from the request's event list in place, since Rasa
  then sends that same list to the customer's channel (`execute_side_effects`): neither the tracker nor the socket
  gets the event twice.
- `POST /conversations/<id>/trigger_intent` calls `MessageProcessor.trigger_external_user_uttered` under the lock;
  an intent whose `relay_id` entity is in the tracker is not triggered again (the bot would say it twice).
The tracker Rasa loads holds the latest session's events: a retry after a new session began is not recognised
(sessions start after an hour without messages; the outbox's retries come within minutes). The events endpoint
finds the keys it is sent without loading the conversation on Rasa's SQL stores (bot_runtime/event_search.py: the
latest session's bot and user rows whose JSON holds a key's text, each then checked as the event it stores).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import rasa.server
import sqlalchemy as sa
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.events import BotUttered, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot_runtime.event_search import json_text, latest_session_rows, sql_store

logger = logging.getLogger(__name__)

RELAY_ID = "relay_id"
_installed: list[bool] = []


def relay_id_of(event: Event) -> str | None:
    """The relay key an event carries (a relayed bot message's metadata, a triggered intent's entity), or None."""
    if isinstance(event, BotUttered):
        value = (event.metadata or {}).get(RELAY_ID)
        return value if isinstance(value, str) else None
    if isinstance(event, UserUttered):
        for entity in event.entities or []:
            if entity.get("entity") == RELAY_ID and isinstance(entity.get("value"), str):
                return str(entity["value"])
    return None


def applied_relay_ids(events: Iterable[Event]) -> set[str]:
    """The relay keys of `events` (a tracker's)."""
    return {key for key in map(relay_id_of, events) if key is not None}


async def applied_in_store(store: TrackerStore, conversation_id: str, keys: set[str]) -> set[str]:
    """Which of `keys` the conversation's latest session in `store` already holds. A store that fails to answer
    holds none (as Rasa's FailSafeTrackerStore answers a failed read with no tracker): the events are applied."""
    sql = sql_store(store)
    if sql is None:
        stored = await store.retrieve(conversation_id)  # None for a new conversation
        return applied_relay_ids(stored.events) & keys if stored is not None else set()
    seen: set[str] = set()
    try:
        for key in keys:
            rows = latest_session_rows(sql, conversation_id, [BotUttered.type_name, UserUttered.type_name],
                                       json_text(key))
            seen |= applied_relay_ids(Event.from_parameters(row) for row in rows) & {key}
    except sa.exc.SQLAlchemyError:
        logger.exception("could not look up relay keys of %s; applying the events", conversation_id)
        return set()
    return seen


def _entity_relay_id(entities: Any) -> str | None:
    """The `relay_id` of trigger_intent's entities (the short-hand dict or Rasa's list form)."""
    if isinstance(entities, dict):
        value = entities.get(RELAY_ID)
        return value if isinstance(value, str) else None
    if isinstance(entities, list):
        for entity in entities:
            if isinstance(entity, dict) and entity.get("entity") == RELAY_ID and isinstance(entity.get("value"), str):
                return str(entity["value"])
    return None


def install() -> None:
    """Skip relayed calls already applied (idempotent)."""
    if _installed:
        return
    _installed.append(True)
    update = rasa.server.update_conversation_with_events
    trigger = MessageProcessor.trigger_external_user_uttered

    async def update_conversation_with_events(conversation_id: str, processor: MessageProcessor, domain: Any,
                                              events: list[Event]) -> DialogueStateTracker:
        keys = applied_relay_ids(events)
        if keys:
            seen = await applied_in_store(processor.tracker_store, conversation_id, keys)
            events[:] = [event for event in events if relay_id_of(event) is None or relay_id_of(event) not in seen]
        tracker_after: DialogueStateTracker = await update(conversation_id, processor, domain, events)
        return tracker_after

    async def trigger_external_user_uttered(self: MessageProcessor, intent_name: str, entities: Any,
                                            tracker: DialogueStateTracker, output_channel: Any) -> None:
        key = _entity_relay_id(entities)
        if key is not None and key in applied_relay_ids(tracker.events):
            return
        await trigger(self, intent_name, entities, tracker, output_channel)

    rasa.server.update_conversation_with_events = update_conversation_with_events
    MessageProcessor.trigger_external_user_uttered = trigger_external_user_uttered
