"""Customer tokens never reach the tracker store: both SQL stores keep a digest in the token's place, and the
tracker in memory (what the actions receive this turn) keeps the token."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot_runtime import token_redaction
from bot_runtime.token_digest import token_digest
from bot_runtime.tracker_store import SQLiteTrackerStore

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "eyJhbGciOiJIUzI1NiJ9.a-signed-customer-token.signature"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def _signed_in_turn(domain: Domain) -> DialogueStateTracker:
    tracker = DialogueStateTracker("signed-in", domain.slots)
    metadata = {"customer_token": TOKEN, "message_id": "m1"}
    for event in (ActionExecuted("action_session_start"), SessionStarted(),
                  SlotSet("session_started_metadata", metadata), ActionExecuted("action_listen"),
                  UserUttered("where is my order", {"name": "track_order", "confidence": 0.9}, metadata=metadata)):
        tracker.update(event)
    return tracker


@pytest.mark.parametrize("store_class", ["embedded", "rasa"])
def test_the_store_keeps_a_digest_and_the_tracker_in_memory_keeps_the_token(
        domain: Domain, tmp_path: Path, store_class: str) -> None:
    db = tmp_path / "tracker.db"
    if store_class == "embedded":
        store: SQLTrackerStore = SQLiteTrackerStore(domain, db=str(db))
    else:  # Rasa's own SQL store, as production runs it on PostgreSQL (the same method stores the events)
        token_redaction.install()
        store = SQLTrackerStore(domain, dialect="sqlite", db=str(db))
    tracker = _signed_in_turn(domain)

    asyncio.run(store.save(tracker))

    with sqlite3.connect(db) as conn:
        rows = [data for (data,) in conn.execute("SELECT data FROM events")]
    assert len(rows) == 5 and not any(TOKEN in data for data in rows)
    assert sum(token_digest(TOKEN) in data for data in rows) == 2  # the message's metadata and the session slot
    assert tracker.latest_message is not None and tracker.latest_message.metadata["customer_token"] == TOKEN
    assert tracker.get_slot("session_started_metadata")["customer_token"] == TOKEN
    stored = asyncio.run(store.retrieve("signed-in"))
    assert stored is not None and stored.latest_message is not None
    assert stored.latest_message.metadata == {"customer_token": token_digest(TOKEN), "message_id": "m1"}


def test_a_digest_is_its_own_digest_and_never_a_token() -> None:
    assert token_digest(token_digest(TOKEN)) == token_digest(TOKEN) != TOKEN
