"""Escalation lifecycle over HTTP: handoff packet, claim, reply, notes, transfer, resolve, handback, audit trail."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from fixtures_human_support import BOT, CSAT_SECRET, Recorder, add_agent, agent_headers, eventually, packet
from sqlalchemy.orm import Session, sessionmaker

from routing.escalations.claims import JOINED_MESSAGE
from routing.escalations.rating_keys import rating_key

pytestmark = pytest.mark.clock  # about hours, SLAs, expiry or dates: CI runs it at other instants too


def test_full_lifecycle_with_packet_messages_notes_and_audit(
        hs_client: TestClient, hs_sessions: sessionmaker[Session], hs_recorder: Recorder) -> None:
    add_agent(hs_sessions, "carol", ["general"])
    carol = agent_headers(hs_client, "carol")

    created = hs_client.post("/api/v1/escalations", json=packet("conv-1"), headers=BOT)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "waiting" and body["position"] == 1 and body["staffed"] and body["queue_open"]
    assert body["alternative"] is None and body["expires_at"] and body["estimated_wait_seconds"] == 0

    # the same idempotency key, or the same open conversation, never opens a second escalation
    again = hs_client.post("/api/v1/escalations", json=packet("conv-1"), headers=BOT)
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    other_key = hs_client.post("/api/v1/escalations", json={**packet("conv-1"), "idempotency_key": "k2"}, headers=BOT)
    assert other_key.status_code == 200 and other_key.json()["id"] == body["id"]
    assert hs_client.get("/api/v1/escalations/open", params={"conversation_id": "conv-1"},
                         headers=BOT).json()["id"] == body["id"]

    msg = {"text": "hello, anyone?", "idempotency_key": "m1"}
    first = hs_client.post(f"/api/v1/escalations/{body['id']}/customer-messages", json=msg, headers=BOT)
    dup = hs_client.post(f"/api/v1/escalations/{body['id']}/customer-messages", json=msg, headers=BOT)
    assert first.status_code == dup.status_code == 201 and first.json()["id"] == dup.json()["id"]

    claimed = hs_client.post("/api/v1/agent/escalations/claim-next", headers=carol)
    assert claimed.status_code == 200, claimed.text
    esc = claimed.json()
    assert esc["id"] == body["id"] and esc["status"] == "assigned"
    assert esc["facts"] == {"order_number": "C-100001"} and esc["summary"] == "Parcel is late."
    assert esc["transcript"][0]["text"] == "where is my parcel" and esc["tier_reason"] == "new customer"
    assert [m["text"] for m in esc["messages"]] == ["hello, anyone?"]

    url = f"/api/v1/agent/escalations/{esc['id']}"
    assert hs_client.post(f"{url}/notes", json={"text": "INTERNAL: customer seems upset"},
                          headers=carol).status_code == 201
    assert hs_client.post(f"{url}/messages", json={"text": "Hi, I am Carol."}, headers=carol).status_code == 201
    detail = hs_client.get(url, headers=carol).json()
    assert detail["status"] == "active" and detail["active_at"]
    assert [n["text"] for n in detail["notes"]] == ["INTERNAL: customer seems upset"]
    assert [m["sender"] for m in detail["messages"]] == ["customer", "agent"]

    bad = hs_client.post(f"{url}/resolve", json={"disposition": "made_up"}, headers=carol)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "disposition"]
    done = hs_client.post(f"{url}/resolve", json={"disposition": "resolved", "note": "tracking sent"}, headers=carol)
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    assert hs_client.get("/api/v1/escalations/open", params={"conversation_id": "conv-1"},
                         headers=BOT).status_code == 404

    trail = hs_client.get(url, headers=carol).json()["events"]
    assert [(e["kind"], e["to_status"]) for e in trail] == [
        ("created", "waiting"), ("claimed", "assigned"), ("first_reply", "active"), ("resolved", "resolved")]
    assert trail[1]["actor"] == "agent:carol" and trail[0]["actor"] == "bot"

    # relayed to Rasa: the agent's reply and the end of the handoff, never the note (the queue watcher may also have
    # sent the waiting customer a place-in-line update: those are not counted here)
    def ended() -> list[dict[str, object]]:
        return [b for b in hs_recorder.bodies("trigger_intent") if b.get("name") == "EXTERNAL_handoff_ended"]

    assert eventually(lambda: len(ended()) == 1, 5.0)
    sent = hs_recorder.bodies("/tracker/events")
    assert [body[0]["text"] for body in sent] == [JOINED_MESSAGE.format(agent="Carol"), "Hi, I am Carol."]
    # each call carries its outbox item's key, so that Rasa applies a repeated attempt once (bot_runtime/relay_once.py)
    keys = [body[0]["metadata"].pop("relay_id") for body in sent] + [ended()[0]["entities"].pop("relay_id")]
    assert len(set(keys)) == 3 and all(key.startswith("outbox:") for key in keys), keys
    assert sent[1][0]["metadata"] == {"agent": "Carol", "source": "human"}
    # and the key with which this conversation's customer, alone, may rate the chat (routing/analytics/csat.py)
    assert ended()[0]["entities"].pop("rating_key") == rating_key(CSAT_SECRET, esc["id"], "conv-1")
    assert ended()[0] == {
        "name": "EXTERNAL_handoff_ended", "entities": {"handoff_status": "resolved", "disposition": "resolved"}}
    everything = repr(hs_recorder.requests) + repr(created.json()) + repr(again.json())
    assert "INTERNAL" not in everything and "tracking sent" not in everything
    assert hs_recorder.requests[0]["query"]["token"] == ["rasa-test-token"]


def test_transfer_and_handback(hs_client: TestClient, hs_sessions: sessionmaker[Session]) -> None:
    add_agent(hs_sessions, "carol", ["general"])
    add_agent(hs_sessions, "bob", ["priority", "general"])
    carol, bob = agent_headers(hs_client, "carol"), agent_headers(hs_client, "bob")
    esc_id = hs_client.post("/api/v1/escalations", json=packet("conv-t"), headers=BOT).json()["id"]
    hs_client.post(f"/api/v1/agent/escalations/{esc_id}/claim", headers=carol).raise_for_status()

    # only the handling agent may act on it
    assert hs_client.post(f"/api/v1/agent/escalations/{esc_id}/messages", json={"text": "x"},
                          headers=bob).status_code == 409
    unknown = hs_client.post(f"/api/v1/agent/escalations/{esc_id}/transfer", json={"queue": "nope", "reason": "r"},
                             headers=carol)
    assert unknown.status_code == 422
    moved = hs_client.post(f"/api/v1/agent/escalations/{esc_id}/transfer",
                           json={"queue": "priority", "reason": "needs a specialist"}, headers=carol)
    assert moved.status_code == 200 and moved.json()["queue"] == "priority" and moved.json()["status"] == "waiting"
    assert hs_client.get(f"/api/v1/agent/escalations/{esc_id}", headers=carol).status_code == 404

    got = hs_client.post("/api/v1/agent/escalations/claim-next", json={"queues": ["priority"]}, headers=bob)
    assert got.status_code == 200 and got.json()["id"] == esc_id
    back = hs_client.post(f"/api/v1/agent/escalations/{esc_id}/handback", json={"note": "bot can take it"},
                          headers=bob)
    assert back.status_code == 200 and back.json()["status"] == "returned_to_bot"
    events = hs_client.get(f"/api/v1/agent/escalations/{esc_id}", headers=bob).json()["events"]
    assert [e["kind"] for e in events] == ["created", "claimed", "transferred", "claimed", "handed_back"]
    assert "needs a specialist" in events[2]["reason"]
    assert hs_client.post("/api/v1/agent/escalations/claim-next", headers=bob).status_code == 204


def test_capacity_and_bad_input(hs_client: TestClient, hs_sessions: sessionmaker[Session]) -> None:
    add_agent(hs_sessions, "carol", ["general"], max_chats=1)
    carol = agent_headers(hs_client, "carol")
    for n in range(2):
        hs_client.post("/api/v1/escalations", json=packet(f"conv-c{n}"), headers=BOT).raise_for_status()
    assert hs_client.post("/api/v1/agent/escalations/claim-next", headers=carol).status_code == 200
    full = hs_client.post("/api/v1/agent/escalations/claim-next", headers=carol)
    assert full.status_code == 409 and "1 of 1" in full.json()["detail"]

    bad = hs_client.post("/api/v1/escalations", json={**packet("conv-bad"), "priority": -1, "queue": ""}, headers=BOT)
    assert bad.status_code == 422
    assert {tuple(e["loc"]) for e in bad.json()["detail"]} == {("body", "priority"), ("body", "queue")}
    unknown = hs_client.post("/api/v1/escalations", json=packet("conv-x", queue="nope"), headers=BOT)
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "queue"]
    assert hs_client.post("/api/v1/escalations", json=packet("conv-y")).status_code == 401
    assert hs_client.get("/api/v1/agent/me").status_code == 401
    assert hs_client.post("/api/v1/agent/login", json={"login": "carol", "password": "nope"}).status_code == 401
