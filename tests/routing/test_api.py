"""HTTP API of customers, orders, identity and decisions."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from routing.decisions.models import RoutingDecision
from routing.policy.definition import Policy
from routing.settings import ROOT, Settings

SECRET = "test-identity-secret-of-32-bytes-or-more"


def customer_id(client: TestClient, external_id: str) -> int:
    response = client.get("/api/v1/customers/lookup", params={"external_id": external_id})
    response.raise_for_status()
    return int(response.json()["id"])


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/v1/customers/1"), ("GET", "/api/v1/customers/lookup?email=a@b.c"),
    ("GET", "/api/v1/customers/1/orders"), ("POST", "/api/v1/decisions"), ("POST", "/api/v1/identity/verify"),
    ("GET", "/api/v1/policy"),
])
def test_every_endpoint_needs_the_service_token(client: TestClient, method: str, path: str) -> None:
    assert client.request(method, path, headers={"Authorization": ""}).status_code == 401
    assert client.request(method, path, headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_lookup_by_each_key_gives_the_same_customer(client: TestClient) -> None:
    by_id = client.get("/api/v1/customers/lookup", params={"external_id": "demo-platinum"}).json()
    assert by_id["tier"] == "platinum" and by_id["email"] == "platinum@example.com"
    assert set(by_id) == {"id", "external_id", "name", "email", "tier", "tier_reason", "tier_policy_version"}
    by_email = client.get("/api/v1/customers/lookup", params={"email": "PLATINUM@example.com"}).json()
    orders = client.get(f"/api/v1/customers/{by_id['id']}/orders", params={"limit": 1}).json()["orders"]
    by_order = client.get("/api/v1/customers/lookup", params={"order_number": orders[0]["number"]}).json()
    assert by_id == by_email == by_order == client.get(f"/api/v1/customers/{by_id['id']}").json()


def test_lookup_needs_exactly_one_key_and_unknown_is_404(client: TestClient) -> None:
    for params in ({}, {"email": "platinum@example.com", "external_id": "demo-gold"}):
        response = client.get("/api/v1/customers/lookup", params=params)
        assert response.status_code == 422 and "exactly one" in response.json()["detail"][0]["msg"]
    assert client.get("/api/v1/customers/lookup", params={"external_id": "nobody"}).status_code == 404
    assert client.get("/api/v1/customers/999999").status_code == 404


def test_orders_newest_first_with_contract_fields(client: TestClient) -> None:
    cid = customer_id(client, "demo-gold")
    orders = client.get(f"/api/v1/customers/{cid}/orders", params={"limit": 5}).json()["orders"]
    assert len(orders) == 5
    assert [o["placed_at"] for o in orders] == sorted((o["placed_at"] for o in orders), reverse=True)
    shipped = next(o for o in orders if o["status"] == "shipped")
    assert shipped["tracking_number"] and shipped["carrier"] and shipped["delivered_at"] is None
    refund = next(o for o in orders if o["refund_status"] == "pending")
    assert refund["refund_amount"] == refund["total"] and refund["currency"] == "USD"
    assert all(i["unit_price"].count(".") == 1 for i in shipped["items"])
    one = client.get(f"/api/v1/customers/{cid}/orders/{shipped['number']}").json()
    assert one == shipped


def test_a_customer_cannot_read_another_customers_order(client: TestClient) -> None:
    gold, silver = customer_id(client, "demo-gold"), customer_id(client, "demo-silver")
    number = client.get(f"/api/v1/customers/{gold}/orders").json()["orders"][0]["number"]
    response = client.get(f"/api/v1/customers/{silver}/orders/{number}")
    assert response.status_code == 404 and number not in response.text


def test_verify_order_with_matching_email_only(client: TestClient) -> None:
    cid = customer_id(client, "demo-silver")
    number = client.get(f"/api/v1/customers/{cid}/orders").json()["orders"][0]["number"]
    ok = client.post("/api/v1/identity/verify-order", json={"order_number": number, "email": "Silver@Example.com"})
    assert ok.status_code == 200 and ok.json()["customer"]["external_id"] == "demo-silver"
    wrong = client.post("/api/v1/identity/verify-order", json={"order_number": number, "email": "gold@example.com"})
    unknown = client.post("/api/v1/identity/verify-order", json={"order_number": "C-1", "email": "gold@example.com"})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json() == {"detail": "No order matches that number and email."}


def test_verify_token_valid_expired_forged_unknown(client: TestClient) -> None:
    token = client.post("/api/v1/identity/demo-token", json={"external_id": "demo-gold"}).json()["token"]
    valid = client.post("/api/v1/identity/verify", json={"token": token})
    assert valid.status_code == 200 and valid.json()["customer"]["tier"] == "gold"
    now = utcnow()
    expires_at = datetime.fromisoformat(valid.json()["expires_at"])  # the caller trusts the token until then
    assert now < expires_at <= now + timedelta(hours=1, seconds=1)
    expired = jwt.encode({"sub": "demo-gold", "iat": now - timedelta(hours=2), "exp": now - timedelta(hours=1)},
                         SECRET, algorithm="HS256")
    forged = jwt.encode({"sub": "demo-platinum", "iat": now, "exp": now + timedelta(hours=1)},
                        "a-guessed-secret-of-32-bytes-or-more", algorithm="HS256")
    no_exp = jwt.encode({"sub": "demo-gold", "iat": now}, SECRET, algorithm="HS256")
    unknown = jwt.encode({"sub": "ghost", "iat": now, "exp": now + timedelta(hours=1)}, SECRET, algorithm="HS256")
    for bad in (expired, forged, no_exp, unknown, "not-a-jwt"):
        assert client.post("/api/v1/identity/verify", json={"token": bad}).status_code == 401
    assert "expired" in client.post("/api/v1/identity/verify", json={"token": expired}).json()["detail"]
    assert client.post("/api/v1/identity/demo-token", json={"external_id": "ghost"}).status_code == 404


def test_development_endpoints_do_not_exist_in_production(settings: Settings, demo_db: object) -> None:
    from routing.app import create_app

    prod = settings.model_copy(update={"env": "production"})
    with TestClient(create_app(prod), headers={"Authorization": "Bearer test-service-token"}) as client:
        assert client.post("/api/v1/identity/demo-token", json={"external_id": "demo-gold"}).status_code == 404
        assert client.post("/shop/login", json={"external_id": "demo-gold"}).status_code in (404, 405)
        assert client.get("/web/config").json()["demo_logins"] == []
        for docs in ("/docs", "/redoc", "/openapi.json"):  # the API's docs are for development
            assert client.get(docs).status_code == 404
        assert client.get("/health").headers["strict-transport-security"].startswith("max-age=")


def test_health_tells_its_details_only_to_the_service_token(client: TestClient) -> None:
    public = client.get("/health", headers={"Authorization": ""})
    assert public.status_code == 200 and public.json() == {"status": "ok", "database": "ok", "policy": None,
                                                       "outbox": None}
    assert "policy.yml" not in public.text  # no file path, no policy error
    wrong = client.get("/health", headers={"Authorization": "Bearer not-the-token"}).json()
    assert wrong["policy"] is None and wrong["outbox"] is None
    operator = client.get("/health").json()  # the fixture's client carries the service token
    assert operator["policy"]["path"].endswith("policy.yml") and operator["policy"]["error"] is None
    assert operator["outbox"] == {"pending": 0, "dead": 0}


def test_pages_carry_a_strict_content_security_policy(client: TestClient) -> None:
    for page in ("/console", "/shop", "/api/v1/policy"):
        headers = client.get(page).headers
        policy = headers["content-security-policy"]
        assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
        assert "connect-src 'self' http://127.0.0.1:5005 ws://127.0.0.1:5005;" in policy  # Rasa's socket.io
        assert headers["x-content-type-options"] == "nosniff" and "strict-transport-security" not in headers
    static = ROOT / "routing" / "web" / "static"
    for html in static.glob("*.html"):  # the policy allows no inline script, so the pages have none
        assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html.read_text())), html.name


def test_the_demo_shop_signs_in_only_demo_accounts(client: TestClient) -> None:
    assert client.post("/shop/login", json={"external_id": "demo-gold"}).status_code == 200
    assert client.post("/shop/login", json={"external_id": "cust-00001"}).status_code == 404


def test_field_level_422(client: TestClient) -> None:
    response = client.post("/api/v1/decisions", json={"conversation_id": "c1", "intent": "complaint",
                                                      "bot_failures": -1})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "bot_failures"]]
    response = client.post("/api/v1/identity/verify-order", json={"order_number": "C-1", "email": "nope"})
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "email"]]
    response = client.get("/api/v1/customers/1/orders", params={"limit": 0})
    assert [e["loc"] for e in response.json()["detail"]] == [["query", "limit"]]
    response = client.post("/api/v1/decisions", json={"conversation_id": "c1", "intent": "greet",
                                                      "customer_id": 999999})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "customer_id"]


def test_decisions_are_made_per_tier_and_audited(client: TestClient, demo_db: sessionmaker[Session],
                                                   policy: Policy) -> None:
    platinum = customer_id(client, "demo-platinum")
    body = {"conversation_id": "conv-1", "customer_id": platinum, "intent": "get_refund", "bot_failures": 0,
            "human_requests": 0, "facts": {"order_number": "C-100001"}}
    d = client.post("/api/v1/decisions", json=body).json()
    assert (d["decision"], d["queue"], d["rule"], d["tier"], d["sla_seconds"]) == \
        ("escalate", "vip", "tier.sensitive_intent", "platinum", 60)
    assert list(d) == ["decision", "queue", "priority", "sla_seconds", "reason", "rule", "tier", "offer_human",
                       "decision_id"]  # the policy's version is kept for audit, not told
    anon = client.post("/api/v1/decisions", json={**body, "customer_id": None, "conversation_id": "conv-2"}).json()
    assert (anon["decision"], anon["tier"]) == ("self_service", "bronze")
    with demo_db() as session:
        record = session.scalar(select(RoutingDecision).where(RoutingDecision.id == d["decision_id"]))
        assert record is not None and record.facts == {"order_number": "C-100001"} and record.customer_id == platinum
        assert record.rule == "tier.sensitive_intent" and record.policy_version == policy.version


def test_override_endpoint_and_policy_summary(client: TestClient) -> None:
    cid = customer_id(client, "cust-00001")
    put = client.put(f"/api/v1/customers/{cid}/tier-override",
                     json={"tier": "gold", "reason": "key account", "author": "alice"})
    assert put.status_code == 200 and put.json()["tier"] == "gold"
    bad = client.put(f"/api/v1/customers/{cid}/tier-override",
                     json={"tier": "diamond", "reason": "why not", "author": "alice"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "tier"]
    cleared = client.delete(f"/api/v1/customers/{cid}/tier-override").json()
    assert "override" not in cleared["tier_reason"] and cleared["tier_reason"].startswith(cleared["tier"].title())
    summary = client.get("/api/v1/policy").json()
    assert [t["name"] for t in summary["tiers"]] == ["platinum", "gold", "silver", "bronze"]
    assert {q["name"] for q in summary["queues"]} == {"vip", "priority", "general"}


def test_order_sync_recomputes_the_tier(client: TestClient) -> None:
    cid = customer_id(client, "demo-bronze")
    for k in range(15):
        created = client.post("/api/v1/orders", json={
            "number": f"W-{k}", "customer_external_id": "demo-bronze", "status": "delivered",
            "placed_at": (utcnow() - timedelta(days=5 + k)).isoformat(), "total_cents": 200_000})
        assert created.status_code == 201
    computed = client.get(f"/api/v1/customers/{cid}").json()
    assert computed["tier"] == "platinum" and "$30," in computed["tier_reason"]
    dup = client.post("/api/v1/orders", json={"number": "W-0", "customer_external_id": "demo-bronze",
                                              "status": "placed", "placed_at": utcnow().isoformat(),
                                              "total_cents": 1})
    assert dup.status_code == 409
    unknown = client.post("/api/v1/orders", json={"number": "W-99", "customer_external_id": "ghost",
                                                  "status": "placed", "placed_at": utcnow().isoformat(),
                                                  "total_cents": 1})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "customer_external_id"]
    patched = client.patch("/api/v1/orders/W-0", json={"status": "shipped", "carrier": "UPS",
                                                       "tracking_number": "1Z1"})
    assert patched.status_code == 200 and patched.json()["tracking_number"] == "1Z1"


def test_order_verification_is_throttled_per_order_and_per_email(client: TestClient) -> None:
    owner = client.get("/api/v1/customers/lookup", params={"order_number": "C-100001"}).json()
    wrong = {"order_number": "C-100001", "email": "guess@example.com"}
    for _ in range(5):
        assert client.post("/api/v1/identity/verify-order", json=wrong).status_code == 404
    right = {"order_number": "C-100001", "email": owner["email"]}
    blocked = client.post("/api/v1/identity/verify-order", json=right)
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0  # even the right pair waits
    other = client.get("/api/v1/customers/lookup", params={"order_number": "C-100002"}).json()
    assert client.post("/api/v1/identity/verify-order",
                       json={"order_number": "C-100002", "email": other["email"]}).status_code == 200
    for n in range(3, 13):  # one email guessing many order numbers
        client.post("/api/v1/identity/verify-order", json={"order_number": f"C-1000{n:02d}", "email": "x@y.zz"})
    assert client.post("/api/v1/identity/verify-order",
                       json={"order_number": "C-100099", "email": "x@y.zz"}).status_code == 429


def test_production_refuses_short_or_development_secrets() -> None:
    strong = {"service_token": "s" * 32, "identity_secret": "i" * 32, "rasa_token": "r" * 32, "csat_secret": "c" * 32}
    assert Settings(env="production", **strong).env == "production"
    with pytest.raises(ValidationError, match="CONCIERGE_IDENTITY_SECRET to secrets of at least 32"):
        Settings(env="production", **{**strong, "identity_secret": "too-short"})
    with pytest.raises(ValidationError, match="CONCIERGE_SERVICE_TOKEN"):
        Settings(env="production", **{**strong, "service_token": "dev-only-change-me"})
    with pytest.raises(ValidationError, match="CONCIERGE_CSAT_SECRET"):  # it signs the customers' rating keys
        Settings(env="production", **{k: v for k, v in strong.items() if k != "csat_secret"})


def test_issuer_and_audience_are_checked_when_configured(settings: Settings, demo_db: object) -> None:
    from routing.app import create_app
    from routing.identity.service import issue_token

    shop = settings.model_copy(update={"identity_issuer": "https://shop.example.com", "identity_audience": "concierge"})
    with TestClient(create_app(shop), headers={"Authorization": "Bearer test-service-token"}) as api:
        def verify(token: str) -> int:
            return api.post("/api/v1/identity/verify", json={"token": token}).status_code

        secret = shop.identity_secret
        assert verify(issue_token(secret, "demo-gold", issuer="https://shop.example.com", audience="concierge")) == 200
        assert verify(issue_token(secret, "demo-gold")) == 401  # neither iss nor aud
        assert verify(issue_token(secret, "demo-gold", issuer="https://evil.example", audience="concierge")) == 401
        assert verify(issue_token(secret, "demo-gold", issuer="https://shop.example.com", audience="other")) == 401
        assert api.post("/api/v1/identity/demo-token", json={"external_id": "demo-gold"}).status_code == 200
