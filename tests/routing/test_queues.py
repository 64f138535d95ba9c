"""Queue order (priority aged by waiting, then SLA due), availability, closed and unstaffed queues, authorization."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from fixtures_human_support import BOT, add_agent, agent_headers, hs_policy_file, hs_settings, packet
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from routing.app import create_app
from routing.escalations import claims, service
from routing.escalations.models import Escalation
from routing.escalations.schemas import EscalationIn
from routing.policy.loader import load_policy
from routing.queues.service import next_open_at, position_of, waiting_in_order

pytestmark = pytest.mark.clock  # about hours, SLAs, expiry or dates: CI runs it at other instants too


def test_claim_order_priority_aged_by_waiting_then_sla(hs_sessions: sessionmaker[Session], hs_policy: Path) -> None:
    policy = load_policy(hs_policy)
    aging = policy.fairness.aging  # +1 per seconds_per_point waited, at most max_bonus
    now = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
    agent = add_agent(hs_sessions, "carol", ["general"], max_chats=10)

    def esc(name: str, priority: int, waited: int, sla: int | None) -> int:
        with hs_sessions.begin() as s:  # the caller owns the transaction
            return service.create(s, EscalationIn(conversation_id=name, idempotency_key=name, tier="bronze",
                                                  queue="general", priority=priority, sla_seconds=sla),
                                  policy, now=now - timedelta(seconds=waited))[0].id

    fresh_high = esc("fresh-high", 50, 0, 3600)                                # effective 50
    old_low = esc("old-low", 10, 45 * aging.seconds_per_point, 3600)           # 10 + 45 = 55: aged past fresh-high
    ancient = esc("ancient", 0, 10_000 * aging.seconds_per_point, None)        # 0 + max_bonus (capped)
    tie_late_sla = esc("tie-late-sla", 50, 0, 7200)                            # 50, later SLA than fresh-high
    tie_no_sla = esc("tie-no-sla", 50, 0, None)                                # 50, no SLA: last among ties
    low = esc("low", 10, 0, 60)

    with hs_sessions() as s:  # the customers' places in line follow the same order, one COUNT each
        waiting = [row.id for row in waiting_in_order(s, "general", policy, now)]
        statements: list[str] = []

        def record(conn: object, cursor: object, sql: str, *rest: object) -> None:
            statements.append(sql)

        event.listen(s.get_bind(), "before_cursor_execute", record)
        try:
            places = {e: position_of(s, s.get_one(Escalation, e), policy, now) for e in waiting}
        finally:
            event.remove(s.get_bind(), "before_cursor_execute", record)
    assert sum("count(" in sql.lower() for sql in statements) == len(waiting)
    assert not any("transcript" in sql for sql in statements if "count(" in sql.lower())

    order = []
    with hs_sessions() as s:
        while (got := claims.claim_next(s, agent, policy, now=now)) is not None:
            order.append(got.id)
            s.commit()
    assert aging.max_bonus > 55  # so the capped bonus still puts `ancient` first
    assert order == [ancient, old_low, fresh_high, tie_late_sla, tie_no_sla, low] == waiting
    assert [places[e] for e in order] == [1, 2, 3, 4, 5, 6]


def test_availability_position_and_eta(hs_client: TestClient, hs_sessions: sessionmaker[Session]) -> None:
    nobody = hs_client.get("/api/v1/queues/general/availability", headers=BOT).json()
    assert {k: v for k, v in nobody.items() if k != "now"} == {
        "queue": "general", "display_name": "Customer service", "open": True, "staffed": False, "online_agents": 0,
        "waiting": 0, "estimated_wait_seconds": None, "next_open_at": None, "closes_at": None,
        "hours": {"timezone": "UTC", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "open": "00:00",
                  "close": "24:00"}, "out_of_hours": "ticket"}
    add_agent(hs_sessions, "carol", ["general"], max_chats=1)
    add_agent(hs_sessions, "dave", ["general"], max_chats=1, status="away")
    positions = [hs_client.post("/api/v1/escalations", json=packet(f"c{n}"), headers=BOT).json() for n in range(3)]
    assert [p["position"] for p in positions] == [1, 2, 3]
    assert positions[0]["estimated_wait_seconds"] == 0  # a free slot is waiting for it
    assert positions[2]["estimated_wait_seconds"] == 2 * 300  # two ahead of the free slot, default handle time
    now = hs_client.get("/api/v1/queues/general/availability", headers=BOT).json()
    assert now["staffed"] and now["online_agents"] == 1 and now["waiting"] == 3
    assert hs_client.get("/api/v1/queues/nope/availability", headers=BOT).status_code == 404
    assert hs_client.get("/api/v1/queues/general/availability").status_code == 401


def test_unstaffed_queue_offers_a_callback(hs_client: TestClient) -> None:
    body = hs_client.post("/api/v1/escalations", json=packet("lonely", queue="vip"), headers=BOT).json()
    assert body["status"] == "waiting" and not body["staffed"] and body["alternative"] == "callback"
    bad = hs_client.post(f"/api/v1/escalations/{body['id']}/callback", json={"contact": {"email": "nope"}},
                         headers=BOT)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-2:] == ["contact", "email"]
    taken = hs_client.post(f"/api/v1/escalations/{body['id']}/callback",
                           json={"contact": {"phone": "+1 555 0100", "name": "Pat"}}, headers=BOT).json()
    assert taken["status"] == "callback_requested" and taken["alternative"] == "callback"


def test_closed_queue_gives_ticket_or_callback_with_contact(hs_db_url: str, tmp_path: Path) -> None:
    policy_file = hs_policy_file(tmp_path, closed=("general", "vip"))
    with TestClient(create_app(hs_settings(hs_db_url, policy_file))) as client:
        assert client.get("/api/v1/queues/general/availability", headers=BOT).json()["open"] is False
        ticket = client.post("/api/v1/escalations", json=packet("closed-1"), headers=BOT).json()
        assert ticket["status"] == "ticket" and ticket["alternative"] == "ticket" and not ticket["queue_open"]
        callback = client.post("/api/v1/escalations", json=packet("closed-2", queue="vip"), headers=BOT).json()
        assert callback["status"] == "callback_requested" and callback["alternative"] == "callback"
        add_agent(client.app.state.sessions, "alice", ["vip", "general"])
        alice = agent_headers(client, "alice")
        listed = client.get("/api/v1/agent/escalations", headers=alice).json()
        assert {e["status"] for e in listed} == {"ticket", "callback_requested"}
        packet_seen = client.get(f"/api/v1/agent/escalations/{ticket['id']}", headers=alice).json()
        assert packet_seen["contact"]["email"] == "pat@example.com"
        client.app.state.engine.dispose()


def test_next_open_at(tmp_path: Path) -> None:
    hours = load_policy(Path(__file__).resolve().parents[2] / "routing" / "policy.yml").queue("general").business_hours
    friday_evening = datetime(2026, 11, 27, 23, 0, tzinfo=timezone.utc)  # 18:00 New York, after closing
    opens = next_open_at(hours, friday_evening)
    assert opens == datetime(2026, 11, 30, 14, 0, tzinfo=timezone.utc)  # Monday 09:00 New York


def test_agent_of_general_cannot_list_read_or_claim_vip(hs_client: TestClient,
                                                         hs_sessions: sessionmaker[Session]) -> None:
    add_agent(hs_sessions, "carol", ["general"])
    add_agent(hs_sessions, "alice", ["vip"])
    carol, alice = agent_headers(hs_client, "carol"), agent_headers(hs_client, "alice")
    vip = hs_client.post("/api/v1/escalations", json=packet("vip-1", queue="vip", priority=100), headers=BOT).json()

    assert hs_client.get("/api/v1/agent/escalations", params={"queue": "vip"}, headers=carol).status_code == 403
    assert [e["queue"] for e in hs_client.get("/api/v1/agent/escalations", headers=carol).json()] == []
    assert hs_client.get(f"/api/v1/agent/escalations/{vip['id']}", headers=carol).status_code == 404
    assert hs_client.post(f"/api/v1/agent/escalations/{vip['id']}/claim", headers=carol).status_code == 404
    assert hs_client.post(f"/api/v1/agent/escalations/{vip['id']}/notes", json={"text": "x"},
                          headers=carol).status_code == 404
    assert hs_client.post("/api/v1/agent/escalations/claim-next", json={"queues": ["vip"]},
                          headers=carol).status_code == 204
    assert [q["name"] for q in hs_client.get("/api/v1/agent/queues", headers=carol).json()] == ["general"]

    mine = hs_client.get("/api/v1/agent/queues", headers=alice).json()
    assert mine[0]["name"] == "vip" and mine[0]["waiting"] == 1 and mine[0]["oldest_waiting_at"]
    assert hs_client.post("/api/v1/agent/escalations/claim-next", headers=alice).json()["id"] == vip["id"]
