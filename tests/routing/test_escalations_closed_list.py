"""The service-side list of closed escalations that bot trainers export (GET /api/v1/escalations)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from fixtures_human_support import BOT, add_agent, agent_headers, packet
from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from routing.customers.models import Customer

pytestmark = pytest.mark.clock  # about hours, SLAs, expiry or dates: CI runs it at other instants too


def _customer(sessions: sessionmaker[Session], name: str) -> int:
    with sessions() as session:
        customer = Customer(external_id=f"ext-{name}", name=name, email="x@example.com", email_lower="x@example.com")
        session.add(customer)
        session.commit()
        return customer.id


def test_lists_closed_escalations_with_the_customer_name(hs_client: TestClient,
                                                         hs_sessions: sessionmaker[Session]) -> None:
    add_agent(hs_sessions, "carol", ["general"], max_chats=5)
    carol = agent_headers(hs_client, "carol")
    named = _customer(hs_sessions, "Ines Navarro")
    ids = {}
    for conv in ("conv-res", "conv-back", "conv-open"):
        body = packet(conv, customer_id=named if conv == "conv-res" else None)
        ids[conv] = hs_client.post("/api/v1/escalations", json=body, headers=BOT).json()["id"]
        hs_client.post(f"/api/v1/agent/escalations/{ids[conv]}/claim", headers=carol).raise_for_status()
    url = "/api/v1/agent/escalations"
    hs_client.post(f"{url}/{ids['conv-res']}/notes", json={"text": "INTERNAL note"}, headers=carol).raise_for_status()
    hs_client.post(f"{url}/{ids['conv-res']}/resolve", json={"disposition": "info_provided"},
                   headers=carol).raise_for_status()
    hs_client.post(f"{url}/{ids['conv-back']}/handback", json={}, headers=carol).raise_for_status()

    listed = hs_client.get("/api/v1/escalations", headers=BOT)
    assert listed.status_code == 200, listed.text
    rows = {r["conversation_id"]: r for r in listed.json()}
    assert set(rows) == {"conv-res", "conv-back"}  # the open one is not finished
    assert rows["conv-res"]["status"] == "resolved" and rows["conv-res"]["disposition"] == "info_provided"
    assert rows["conv-res"]["customer_name"] == "Ines Navarro" and rows["conv-res"]["closed_at"]
    assert rows["conv-back"]["status"] == "returned_to_bot" and rows["conv-back"]["customer_name"] is None
    assert rows["conv-res"]["facts"] == {"order_number": "C-100001"} and rows["conv-res"]["contact"]["name"] == "Pat"
    assert "INTERNAL" not in listed.text  # notes stay with the agents

    only_resolved = hs_client.get("/api/v1/escalations", params={"status": "resolved"}, headers=BOT).json()
    assert [r["conversation_id"] for r in only_resolved] == ["conv-res"]
    future = (utcnow() + timedelta(hours=1)).isoformat()
    assert hs_client.get("/api/v1/escalations", params={"since": future}, headers=BOT).json() == []
    past = (utcnow() - timedelta(hours=1)).replace(tzinfo=None).isoformat()  # naive = UTC
    assert len(hs_client.get("/api/v1/escalations", params={"since": past}, headers=BOT).json()) == 2


def test_bad_filters_and_missing_token_are_refused(hs_client: TestClient) -> None:
    assert hs_client.get("/api/v1/escalations").status_code == 401
    agent_token_is_not_enough = hs_client.get("/api/v1/escalations", headers={"Authorization": "Bearer nope"})
    assert agent_token_is_not_enough.status_code == 401
    bad = hs_client.get("/api/v1/escalations", params={"status": "resolved,waiting"}, headers=BOT)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "status"]
    assert "waiting" in bad.json()["detail"][0]["msg"]
    bad_since = hs_client.get("/api/v1/escalations", params={"since": "yesterday"}, headers=BOT)
    assert bad_since.status_code == 422 and bad_since.json()["detail"][0]["loc"] == ["query", "since"]
    assert hs_client.get("/api/v1/escalations", params={"limit": 0}, headers=BOT).status_code == 422
