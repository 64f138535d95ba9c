"""PostgreSQL drops the routing service's connections, then refuses new ones for a while: the service heals without
a restart (pool pre-ping), answers 503 (not 500) while the database is gone, and its background workers (expiry,
outbox delivery) fail a few rounds, log it, and carry on once the database is back."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml
from psycopg import sql

from launcher.settings import ALWAYS_OPEN, ROOT
from tests.reliability.polling import wait_for
from tests.reliability.recorder import recorder
from tests.reliability.routing_service import init_database, routing_service
from tests.routing.pg import PG_ADMIN, drop_database, fresh_database

pytestmark = pytest.mark.postgres
PG_DB = "concierge_test_reliability" + os.environ.get("CONCIERGE_TEST_DB_SUFFIX", "")


@pytest.fixture
def pg_url() -> Iterator[tuple[str, str]]:
    name, url = fresh_database(PG_DB)
    yield name, url
    drop_database(name)


def admin(statement: sql.Composable, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
        cur = conn.execute(statement, params or None)
        return cur.fetchall() if cur.description else []


def terminate_connections(database: str) -> int:
    """pg_terminate_backend on every connection to `database`; how many there were."""
    rows = admin(sql.SQL("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"), database)
    return sum(1 for (done,) in rows if done)


def allow_connections(database: str, allowed: bool) -> None:
    admin(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(sql.Identifier(database),
                                                                    sql.SQL("true" if allowed else "false")))


def quick_expiry_policy(path: Path) -> Path:
    """The project's policy, every queue open around the clock, and the general queue's wait limit one second."""
    policy = yaml.safe_load((ROOT / "routing" / "policy.yml").read_text())
    for queue in policy["queues"]:
        queue["business_hours"] = dict(ALWAYS_OPEN)
        if queue["name"] == "general":
            queue["escalation_timeout_seconds"] = 1
    path.write_text(yaml.safe_dump(policy, sort_keys=False))
    return path


def traffic(client: httpx.Client, i: int) -> list[int]:
    """One round of what the bot asks: a decision (a write), a customer look-up and the policy (reads)."""
    decision = client.post("/api/v1/decisions", json={"conversation_id": f"hiccup-{i}", "intent": "track_order"})
    lookup = client.get("/api/v1/customers/lookup", params={"external_id": "demo-gold"})
    policy = client.get("/api/v1/policy")
    return [decision.status_code, lookup.status_code, policy.status_code]


def packet(conversation_id: str) -> dict[str, Any]:
    return {"conversation_id": conversation_id, "idempotency_key": f"esc-{conversation_id}", "tier": "bronze",
            "queue": "general", "priority": 10, "reason": "asked for a human", "intent": "human_handoff",
            "summary": "Parcel is late."}


def test_dropped_and_refused_connections_heal_without_a_restart(pg_url: tuple[str, str], tmp_path: Path) -> None:
    name, url = pg_url
    policy = quick_expiry_policy(tmp_path / "policy.yml")
    init_database(url, policy)
    with recorder() as rasa, routing_service(url, policy, tmp_path / "service.log", rasa_url=rasa.url) as service, \
            httpx.Client(base_url=service.url, headers={"Authorization": "Bearer reliability-service-token"},
                         timeout=15) as client:
        before = Counter(code for i in range(20) for code in traffic(client, i))
        assert before == {200: 60}

        # 1. every connection of the service is dropped (as by a PostgreSQL restart)
        dropped = terminate_connections(name)
        assert dropped >= 1
        after_drop = Counter(code for i in range(20, 40) for code in traffic(client, i))
        print(f"\ndrill: {dropped} connections terminated; next 60 requests: {dict(after_drop)}")
        assert after_drop == {200: 60}, "a dropped connection is replaced, not a failed request"

        # 2. the database refuses connections for a while
        allow_connections(name, False)
        try:
            terminate_connections(name)
            refused = client.post("/api/v1/decisions", json={"conversation_id": "down", "intent": "track_order"})
            assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
            health = client.get("/health")
            assert health.status_code == 503 and health.json()["status"] == "unavailable"
            outage = wait_for(lambda: all(f"{worker} failed; retrying" in service.log()
                                          for worker in ("outbox delivery", "escalation expiry")),
                              "both workers notice the outage")
        finally:
            allow_connections(name, True)
        failed_rounds = Counter(w for w in ("outbox delivery", "escalation expiry", "queue updates")
                                for _ in range(service.log().count(f"{w} failed; retrying")))

        # 3. back: the same process serves again, and its workers resume (expiry, then delivery to Rasa)
        after_outage = Counter(code for i in range(40, 50) for code in traffic(client, i))
        assert after_outage == {200: 30}
        created = client.post("/api/v1/escalations", json=packet("hiccup-expiry"))
        assert created.status_code in (200, 201), created.text
        resumed = wait_for(lambda: any(body.get("name") == "EXTERNAL_handoff_ended"
                                       for body in rasa.bodies("/conversations/hiccup-expiry/trigger_intent")),
                           "the escalation expires and the bot is told")
        assert service.proc.poll() is None, "never restarted"
        assert client.get("/health").json()["status"] == "ok"
    print(f"drill: outage of {outage:.0f}s, failed worker rounds {dict(failed_rounds)}; after it 30/30 requests ok, "
          f"the expiry and the delivery to Rasa done {resumed:.0f}s after the escalation was created")
