"""Customer tokens never reach the tracker store.

The widget sends the shop's signed customer token in every message's metadata, and the actions keep the token a
session was checked against in the `session_started_metadata` slot. Rasa stores both with the events, so anyone who
could read the tracker store (a backup, an export, a trainer's query) held working credentials until they expired.
`redacted` gives the events to store with the token replaced by its digest (bot_runtime/token_digest.py); the tracker in
memory, which the actions receive this turn, keeps the token. `install()` applies it to Rasa's SQL tracker store
(PostgreSQL in production); the embedded SQLite store applies it in its own `save`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import SESSION_START_METADATA_SLOT
from rasa.shared.core.events import Event, SlotSet, UserUttered

from bot_runtime.token_digest import TOKEN_METADATA_KEY, is_digest, token_digest

_installed: list[bool] = []


def _holds_token(metadata: Any) -> bool:
    token = metadata.get(TOKEN_METADATA_KEY) if isinstance(metadata, dict) else None
    return isinstance(token, str) and not is_digest(token)


def _without_token(metadata: dict[str, Any]) -> dict[str, Any]:
    return {**metadata, TOKEN_METADATA_KEY: token_digest(metadata[TOKEN_METADATA_KEY])}


def redacted(events: Iterable[Event]) -> Iterator[Event]:
    """The events as they may be stored: each token in a message's metadata or the session metadata slot replaced
    by its digest (copies; the events themselves are untouched)."""
    for event in events:
        if isinstance(event, UserUttered):
            parsed = event.parse_data.get("metadata")  # a message keeps its metadata twice: here and on the event
            if _holds_token(event.metadata) or _holds_token(parsed):
                event = copy.copy(event)
                if _holds_token(event.metadata):
                    event.metadata = _without_token(event.metadata)
                if _holds_token(parsed):
                    event.parse_data = {**event.parse_data, "metadata": _without_token(parsed)}
        elif isinstance(event, SlotSet) and event.key == SESSION_START_METADATA_SLOT and _holds_token(event.value):
            event = copy.copy(event)
            event.value = _without_token(event.value)
        yield event


def install() -> None:
    """Store Rasa's SQL tracker store's new events redacted (idempotent)."""
    if _installed:
        return
    _installed.append(True)
    original = SQLTrackerStore._additional_events

    def _additional_events(self: SQLTrackerStore, session: Any, tracker: Any) -> Iterator[Event]:
        return redacted(original(self, session, tracker))

    SQLTrackerStore._additional_events = _additional_events
