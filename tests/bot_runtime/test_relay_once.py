"""The relay keys a conversation already holds are found without loading it: an agent's message (the key in its
metadata) and the end of a handoff (the key as an entity), on both SQL stores and the in-memory one; a key that is
only text in a message, another conversation's key, or a key of an earlier session counts for nothing."""

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

from bot_runtime.relay_once import applied_in_store
from bot_runtime.tracker_store import SQLiteTrackerStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def _store(kind: str, domain: Domain, tmp_path: Path) -> TrackerStore:
    inner: TrackerStore = {
        "sqlite": lambda: SQLiteTrackerStore(domain, db=str(tmp_path / "a.db")),
        "rasa-sql": lambda: SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "b.db")),
        "in-memory": lambda: InMemoryTrackerStore(domain),
    }[kind]()
    return FailSafeTrackerStore(AwaitableTrackerStore(inner))


@pytest.mark.parametrize("kind", ["sqlite", "rasa-sql", "in-memory"])
def test_the_keys_already_applied_are_found(domain: Domain, tmp_path: Path, kind: str) -> None:
    store = _store(kind, domain, tmp_path)
    tracker = DialogueStateTracker("relayed", domain.slots)
    tracker.update(SessionStarted(timestamp=1.0))
    tracker.update(BotUttered("from an earlier session", metadata={"relay_id": "outbox:old"}, timestamp=2.0))
    tracker.update(ActionExecuted("action_session_start", timestamp=10.0))
    tracker.update(SessionStarted(timestamp=10.0))
    tracker.update(BotUttered("Hello, Alice here", metadata={"relay_id": "outbox:1", "agent": "Alice"},
                              timestamp=11.0))
    tracker.update(UserUttered("/EXTERNAL_handoff_ended", {"name": "EXTERNAL_handoff_ended", "confidence": 1.0},
                               [{"entity": "relay_id", "value": "outbox:2%_x", "start": 0, "end": 0}],
                               timestamp=12.0))
    tracker.update(UserUttered('the customer types "outbox:3"', {"name": "inform", "confidence": 1.0},
                               timestamp=13.0))
    asyncio.run(store.save(tracker))

    wanted = {"outbox:1", "outbox:2%_x", "outbox:3", "outbox:old", "OUTBOX:1", "outbox:4"}
    assert asyncio.run(applied_in_store(store, "relayed", wanted)) == {"outbox:1", "outbox:2%_x"}
    assert asyncio.run(applied_in_store(store, "another", wanted)) == set()
