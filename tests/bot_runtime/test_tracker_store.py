"""endpoints.yml gives Rasa a real SQLite tracker store: pooled, in WAL mode, with Rasa's own read/write semantics."""

from __future__ import annotations

import asyncio
import copy
import sqlite3
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot_runtime.tracker_store import SQLiteTrackerStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def _store_from_endpoints(domain: Domain, db: Path, monkeypatch: pytest.MonkeyPatch) -> TrackerStore:
    monkeypatch.setenv("CONCIERGE_TRACKER_DB", str(db))
    monkeypatch.setenv("CONCIERGE_ACTIONS_PORT", "5055")
    monkeypatch.setenv("CONCIERGE_ACTIONS_TOKEN", "test-actions-token")
    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml"))
    return TrackerStore.create(endpoints.tracker_store, domain)


def _conversation(domain: Domain, sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, domain.slots)
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
                  UserUttered("where is my order C-100042", {"name": "track_order", "confidence": 0.9}),
                  SlotSet("order_query", "order_status"), ActionExecuted("verify_order_form")):
        tracker.update(event)
    return tracker


def test_endpoints_yml_gives_the_sqlite_store_on_the_configured_file(
    domain: Domain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "tracker.db"
    store = _store_from_endpoints(domain, db, monkeypatch)

    # Rasa silently falls back to an in-memory store when a custom class cannot be imported: it must not here
    assert isinstance(store, SQLiteTrackerStore)
    asyncio.run(store.save(_conversation(domain, "endpoints")))
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("SELECT count(*) FROM events WHERE sender_id = 'endpoints'").fetchone() == (6,)


def test_conversations_read_back_exactly_as_rasas_own_sql_store_reads_them(domain: Domain, tmp_path: Path) -> None:
    db = str(tmp_path / "tracker.db")
    ours = SQLiteTrackerStore(domain, db=db)
    tracker = _conversation(domain, "same")
    asyncio.run(ours.save(tracker))
    # a second session: reads return only its events, as with Rasa's store
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
                  UserUttered("hi", {"name": "greet", "confidence": 1.0})):
        tracker.update(event)
    asyncio.run(ours.save(tracker))

    rasas = SQLTrackerStore(domain, dialect="sqlite", db=db)
    for method in ("retrieve", "retrieve_full_tracker"):
        mine = asyncio.run(getattr(ours, method)("same"))
        theirs = asyncio.run(getattr(rasas, method)("same"))
        assert mine is not None and theirs is not None
        assert [e.as_dict() for e in mine.events] == [e.as_dict() for e in theirs.events]
    latest = asyncio.run(ours.retrieve("same"))
    assert latest is not None and isinstance(latest.events[0], SessionStarted)
    assert [e.as_dict() for e in latest.events][-1]["text"] == "hi"


def test_saving_a_conversation_again_writes_the_rows_rasas_store_writes(domain: Domain, tmp_path: Path) -> None:
    stored: dict[str, list[tuple[str, ...]]] = {}
    conversation, listen = _conversation(domain, "twice"), ActionExecuted("action_listen")
    for name, store in (("ours", SQLiteTrackerStore(domain, db=str(tmp_path / "ours.db"))),
                        ("rasa", SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "rasa.db")))):
        asyncio.run(store.save(copy.deepcopy(conversation)))
        tracker = asyncio.run(store.retrieve("twice"))
        assert tracker is not None
        tracker.update(copy.deepcopy(listen))
        asyncio.run(store.save(tracker))
        with sqlite3.connect(tmp_path / f"{name}.db") as conn:
            stored[name] = [tuple(row) for row in conn.execute(
                "SELECT sender_id, type_name, timestamp, action_name, intent_name, data FROM events ORDER BY id")]
    assert len(stored["ours"]) == 7
    assert stored["ours"] == stored["rasa"]
