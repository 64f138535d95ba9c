"""The console's cookie session: cookie flags, CSRF on state-changing requests, bearer tokens unaffected, logout
revokes; the customer panel and canned replies of the agent API, only for escalations the agent may see."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from fixtures_human_support import BOT, add_agent, agent_headers, hs_settings, packet
from sqlalchemy.orm import Session, sessionmaker

from routing.agents.deps import SESSION_COOKIE
from routing.app import create_app
from routing.customers.schemas import CustomerIn
from routing.customers.service import create_customer
from routing.orders.schemas import OrderIn
from routing.orders.service import create_order
from routing.policy.loader import load_policy

AGENT = "/api/v1/agent"


def _cookie_login(client: TestClient, login: str) -> tuple[str, str]:
    """Sign in like the console; returns (the raw Set-Cookie header, the CSRF token)."""
    response = client.post(f"{AGENT}/login", json={"login": login, "password": "pw", "session": "cookie"})
    response.raise_for_status()
    body = response.json()
    assert body["token"] is None and body["csrf_token"]  # the session token never reaches the page's script
    return response.headers["set-cookie"], body["csrf_token"]


def test_cookie_session_flags_csrf_and_logout(hs_client: TestClient, hs_sessions: sessionmaker[Session]) -> None:
    add_agent(hs_sessions, "carol", ["general"], status="offline")
    set_cookie, csrf = _cookie_login(hs_client, "carol")
    attributes = [part.strip().lower() for part in set_cookie.split(";")]
    assert attributes[0].startswith(f"{SESSION_COOKIE}=")
    assert {"httponly", "samesite=strict", "path=/"} <= set(attributes)
    assert "secure" not in attributes  # development over plain http; production sets Secure (test below)

    # reads need only the cookie; /me hands out the same CSRF token again (after a page reload)
    me = hs_client.get(f"{AGENT}/me")
    assert me.status_code == 200 and me.json()["login"] == "carol" and me.json()["csrf_token"] == csrf

    # a state-changing request with the cookie but without (or with a wrong) CSRF token is refused, nothing changes
    for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": csrf[:-1] + ("0" if csrf[-1] != "0" else "1")}):
        refused = hs_client.post(f"{AGENT}/status", json={"status": "online"}, headers=headers)
        assert refused.status_code == 403
        assert "X-CSRF-Token" in refused.json()["detail"]
    assert hs_client.get(f"{AGENT}/me").json()["status"] == "offline"
    ok = hs_client.post(f"{AGENT}/status", json={"status": "online"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200 and ok.json()["status"] == "online"

    # another session's CSRF token does not fit this session
    other = TestClient(hs_client.app)
    _, other_csrf = _cookie_login(other, "carol")
    assert other_csrf != csrf
    assert hs_client.post(f"{AGENT}/status", json={"status": "away"},
                          headers={"X-CSRF-Token": other_csrf}).status_code == 403

    # a bearer token (API clients) needs no CSRF token, and gets none from /me
    bearer = agent_headers(hs_client, "carol")
    api = TestClient(hs_client.app)  # no cookie jar shared with the console
    assert api.post(f"{AGENT}/status", json={"status": "away"}, headers=bearer).status_code == 200
    assert api.get(f"{AGENT}/me", headers=bearer).json()["csrf_token"] is None

    # logout needs the CSRF token too, then clears the cookie and revokes the session on the server
    assert hs_client.post(f"{AGENT}/logout").status_code == 403
    cookie_value = hs_client.cookies.get(SESSION_COOKIE)
    out = hs_client.post(f"{AGENT}/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    cleared = [part.strip().lower() for part in out.headers["set-cookie"].split(";")]
    assert cleared[0] in (f'{SESSION_COOKIE}=""', f"{SESSION_COOKIE}=") and "max-age=0" in cleared
    assert hs_client.get(f"{AGENT}/me").status_code == 401
    replay = TestClient(hs_client.app, cookies={SESSION_COOKIE: cookie_value})  # a copied cookie is dead too
    assert replay.get(f"{AGENT}/me").status_code == 401
    assert replay.get(f"{AGENT}/stream").status_code == 401
    assert hs_client.get(f"{AGENT}/me", headers=bearer).json()["status"] == "offline"  # signing out goes offline


def test_production_cookie_is_secure(hs_db_url: str, hs_policy: Path, hs_sessions: sessionmaker[Session]) -> None:
    settings = hs_settings(hs_db_url, hs_policy).model_copy(update={"env": "production"})
    add_agent(hs_sessions, "carol", ["general"])
    app = create_app(settings)
    try:
        with TestClient(app, base_url="https://testserver") as client:
            set_cookie, _ = _cookie_login(client, "carol")
            assert "secure" in [part.strip().lower() for part in set_cookie.split(";")]
    finally:
        app.state.engine.dispose()


@pytest.fixture
def shop(hs_sessions: sessionmaker[Session], hs_policy: Path) -> int:
    """One verified customer with six orders; returns the customer's id."""
    policy = load_policy(hs_policy)
    placed = datetime(2026, 10, 1, tzinfo=timezone.utc)
    with hs_sessions() as session:
        customer = create_customer(session, policy, CustomerIn(external_id="pat", name="Pat <b>Doe</b>",
                                                               email="pat@example.com"))
        for n in range(6):
            create_order(session, policy, OrderIn(number=f"C-9000{n}", customer_external_id="pat",
                                                  status="delivered" if n < 5 else "shipped",
                                                  placed_at=placed + timedelta(days=n), total_cents=10000 + n))
        session.commit()
        return customer.id


