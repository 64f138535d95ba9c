"""Self-service order changes (cancel, new shipping address, return) and delivery estimates, owner only."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clock import utcnow
from routing.orders.delivery import add_business_days, estimate_delivery
from routing.orders.models import Order
from routing.orders.service import start_return
from routing.policy.definition import DeliveryPolicy, TransitDays
from routing.policy.loader import load_policy

pytestmark = pytest.mark.clock  # about hours, SLAs, expiry or dates: CI runs it at other instants too

OWNER = "demo-bronze"
STRANGER = "demo-silver"


def customer_id(client: TestClient, external_id: str) -> int:
    response = client.get("/api/v1/customers/lookup", params={"external_id": external_id})
    response.raise_for_status()
    return int(response.json()["id"])


def new_order(client: TestClient, number: str, status: str, days_ago: float = 0, **fields: Any) -> str:
    """An order of OWNER placed `days_ago`; shipped/delivered dates follow from the status unless given."""
    placed = utcnow() - timedelta(days=days_ago)
    body: dict[str, Any] = {"number": number, "customer_external_id": OWNER, "status": status,
                            "placed_at": placed.isoformat(), "total_cents": 4_990,
                            "shipping_address": "1 Old Road\n10001 New York",
                            "items": [{"sku": "MUG-1", "name": "Mug", "quantity": 2, "unit_price_cents": 2_495}]}
    if status in ("shipped", "delivered"):
        body.update(shipped_at=(placed + timedelta(days=1)).isoformat(), carrier="UPS", tracking_number="1Z9")
    if status == "delivered":
        body["delivered_at"] = (placed + timedelta(days=3)).isoformat()
    body.update(fields)
    response = client.post("/api/v1/orders", json=body)
    assert response.status_code == 201, response.text
    return number


def order_url(client: TestClient, number: str, owner: str = OWNER) -> str:
    return f"/api/v1/customers/{customer_id(client, owner)}/orders/{number}"


def path(client: TestClient, number: str, action: str, owner: str = OWNER) -> str:
    return f"{order_url(client, number, owner)}/{action}"


@pytest.mark.parametrize("status", ["placed", "processing"])
def test_an_order_that_has_not_shipped_is_cancelled_once(client: TestClient, status: str) -> None:
    number = new_order(client, "T-1", status)

    first = client.post(path(client, number, "cancel"))
    again = client.post(path(client, number, "cancel"))

    assert first.status_code == 200 and first.json()["status"] == "cancelled"
    assert first.json()["estimated_delivery"] is None
    assert again.status_code == 200 and again.json() == first.json()


@pytest.mark.parametrize(("status", "reason"), [("shipped", "already shipped"),
                                               ("delivered", "already been delivered")])
def test_a_shipped_order_cannot_be_cancelled(client: TestClient, status: str, reason: str) -> None:
    number = new_order(client, "T-2", status, days_ago=4)

    response = client.post(path(client, number, "cancel"))

    assert response.status_code == 409 and reason in response.json()["detail"]
    order = client.get(order_url(client, number)).json()
    assert order["status"] == status


def test_nobody_changes_another_customers_order(client: TestClient) -> None:
    number = new_order(client, "T-3", "placed")

    for method, action, body in (("POST", "cancel", None), ("POST", "return", None),
                                 ("PUT", "shipping-address", {"address": "5 Elm Street, Springfield"})):
        response = client.request(method, path(client, number, action, owner=STRANGER), json=body)
        assert response.status_code == 404 and response.json()["detail"] == "No such order for this customer."
    order = client.get(order_url(client, number)).json()
    assert order["status"] == "placed" and order["shipping_address"] == "1 Old Road\n10001 New York"


def test_every_change_needs_the_service_token(client: TestClient) -> None:
    number = new_order(client, "T-4", "placed")

    response = client.post(path(client, number, "cancel"), headers={"Authorization": "Bearer wrong"})

    assert response.status_code == 401
    assert client.get(order_url(client, number)).json()["status"] == "placed"


def test_the_shipping_address_changes_until_the_order_ships(client: TestClient) -> None:
    open_order = new_order(client, "T-5", "processing")
    shipped = new_order(client, "T-6", "shipped", days_ago=2)

    changed = client.put(path(client, open_order, "shipping-address"),
                         json={"address": "  Anna Berg\n\n 22   Harbour Street \n 02110 Boston  "})
    refused = client.put(path(client, shipped, "shipping-address"), json={"address": "22 Harbour Street, Boston"})

    assert changed.status_code == 200
    assert changed.json()["shipping_address"] == "Anna Berg\n22 Harbour Street\n02110 Boston"
    assert refused.status_code == 409 and "already shipped" in refused.json()["detail"]
    assert client.get(order_url(client, shipped)).json()["shipping_address"] == "1 Old Road\n10001 New York"


@pytest.mark.parametrize("address", ["", "   ", "x" * 501, "12345", "22 Harbour St\x00", "\x1b[31m 22 Harbour St"])
def test_a_bad_address_is_refused_with_a_field_error(client: TestClient, address: str) -> None:
    number = new_order(client, "T-7", "placed")

    response = client.put(path(client, number, "shipping-address"), json={"address": address})

    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "address"]
    assert client.get(order_url(client, number)).json()["shipping_address"] == "1 Old Road\n10001 New York"


def test_a_delivered_order_is_returned_within_the_window(client: TestClient) -> None:
    number = new_order(client, "C-900001", "delivered", days_ago=10)
    delivered_at = datetime.fromisoformat(client.get(order_url(client, number)).json()["delivered_at"])
    assert client.get(order_url(client, number)).json()["returnable_until"] == (
        (delivered_at + timedelta(days=30)).date().isoformat())

    started = client.post(path(client, number, "return"))
    again = client.post(path(client, number, "return"))

    assert started.status_code == 200
    body = started.json()
    assert body["return_reference"] == "RMA-C-900001" and body["order"]["return_status"] == "requested"
    assert body["send_back_by"] == (utcnow().date() + timedelta(days=14)).isoformat()
    assert "RMA-C-900001" in body["instructions"] and body["send_back_by"] in body["instructions"]
    assert again.status_code == 200 and again.json()["return_reference"] == "RMA-C-900001"
    assert again.json()["order"]["returnable_until"] is None


def test_asking_again_for_a_return_keeps_its_send_back_date(client: TestClient) -> None:
    number = new_order(client, "C-900002", "delivered", days_ago=5)
    policy = load_policy(client.app.state.settings.policy_file)
    owner, first_day = customer_id(client, OWNER), utcnow()
    with client.app.state.sessions.begin() as session:
        first = start_return(session, policy, owner, number, first_day)
        assert first is not None
        first_date = first.send_back_by
    with client.app.state.sessions.begin() as session:
        again = start_return(session, policy, owner, number, first_day + timedelta(days=3))
        assert again is not None and again.send_back_by == first_date == (
            first_day.date() + timedelta(days=policy.returns.send_back_days))


@pytest.mark.parametrize(("status", "days_ago", "fields", "reason"), [
    ("delivered", 40, {}, "return window has closed"),
    ("shipped", 2, {}, "not been delivered yet"),
    ("placed", 0, {}, "can still be cancelled"),
    ("cancelled", 1, {}, "nothing to return"),
    ("returned", 20, {"return_status": "received", "delivered_at": (utcnow() - timedelta(days=15)).isoformat()},
     "already has a return"),
])
def test_a_return_is_refused_with_the_reason(client: TestClient, status: str, days_ago: int,
                                             fields: dict[str, Any], reason: str) -> None:
    number = new_order(client, "T-8", status, days_ago=days_ago, **fields)

    response = client.post(path(client, number, "return"))

    assert response.status_code == 409 and reason in response.json()["detail"]
    order = client.get(order_url(client, number)).json()
    assert order["return_status"] == fields.get("return_status") and order["returnable_until"] is None


def test_open_orders_carry_a_delivery_estimate(client: TestClient) -> None:
    shipped = new_order(client, "T-9", "shipped", days_ago=1, carrier="DHL")
    delivered = new_order(client, "T-10", "delivered", days_ago=8)

    shipped_out = client.get(order_url(client, shipped)).json()
    orders = {o["number"]: o for o in client.get(f"/api/v1/customers/{customer_id(client, OWNER)}/orders",
                                                   params={"limit": 50}).json()["orders"]}

    handed_over = datetime.fromisoformat(shipped_out["shipped_at"]).date()
    assert shipped_out["estimated_delivery"] == {"earliest": add_business_days(handed_over, 2).isoformat(),
                                                 "latest": add_business_days(handed_over, 6).isoformat(),
                                                 "overdue": False}
    assert orders[shipped]["estimated_delivery"] == shipped_out["estimated_delivery"]
    assert orders[delivered]["estimated_delivery"] is None


def _order(status: str, placed: datetime, shipped: datetime | None = None, carrier: str | None = None) -> Order:
    return Order(number="X-1", status=status, placed_at=placed, shipped_at=shipped, carrier=carrier, total_cents=0)


def test_estimates_count_business_days_per_carrier() -> None:
    policy = DeliveryPolicy(processing_days=1, default_transit=TransitDays(min=3, max=5),
                            carriers={"UPS": TransitDays(min=1, max=2)})
    friday = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)

    placed = estimate_delivery(_order("processing", friday), policy, date(2026, 11, 20))
    shipped = estimate_delivery(_order("shipped", friday - timedelta(days=3), friday, "UPS"), policy,
                                date(2026, 11, 20))
    late = estimate_delivery(_order("shipped", friday, friday, "Pigeon"), policy, date(2026, 12, 1))

    assert (placed.earliest, placed.latest) == (date(2026, 11, 26), date(2026, 11, 30))  # Mon + 3 / + 5 days
    assert (shipped.earliest, shipped.latest) == (date(2026, 11, 23), date(2026, 11, 24))
    assert late is not None and late.latest == date(2026, 11, 27) and late.overdue
    assert estimate_delivery(_order("cancelled", friday), policy, date(2026, 11, 20)) is None
