"""Waiting customers are told when their place in line changes and when their team closes (queue watcher)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from fixtures_human_support import BOT, Recorder, packet
from sqlalchemy.orm import Session, sessionmaker

from launcher.settings import ALWAYS_OPEN, write_policy_copy
from routing.escalations import service
from routing.escalations.schemas import EscalationIn
from routing.policy.loader import load_policy
from routing.queues.watch import QueueChange, QueueWatcher, notify_changes
from routing.settings import ROOT

pytestmark = pytest.mark.clock  # about hours, SLAs, expiry or dates: CI runs it at other instants too

OPENING = datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc)  # a Wednesday


def test_changes_are_found_once_and_a_closing_is_named(hs_sessions: sessionmaker[Session], tmp_path: Path) -> None:
    hours = {"timezone": "UTC", "days": ["mon", "tue", "wed", "thu", "fri"], "open": "09:00", "close": "16:00"}
    policy = load_policy(write_policy_copy(ROOT / "routing" / "policy.yml", tmp_path / "p.yml",
                                           hours={"general": hours}, default=ALWAYS_OPEN))
    watcher = QueueWatcher()
    with hs_sessions() as s:
        ids = [service.create(s, EscalationIn(conversation_id=f"w{n}", idempotency_key=f"w{n}", tier="bronze",
                                              queue="general", priority=10), policy, now=OPENING)[0].id
               for n in range(3)]
        first = watcher.changes(s, policy, OPENING)  # first sighting: the queue may have moved since the announcement
        assert first == [QueueChange(f"w{n}", "moved") for n in range(3)]
        assert watcher.changes(s, policy, OPENING + timedelta(seconds=1)) == []  # nothing moved
        service.abandon(s, ids[0], "left")
        assert watcher.changes(s, policy, OPENING + timedelta(seconds=2)) == [
            QueueChange("w1", "moved"), QueueChange("w2", "moved")]
        closed = OPENING + timedelta(hours=1, minutes=1)  # 16:01 UTC: the team has closed
        assert watcher.changes(s, policy, closed) == [QueueChange("w1", "closed"), QueueChange("w2", "closed")]
        assert watcher.changes(s, policy, closed + timedelta(minutes=1)) == []


def test_a_failed_update_does_not_stop_the_others() -> None:
    sent: list[str] = []

    def send(conversation_id: str, event: str) -> None:
        if conversation_id == "down":
            raise ConnectionError("Rasa is restarting")
        sent.append(f"{conversation_id}:{event}")

    changes = [QueueChange("down", "moved"), QueueChange("up", "closed")]
    assert notify_changes(changes, send) == 1 and sent == ["up:closed"]


def test_the_service_tells_rasa_when_a_customer_moves_up(hs_client: TestClient, hs_recorder: Recorder) -> None:
    first = hs_client.post("/api/v1/escalations", json=packet("ahead"), headers=BOT).json()
    hs_client.post("/api/v1/escalations", json=packet("behind"), headers=BOT).raise_for_status()
    def updates(conversation: str, count: int) -> list[object]:
        deadline = time.monotonic() + 10
        while len(hs_recorder.bodies(f"/conversations/{conversation}/trigger_intent")) < count \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        return hs_recorder.bodies(f"/conversations/{conversation}/trigger_intent")

    moved = {"name": "EXTERNAL_queue_update", "entities": {"queue_event": "moved"}}
    assert updates("behind", 1) == [moved] and updates("ahead", 1) == [moved]  # first sighting
    hs_client.post(f"/api/v1/escalations/{first['id']}/abandon", json={"reason": "left"}, headers=BOT)
    assert updates("behind", 2) == [moved, moved]  # moved up
    time.sleep(1.5)
    assert len(updates("ahead", 1)) == 1  # the one who left is told nothing more about the queue
