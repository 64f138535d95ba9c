"""CSAT over HTTP: the widget rates the chat a person just ended; bad answers get a 4xx, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import clock
from routing.agents.service import create_agent
from routing.analytics.history import Step, escalation
from routing.analytics.models import CsatRating
from routing.settings import Settings

pytestmark = pytest.mark.clock
NOW = datetime(2026, 11, 3, 12, 0, tzinfo=timezone.utc)
HOUR = 3600


@pytest.fixture
def rated(db: sessionmaker[Session], settings: Settings) -> Iterator[TestClient]:
    """conv-ok: resolved by alice an hour ago; conv-old: resolved 25 h ago; conv-left: abandoned in the queue."""
    from routing.app import create_app

    with db.begin() as s:
        alice = create_agent(s, "alice", "Alice", "pw-alice-1", ["vip"]).id
        done = [Step(10, "assigned", "claimed", alice), Step(20, "active", "reply", alice),
                Step(300, "resolved", "resolved", alice)]
        escalation(s, "conv-ok", clock_at(-HOUR - 300), "gold", "vip", "get_refund", 180, done)
        escalation(s, "conv-old", clock_at(-25 * HOUR - 300), "gold", "vip", "get_refund", 180, done)
        escalation(s, "conv-left", clock_at(-HOUR), "gold", "vip", "get_refund", 180,
                   [Step(30, "abandoned", "abandoned")])
    with clock.use(clock.FixedClock(NOW)), TestClient(create_app(settings)) as client:
        yield client


def clock_at(seconds: float) -> datetime:
    return datetime.fromtimestamp(NOW.timestamp() + seconds, tz=timezone.utc)


def test_a_rating_is_stored_and_a_second_answer_replaces_it(rated: TestClient, db: sessionmaker[Session]) -> None:
    first = rated.post("/api/v1/csat", json={"conversation_id": "conv-ok", "rating": 5})
    assert first.status_code == 201, first.text
    again = rated.post("/api/v1/csat", json={"conversation_id": "conv-ok", "rating": 2, "comment": "  too slow "})
    assert again.status_code == 201 and again.json()["escalation_id"] == first.json()["escalation_id"]
    with db() as s:
        stored = s.scalars(select(CsatRating)).all()
    assert [(r.conversation_id, r.rating, r.comment, r.created_at) for r in stored] == [
        ("conv-ok", 2, "too slow", NOW)]


@pytest.mark.parametrize("body, code", [
    ({"conversation_id": "conv-ok", "rating": 6}, 422),
    ({"conversation_id": "conv-ok", "rating": 0}, 422),
    ({"conversation_id": "conv-ok", "rating": "five"}, 422),
    ({"conversation_id": "conv-ok", "rating": 4, "comment": "x" * 1001}, 422),
    ({"conversation_id": "", "rating": 4}, 422),
    ({"conversation_id": "conv-ok", "rating": 4, "escalation_id": 1}, 422),
    ({"conversation_id": "conv-old", "rating": 4}, 404),  # ended more than a day ago
    ({"conversation_id": "conv-left", "rating": 4}, 404),  # nobody answered: nothing to rate
    ({"conversation_id": "nobody", "rating": 4}, 404),
])
def test_bad_ratings_are_refused(rated: TestClient, body: dict[str, object], code: int) -> None:
    assert rated.post("/api/v1/csat", json=body).status_code == code


def test_a_full_comment_is_kept(rated: TestClient) -> None:
    answer = rated.post("/api/v1/csat", json={"conversation_id": "conv-ok", "rating": 4, "comment": "é" * 1000})
    assert answer.status_code == 201 and answer.json()["comment"] == "é" * 1000
