"""A resent message is recognised by its client id without loading the conversation: on both SQL stores (the
embedded SQLite one and Rasa's own, as in production) and, by loading the tracker, on other stores; ids that SQL's
LIKE or JSON would confuse are told apart, and only the latest session counts, as with the tracker Rasa loads."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa.core.tracker_store import (
    AwaitableTrackerStore,
    FailSafeTrackerStore,
    InMemoryTrackerStore,
    SQLTrackerStore,
    TrackerStore,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot_runtime.event_search import sql_store
from bot_runtime.resend_once import already_handled
from bot_runtime.tracker_store import SQLiteTrackerStore

ROOT = Path(__file__).resolve().parents[2]
IDS = ["plain-id", "50%_off", 'quote"d', "back\\slash", "slash/ed", "ünïcode-id", "UPPER-case"]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def _message(text: str, message_id: str, timestamp: float | None = None) -> UserUttered:
    return UserUttered(text, {"name": "greet", "confidence": 1.0}, metadata={"message_id": message_id},
                       message_id=message_id, timestamp=timestamp)


def _stores(domain: Domain, tmp_path: Path) -> dict[str, TrackerStore]:
    return {
        "sqlite": FailSafeTrackerStore(AwaitableTrackerStore(SQLiteTrackerStore(domain, db=str(tmp_path / "a.db")))),
        "rasa-sql": FailSafeTrackerStore(AwaitableTrackerStore(
            SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "b.db")))),
        "in-memory": FailSafeTrackerStore(AwaitableTrackerStore(InMemoryTrackerStore(domain))),
    }


def test_the_sql_stores_are_found_under_rasas_wrappers(domain: Domain, tmp_path: Path) -> None:
    stores = _stores(domain, tmp_path)
    assert isinstance(sql_store(stores["sqlite"]), SQLiteTrackerStore)
    assert type(sql_store(stores["rasa-sql"])) is SQLTrackerStore
    assert sql_store(stores["in-memory"]) is None


@pytest.mark.parametrize("kind", ["sqlite", "rasa-sql", "in-memory"])
def test_each_stored_id_is_recognised_and_no_other(domain: Domain, tmp_path: Path, kind: str) -> None:
    store = _stores(domain, tmp_path)[kind]
    tracker = DialogueStateTracker("resend", domain.slots)
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
        tracker.update(event)
    for message_id in IDS:
        tracker.update(_message(f"message {message_id}", message_id))
        tracker.update(BotUttered("ok"))
    # a text that spells an id's JSON is not that message's id
    tracker.update(UserUttered('"message_id": "in-the-text"', {"name": "greet", "confidence": 1.0}))
    asyncio.run(store.save(tracker))

    for message_id in IDS:
        assert asyncio.run(already_handled(store, "resend", message_id)), message_id
    for other in ("50%", "50x_off", "plain", "upper-case", "quote", "in-the-text", "ünïcode", "slash/e"):
        assert not asyncio.run(already_handled(store, "resend", other)), other
    assert not asyncio.run(already_handled(store, "someone-else", "plain-id"))


@pytest.mark.parametrize("kind", ["sqlite", "rasa-sql", "in-memory"])
def test_only_the_latest_session_counts(domain: Domain, tmp_path: Path, kind: str) -> None:
    store = _stores(domain, tmp_path)[kind]
    tracker = DialogueStateTracker("sessions", domain.slots)
    tracker.update(SessionStarted(timestamp=1.0))
    tracker.update(_message("first session", "old-id", timestamp=2.0))
    tracker.update(ActionExecuted("action_session_start", timestamp=10.0))
    tracker.update(SessionStarted(timestamp=10.0))
    tracker.update(_message("second session", "new-id", timestamp=11.0))
    asyncio.run(store.save(tracker))
    assert asyncio.run(already_handled(store, "sessions", "new-id"))
    assert not asyncio.run(already_handled(store, "sessions", "old-id"))


def test_a_store_that_fails_counts_as_not_holding_the_id(domain: Domain, tmp_path: Path) -> None:
    store = SQLiteTrackerStore(domain, db=str(tmp_path / "gone.db"))
    store.engine.dispose()
    (tmp_path / "gone.db").unlink()
    (tmp_path / "gone.db").mkdir()  # no database can be opened there
    assert not asyncio.run(already_handled(FailSafeTrackerStore(AwaitableTrackerStore(store)), "x", "plain-id"))
