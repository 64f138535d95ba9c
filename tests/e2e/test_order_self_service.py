"""Self-service with the customer's own order, end to end over REST: real NLU, rules, actions and routing service."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import httpx
import pytest

from clock import utcnow
from launcher.settings import StackSettings
from tests.e2e.customers import RestCustomer, bot_messages, shop_token

pytestmark = pytest.mark.clock  # about hours, SLAs, expiry or dates: CI runs it at other instants too

NUMBERS = itertools.count(960_001)
MESSAGES = bot_messages()
# Regular demo customers with little history (the demo-* accounts stay as other tests expect them); their tier stays
# bronze with these small orders, so cancel_order and get_refund are self-service (routing/policy.yml).
CUSTOMERS = {"eta": 24, "cancel": 25, "address": 27, "return": 18}


@pytest.fixture(scope="module")
def api(stack: StackSettings) -> Any:
    with httpx.Client(base_url=f"{stack.routing_url}/api/v1", timeout=10,
                      headers={"Authorization": f"Bearer {stack.service_token}"}) as client:
        yield client


def owner(api: httpx.Client, flow: str) -> dict[str, Any]:
    response = api.get(f"/customers/{CUSTOMERS[flow]}")
    response.raise_for_status()
    return dict(response.json())


def new_order(api: httpx.Client, owner: dict[str, Any], status: str, days_ago: float = 0) -> str:
    placed = utcnow() - timedelta(days=days_ago)
    number = f"C-{next(NUMBERS)}"
    body: dict[str, Any] = {"number": number, "customer_external_id": owner["external_id"], "status": status,
                            "placed_at": placed.isoformat(), "total_cents": 500, "shipping_address": "1 Old Road",
                            "items": [{"sku": "TEA-1", "name": "Green tea", "quantity": 1, "unit_price_cents": 500}]}
    if status in ("shipped", "delivered"):
        body.update(shipped_at=(placed + timedelta(days=1)).isoformat(), carrier="DHL", tracking_number="JD01")
    if status == "delivered":
        body["delivered_at"] = (placed + timedelta(days=3)).isoformat()
    api.post("/orders", json=body).raise_for_status()
    return number


def order(api: httpx.Client, owner: dict[str, Any], number: str) -> dict[str, Any]:
    response = api.get(f"/customers/{owner['id']}/orders/{number}")
    response.raise_for_status()
    return dict(response.json())


def texts(replies: list[dict[str, Any]]) -> list[str]:
    return [reply["text"] for reply in replies if reply.get("text")]


def verify(customer: RestCustomer, first: str, email: str) -> list[dict[str, Any]]:
    """Send `first` (naming an order), answer the email question; the replies after the email."""
    assert texts(customer.say(first))[-1] == MESSAGES["ask_email"]
    return customer.say(email)


def test_a_named_order_gets_its_delivery_estimate(stack: StackSettings, api: httpx.Client) -> None:
    shopper = owner(api, "eta")
    number = new_order(api, shopper, "shipped", days_ago=1)
    estimate = order(api, shopper, number)["estimated_delivery"]

    replies = verify(RestCustomer(stack, "eta"), f"when will order {number} arrive?", shopper["email"])

    assert texts(replies)[-1] == MESSAGES["delivery_estimate"].format(
        number=number, earliest=estimate["earliest"], latest=estimate["latest"],
        carrier_part=" with DHL (tracking number JD01)")


def test_cancel_with_confirmation_and_a_refusal_once_shipped(stack: StackSettings, api: httpx.Client) -> None:
    shopper = owner(api, "cancel")
    open_order, shipped = new_order(api, shopper, "placed"), new_order(api, shopper, "shipped", days_ago=2)
    customer = RestCustomer(stack, "cancel")

    question = verify(customer, f"cancel order {open_order}", shopper["email"])[-1]
    assert question["text"].startswith(f"Cancel order {open_order} (1 x Green tea, total 5.00 USD)")
    assert [b["payload"] for b in question["buttons"]] == ["/affirm", "/deny"]
    assert order(api, shopper, open_order)["status"] == "placed"
    assert texts(customer.say("/affirm")) == [MESSAGES["cancel_done"].format(number=open_order)]
    assert order(api, shopper, open_order)["status"] == "cancelled"

    refusal = texts(customer.say(f"please cancel {shipped}"))
    assert refusal[-1].startswith(f"Order {shipped} shipped on") and "return" in refusal[-1]
    assert order(api, shopper, shipped)["status"] == "shipped"


def test_a_new_shipping_address_is_asked_confirmed_and_saved(stack: StackSettings, api: httpx.Client) -> None:
    shopper = owner(api, "address")
    number = new_order(api, shopper, "processing")
    customer = RestCustomer(stack, "address", token=shop_token(stack, shopper["external_id"]))

    asked = texts(customer.say(f"change the address on {number}"))
    assert asked[-1] == MESSAGES["address_ask"].format(number=number)
    invalid = texts(customer.say("next door"))
    assert invalid[0] == MESSAGES["address_invalid"]
    confirm = customer.say("22 Harbour Street, 02110 Boston")[-1]
    assert confirm["text"].endswith("22 Harbour Street, 02110 Boston") and confirm["buttons"]
    assert texts(customer.say("yes")) == [MESSAGES["address_done"].format(
        number=number, address="22 Harbour Street, 02110 Boston")]
    assert order(api, shopper, number)["shipping_address"] == "22 Harbour Street, 02110 Boston"


def test_a_return_is_started_after_yes(stack: StackSettings, api: httpx.Client) -> None:
    shopper = owner(api, "return")
    number = new_order(api, shopper, "delivered", days_ago=7)
    customer = RestCustomer(stack, "return", token=shop_token(stack, shopper["external_id"]))

    replies = customer.say(f"I want to return {number}")
    question = replies[-1]
    assert question.get("text", ""), replies
    assert question["text"].startswith(f"Start a return for order {number}")
    done = texts(customer.say("yes"))

    assert done[-1].startswith(f"Your return for order {number} is open. Return reference: RMA-{number}.")
    assert order(api, shopper, number)["return_status"] == "requested"
