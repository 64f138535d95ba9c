"""CSAT over HTTP: the widget rates the chat a person just ended, with the rating key it was given then; only that
conversation's customer may rate it, once; bad answers get a 4xx, never a 500."""

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
from routing.escalations.rating_keys import rating_key
from routing.settings import Settings

pytestmark = pytest.mark.clock
NOW = datetime(2026, 11, 3, 12, 0, tzinfo=timezone.utc)
HOUR = 3600
SECRET = "test-csat-secret-of-32-bytes-or-more"


@pytest.fixture
def ids(db: sessionmaker[Session]) -> dict[str, int]:
    """conv-ok: resolved by alice an hour ago; conv-other: another customer's, resolved too; conv-old: resolved
    25 h ago; conv-left: abandoned in the queue. Returns each conversation's escalation id."""
    with db.begin() as s:
        alice = create_agent(s, "alice", "Alice", "pw-alice-1", ["vip"]).id
        done = [Step(10, "assigned", "claimed", alice), Step(20, "active", "reply", alice),
                Step(300, "resolved", "resolved", alice)]
        return {
            "conv-ok": escalation(s, "conv-ok", clock_at(-HOUR - 300), "gold", "vip", "get_refund", 180, done).id,
            "conv-other": escalation(s, "conv-other", clock_at(-HOUR - 300), "gold", "vip", "get_refund", 180,
                                     done).id,
            "conv-old": escalation(s, "conv-old", clock_at(-25 * HOUR - 300), "gold", "vip", "get_refund", 180,
                                   done).id,
            "conv-left": escalation(s, "conv-left", clock_at(-HOUR), "gold", "vip", "get_refund", 180,
                                    [Step(30, "abandoned", "abandoned")]).id,
        }


@pytest.fixture
def rated(ids: dict[str, int], settings: Settings) -> Iterator[TestClient]:
    from routing.app import create_app

    with clock.use(clock.FixedClock(NOW)), \
            TestClient(create_app(settings.model_copy(update={"csat_secret": SECRET}))) as client:
        yield client


def clock_at(seconds: float) -> datetime:
    return datetime.fromtimestamp(NOW.timestamp() + seconds, tz=timezone.utc)


def key(ids: dict[str, int], conversation: str) -> str:
    """The key the routing service sent to `conversation` when its chat ended."""
    return rating_key(SECRET, ids[conversation], conversation)


def stored(db: sessionmaker[Session]) -> list[tuple[str, int, str | None]]:
    with db() as s:
        return [(r.conversation_id, r.rating, r.comment) for r in s.scalars(select(CsatRating))]


def test_the_first_rating_stands_and_the_same_one_sent_again_is_accepted(
        rated: TestClient, ids: dict[str, int], db: sessionmaker[Session]) -> None:
    body = {"conversation_id": "conv-ok", "rating": 5, "comment": "  quick ", "rating_key": key(ids, "conv-ok")}
    first = rated.post("/api/v1/csat", json=body)
    assert first.status_code == 201, first.text
    assert first.json()["escalation_id"] == ids["conv-ok"] and first.json()["comment"] == "quick"
    again = rated.post("/api/v1/csat", json=body)  # the widget sent it twice: the same answer
    assert again.status_code == 201 and again.json() == first.json()
    changed = rated.post("/api/v1/csat", json={**body, "rating": 1, "comment": "awful"})
    assert changed.status_code == 409 and "rated already" in changed.json()["detail"]
    assert stored(db) == [("conv-ok", 5, "quick")]


def test_a_rating_without_the_conversations_key_is_refused(rated: TestClient, ids: dict[str, int],
                                                           db: sessionmaker[Session]) -> None:
    """Knowing or guessing a conversation id is not enough to rate it."""
    no_key = rated.post("/api/v1/csat", json={"conversation_id": "conv-ok", "rating": 1})
    assert no_key.status_code == 403 and "rating key" in no_key.json()["detail"]
    for wrong in (key(ids, "conv-other"),  # another escalation's key (another customer's chat)
                  rating_key("some-other-secret", ids["conv-ok"], "conv-ok"),  # not signed by this service
                  "", "é" * 64, "0" * 64):
        answer = rated.post("/api/v1/csat", json={"conversation_id": "conv-ok", "rating": 1, "rating_key": wrong})
        assert answer.status_code == 403, (wrong, answer.text)
    assert "does not belong to this conversation" in answer.json()["detail"]
    assert stored(db) == []
    # the customer's own key still works afterwards
    own = rated.post("/api/v1/csat",
                     json={"conversation_id": "conv-ok", "rating": 4, "rating_key": key(ids, "conv-ok")})
    assert own.status_code == 201 and stored(db) == [("conv-ok", 4, None)]


@pytest.mark.parametrize("body, code", [
    ({"conversation_id": "conv-ok", "rating": 6}, 422),
    ({"conversation_id": "conv-ok", "rating": 0}, 422),
    ({"conversation_id": "conv-ok", "rating": "five"}, 422),
    ({"conversation_id": "conv-ok", "rating": 4, "comment": "x" * 1001}, 422),
    ({"conversation_id": "", "rating": 4}, 422),
    ({"conversation_id": "..", "rating": 4}, 422),
    ({"conversation_id": "conv-ok", "rating": 4, "escalation_id": 1}, 422),
    ({"conversation_id": "conv-ok", "rating": 4, "rating_key": "k" * 129}, 422),
    ({"conversation_id": "conv-old", "rating": 4}, 404),  # ended more than a day ago
    ({"conversation_id": "conv-left", "rating": 4}, 404),  # nobody answered: nothing to rate
    ({"conversation_id": "nobody", "rating": 4, "rating_key": "0" * 64}, 403),
])
def test_bad_ratings_are_refused(rated: TestClient, ids: dict[str, int], body: dict[str, object], code: int) -> None:
    conversation = str(body["conversation_id"])
    if conversation in ids:
        body = {"rating_key": key(ids, conversation), **body}
    assert rated.post("/api/v1/csat", json=body).status_code == code


def test_a_full_comment_is_kept(rated: TestClient, ids: dict[str, int]) -> None:
    answer = rated.post("/api/v1/csat", json={"conversation_id": "conv-ok", "rating": 4, "comment": "é" * 1000,
                                              "rating_key": key(ids, "conv-ok")})
    assert answer.status_code == 201 and answer.json()["comment"] == "é" * 1000
