"""Find a conversation's stored events by a key they carry, without loading the conversation.

The resend and relay checks (bot_runtime/resend_once.py, relay_once.py) ask whether the conversation's latest
session already holds an event with a given key. Loading the tracker for that parses and replays every event of
the session for each message (about 2 ms at 40 events, growing with the conversation). On Rasa's SQL stores (the
embedded SQLite one, PostgreSQL in production) one query on the sender's index finds the latest session's rows of
the wanted types whose stored JSON contains the key's JSON text, and only those rows are parsed: the callers check
each as the event it stores, so a row that merely contains the text (SQLite's LIKE ignores case) counts for nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore

from bot_runtime.tracker_store import latest_session_filter

logger = logging.getLogger(__name__)


def sql_store(store: TrackerStore) -> SQLTrackerStore | None:
    """The SQL store under Rasa's wrappers (FailSafeTrackerStore, AwaitableTrackerStore), or None."""
    for _ in range(4):
        if isinstance(store, SQLTrackerStore):
            return store
        inner = getattr(store, "_tracker_store", None)
        if not isinstance(inner, TrackerStore):
            return None
        store = inner
    return None


def latest_session_rows(store: SQLTrackerStore, sender_id: str, type_names: Collection[str],
                        text: str) -> list[dict[str, Any]]:
    """The stored events (as dicts) of the conversation's latest session of the given types whose JSON contains
    `text`, in order."""
    events = store.SQLEvent.__table__
    query = sa.select(events.c.data).where(
        events.c.sender_id == sa.bindparam("sender_id"), events.c.type_name.in_(list(type_names)),
        events.c.data.contains(text, autoescape=True), latest_session_filter(events)).order_by(events.c.id)
    with store.engine.connect() as conn:
        rows = conn.execute(query, {"sender_id": sender_id}).scalars().all()
    return [json.loads(data) for data in rows]


def json_text(value: str) -> str:
    """How Rasa's stores write a string inside an event's JSON (json.dumps: quoted, escaped, ASCII)."""
    return json.dumps(value)
