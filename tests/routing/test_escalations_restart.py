"""A restart of the routing service loses nothing: waiting escalations, live conversations, notes, audit trail."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from fixtures_human_support import BOT, add_agent, agent_headers, hs_settings, packet

from routing.app import create_app
from routing.db import upgrade


def test_everything_survives_a_restart(tmp_path: Path, hs_policy: Path) -> None:
    url = f"sqlite:///{tmp_path / 'restart.db'}"
    upgrade(url)
    app = create_app(hs_settings(url, hs_policy))
    with TestClient(app) as client:
        add_agent(app.state.sessions, "carol", ["general"])
        carol = agent_headers(client, "carol")
        live = client.post("/api/v1/escalations", json=packet("live"), headers=BOT).json()
        waiting = client.post("/api/v1/escalations", json=packet("waiting"), headers=BOT).json()
        client.post(f"/api/v1/escalations/{live['id']}/customer-messages", json={"text": "hi", "idempotency_key": "1"},
                    headers=BOT).raise_for_status()
        client.post(f"/api/v1/agent/escalations/{live['id']}/claim", headers=carol).raise_for_status()
        client.post(f"/api/v1/agent/escalations/{live['id']}/messages", json={"text": "hello"},
                    headers=carol).raise_for_status()
        client.post(f"/api/v1/agent/escalations/{live['id']}/notes", json={"text": "vip soon"},
                    headers=carol).raise_for_status()
    app.state.engine.dispose()

    again = create_app(hs_settings(url, hs_policy))
    with TestClient(again) as client:
        assert client.get("/api/v1/agent/me", headers=carol).json()["login"] == "carol"  # token still valid
        detail = client.get(f"/api/v1/agent/escalations/{live['id']}", headers=carol).json()
        assert detail["status"] == "active" and detail["agent_id"] is not None
        assert [m["text"] for m in detail["messages"]] == ["hi", "hello"]
        assert [n["text"] for n in detail["notes"]] == ["vip soon"]
        assert [e["kind"] for e in detail["events"]] == ["created", "claimed", "first_reply"]
        still = client.get("/api/v1/escalations/open", params={"conversation_id": "waiting"}, headers=BOT).json()
        assert still["id"] == waiting["id"] and still["status"] == "waiting" and still["position"] == 1
        dup = client.post("/api/v1/escalations", json=packet("waiting"), headers=BOT)
        assert dup.status_code == 200 and dup.json()["id"] == waiting["id"]
    again.state.engine.dispose()
