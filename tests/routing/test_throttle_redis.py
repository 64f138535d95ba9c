"""Throttle counts in Redis (CONCIERGE_REDIS_URL): every replica of the routing service counts the same failures, a
restart forgets none, and the window slides on the service's clock. Runs against the real Redis at 127.0.0.1:6379
(scripts/services.sh starts it), each test under its own key prefix."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from routing.agents.demo import create_demo_agents
from routing.settings import Settings
from routing.throttle import RedisFailureThrottle

REDIS_URL = "redis://127.0.0.1:6379/5"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test alone; its keys are deleted afterwards."""
    name = f"concierge-test-{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)
    client.close()


@pytest.fixture
def shared(settings: Settings, prefix: str) -> Settings:
    return settings.model_copy(update={"redis_url": REDIS_URL, "redis_prefix": prefix})


def _replica(settings: Settings) -> TestClient:
    from routing.app import create_app

    return TestClient(create_app(settings), headers={"Authorization": "Bearer test-service-token"})


def test_replicas_share_the_order_check_counts(shared: Settings, demo_db: object) -> None:
    with _replica(shared) as one, _replica(shared) as two:
        owner = one.get("/api/v1/customers/lookup", params={"order_number": "C-100001"}).json()
        wrong = {"order_number": "C-100001", "email": "guess@example.com"}
        for replica in (one, two, one, two, one):  # five misses, spread over two replicas
            assert replica.post("/api/v1/identity/verify-order", json=wrong).status_code == 404
        right = {"order_number": "C-100001", "email": owner["email"]}
        for replica in (one, two):
            blocked = replica.post("/api/v1/identity/verify-order", json=right)
            assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    with _replica(shared) as restarted:  # a restart forgets nothing
        assert restarted.post("/api/v1/identity/verify-order", json=right).status_code == 429


def test_replicas_share_the_agent_sign_in_counts(shared: Settings, demo_db: sessionmaker[Session]) -> None:
    with demo_db.begin() as session:
        create_demo_agents(session)
    with _replica(shared) as one, _replica(shared) as two:
        for replica in (one, two, one, two, one):
            assert replica.post("/api/v1/agent/login", json={"login": "alice", "password": "wrong"}).status_code == 401
        assert two.post("/api/v1/agent/login", json={"login": "alice", "password": "demo"}).status_code == 429
        # the lock is that address's: the agent elsewhere signs in on either replica
        agent = TestClient(two.app, client=("198.51.100.7", 40000))
        assert agent.post("/api/v1/agent/login", json={"login": "alice", "password": "demo"}).status_code == 200


def test_the_window_slides_on_the_service_clock_and_keys_name_no_one(prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    throttle = RedisFailureThrottle(client, prefix, {"email": 2}, timedelta(seconds=60))
    keys = {"email": "ada@example.com"}

    throttle.failed(keys, T0)
    assert throttle.retry_after(keys, T0 + timedelta(seconds=5)) == 0
    throttle.failed(keys, T0 + timedelta(seconds=10))
    assert throttle.retry_after(keys, T0 + timedelta(seconds=20)) == 40  # until the first miss leaves the window
    assert throttle.failures("email", "ada@example.com", T0 + timedelta(seconds=20)) == 2
    assert throttle.failures("email", "ada@example.com", T0 + timedelta(seconds=65)) == 1  # the first one left
    assert throttle.retry_after(keys, T0 + timedelta(seconds=61)) == 0  # it has left
    throttle.failed(keys, T0 + timedelta(seconds=62))
    assert throttle.retry_after(keys, T0 + timedelta(seconds=63)) == 7

    [stored] = list(client.scan_iter(f"{prefix}:*"))
    assert b"ada" not in stored and 0 < client.ttl(stored) <= 60  # hashed, and gone with the window
    throttle.succeeded("email", "ada@example.com")
    assert throttle.retry_after(keys, T0 + timedelta(seconds=63)) == 0
    client.close()


def test_an_unreachable_redis_is_a_503_not_an_unthrottled_attempt(settings: Settings, demo_db: object) -> None:
    down = settings.model_copy(update={"redis_url": "redis://127.0.0.1:9/0"})
    with _replica(down) as replica:
        answer = replica.post("/api/v1/identity/verify-order",
                              json={"order_number": "C-100001", "email": "guess@example.com"})
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert "try again" in answer.json()["detail"]