def test_customer_panel_and_canned_replies_only_for_my_queues(
        hs_client: TestClient, hs_sessions: sessionmaker[Session], shop: int) -> None:
    add_agent(hs_sessions, "alice", ["vip"])
    add_agent(hs_sessions, "carol", ["general"])
    alice, carol = agent_headers(hs_client, "alice"), agent_headers(hs_client, "carol")
    esc = hs_client.post("/api/v1/escalations", headers=BOT, json=packet(
        "conv-vip", queue="vip", customer_id=shop, tier="platinum", sla_seconds=60, contact=None)).json()

    detail = hs_client.get(f"{AGENT}/escalations/{esc['id']}", headers=alice).json()
    panel = detail["customer"]
    assert detail["customer_name"] == panel["name"] == "Pat <b>Doe</b>"
    assert panel["orders_total"] == 6 and panel["lifetime_spend_cents"] == 6 * 10000 + 15
    assert isinstance(panel["lifetime_value"], float)
    assert [o["number"] for o in panel["recent_orders"]] == ["C-90005", "C-90004", "C-90003", "C-90002", "C-90001"]
    assert panel["recent_orders"][0] == {"number": "C-90005", "status": "shipped", "total_cents": 10005,
                                         "currency": "USD", "placed_at": "2026-10-06T00:00:00Z"}
    assert detail["sla_seconds"] == 60 and detail["sla_due_at"]
    listed = hs_client.get(f"{AGENT}/escalations", headers=alice).json()
    assert listed[0]["sla_seconds"] == 60 and "customer" not in listed[0]  # lists carry no customer data

    canned = hs_client.get(f"{AGENT}/escalations/{esc['id']}/canned-replies", headers=alice).json()
    by_id = {c["id"]: c["text"] for c in canned}
    assert by_id["greeting"].startswith("Hi Pat <b>Doe</b>, this is Alice.")
    assert "vip_thanks" in by_id and "{" not in "".join(by_id.values())

    # carol (general) sees neither the packet, the customer panel nor the vip canned replies
    for path in ("", "/canned-replies"):
        hidden = hs_client.get(f"{AGENT}/escalations/{esc['id']}{path}", headers=carol)
        assert hidden.status_code == 404 and "Pat" not in hidden.text
    guest = hs_client.post("/api/v1/escalations", json=packet("conv-guest", contact=None), headers=BOT).json()
    guest_detail = hs_client.get(f"{AGENT}/escalations/{guest['id']}", headers=carol).json()
    assert guest_detail["customer"] is None
    guest_canned = hs_client.get(f"{AGENT}/escalations/{guest['id']}/canned-replies", headers=carol).json()
    assert "vip_thanks" not in {c["id"] for c in guest_canned}
    assert {c["id"]: c["text"] for c in guest_canned}["greeting"].startswith("Hi there, this is Carol.")


def test_no_agent_action_reaches_another_queues_escalation(hs_client: TestClient,
                                                           hs_sessions: sessionmaker[Session]) -> None:
    add_agent(hs_sessions, "alice", ["vip"])
    add_agent(hs_sessions, "carol", ["general"])
    alice, carol = agent_headers(hs_client, "alice"), agent_headers(hs_client, "carol")
    esc_id = hs_client.post("/api/v1/escalations", json=packet("conv-vip2", queue="vip"), headers=BOT).json()["id"]
    url = f"{AGENT}/escalations/{esc_id}"
    attempts = [("post", "/claim", None), ("post", "/messages", {"text": "hi"}), ("post", "/notes", {"text": "n"}),
                ("post", "/transfer", {"queue": "general", "reason": "mine now"}),
                ("post", "/resolve", {"disposition": "resolved"}), ("post", "/handback", {}),
                ("get", "", None), ("get", "/canned-replies", None)]
    for method, path, body in attempts:
        response = hs_client.request(method, url + path, json=body, headers=carol)
        assert response.status_code == 404, (path, response.text)
        assert response.json() == {"detail": "Escalation not found."}
    assert hs_client.get(f"{AGENT}/escalations", params={"queue": "vip"}, headers=carol).status_code == 403
    assert all(e["id"] != esc_id for e in hs_client.get(f"{AGENT}/escalations", headers=carol).json())
    untouched = hs_client.get(url, headers=alice).json()
    assert untouched["status"] == "waiting" and untouched["queue"] == "vip"
    assert untouched["messages"] == [] and untouched["notes"] == [] and len(untouched["events"]) == 1
