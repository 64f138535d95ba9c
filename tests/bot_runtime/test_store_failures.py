"""A conversation whose events cannot be stored fails that save, and the Rasa process lives on (Rasa 3.6 turned
every ValueError inside its SQL session into an exit of the whole process)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot_runtime import store_failures
from bot_runtime.tracker_store import SQLiteTrackerStore

ROOT = Path(__file__).resolve().parents[2]


def _unstorable(domain: Domain) -> DialogueStateTracker:
    """A turn whose metadata json cannot encode (a circular value: json raises ValueError, as an unencodable
    string's UnicodeEncodeError, a ValueError too, did)."""
    circular: dict[str, Any] = {}
    circular["self"] = circular
    tracker = DialogueStateTracker("unstorable", domain.slots)
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
                  UserUttered("hi", {"name": "greet", "confidence": 0.9}, metadata=circular)):
        tracker.update(event)
    return tracker


@pytest.mark.parametrize("store_class", ["embedded", "rasa"])
def test_a_save_that_fails_raises_for_that_turn_instead_of_exiting(tmp_path: Path, store_class: str) -> None:
    store_failures.install()
    domain = Domain.load(str(ROOT / "domain.yml"))
    db = str(tmp_path / "tracker.db")
    store = SQLiteTrackerStore(domain, db=db) if store_class == "embedded" else \
        SQLTrackerStore(domain, dialect="sqlite", db=db)
    with pytest.raises(ValueError, match="Circular"):
        asyncio.run(store.save(_unstorable(domain)))
    fine = DialogueStateTracker("fine", domain.slots)
    fine.update(UserUttered("hello", {"name": "greet", "confidence": 0.9}))
    asyncio.run(store.save(fine))  # the same store serves the next conversation
    stored = asyncio.run(store.retrieve("fine"))
    assert stored is not None and stored.latest_message is not None and stored.latest_message.text == "hello"


def test_a_missing_postgresql_schema_still_stops_the_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store_failures.install()
    domain = Domain.load(str(ROOT / "domain.yml"))
    store = SQLiteTrackerStore(domain, db=str(tmp_path / "tracker.db"))

    def missing(session: Any) -> None:
        raise ValueError("no_such_schema")

    monkeypatch.setattr("rasa.core.tracker_store.ensure_schema_exists", missing)
    with pytest.raises(SystemExit):
        asyncio.run(store.retrieve("anyone"))
