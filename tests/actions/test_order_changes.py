"""Delivery estimates, cancellations, address changes and returns against the real routing service."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta
from typing import Any

import httpx
import pytest
from conftest import routing_down
from helpers import make_tracker, slot_values, verified_slots
from rasa_sdk import Action
from rasa_sdk.executor import CollectingDispatcher

from actions.messages import MESSAGES, YES_NO
from actions.order_changes import (
    ActionCancelOrder,
    ActionChangeAddress,
    ActionCheckAddressChange,
    ActionConfirmAddressChange,
    ActionKeepOrder,
    ActionOfferCancellation,
    ActionOfferReturn,
    ActionStartReturn,
    ValidateShippingAddressForm,
)
from actions.orders import ActionDeliveryEstimate
from clock import utcnow

NUMBERS = itertools.count(950_001)
OLD_ADDRESS = "1 Old Road, Springfield 10001, US"


def prefix(key: str) -> str:
    """The fixed start of MESSAGES[key] (up to its first placeholder)."""
    return MESSAGES[key].split("{")[0]


def customer(api: httpx.Client, customer_id: int) -> dict[str, Any]:
    response = api.get(f"/customers/{customer_id}")
    response.raise_for_status()
    return response.json()


@pytest.fixture()
def shopper(api: httpx.Client) -> dict[str, Any]:
    """A regular demo customer (not one of the demo-* accounts other tests rely on)."""
    return customer(api, 17)


def new_order(api: httpx.Client, owner: dict[str, Any], status: str, days_ago: float = 0,
              **fields: Any) -> dict[str, Any]:
    """A fresh order of `owner` (number C-95xxxx); shipped/delivered dates follow from the status."""
    placed = utcnow() - timedelta(days=days_ago)
    body: dict[str, Any] = {"number": f"C-{next(NUMBERS)}", "customer_external_id": owner["external_id"],
                            "status": status, "placed_at": placed.isoformat(), "total_cents": 7_480,
                            "shipping_address": OLD_ADDRESS,
                            "items": [
                                {"sku": "MUG-1", "name": "Stoneware mug", "quantity": 2, "unit_price_cents": 1_990},
                                {"sku": "LAMP-2", "name": "Desk lamp", "quantity": 1, "unit_price_cents": 3_500}]}
    if status in ("shipped", "delivered"):
        body.update(shipped_at=(placed + timedelta(days=1)).isoformat(), carrier="UPS", tracking_number="1Z777")
    if status == "delivered":
        body["delivered_at"] = (placed + timedelta(days=3)).isoformat()
    body.update(fields)
    response = api.post("/orders", json=body)
    response.raise_for_status()
    return response.json()


def current(api: httpx.Client, owner: dict[str, Any], number: str) -> dict[str, Any]:
    response = api.get(f"/customers/{owner['id']}/orders/{number}")
    response.raise_for_status()
    return response.json()


def run(action: Action, domain: dict[str, Any], slots: dict[str, Any], intent: str = "affirm",
        asked_by: str | None = None, text: str = "") -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run `action` for a customer message that answers what `asked_by` asked; the slots set and messages."""
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots=slots, intent=intent, text=text)
    if asked_by:
        tracker.events.insert(0, {"event": "action", "name": asked_by})
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return slot_values(events), dispatcher.messages


def said(messages: list[dict[str, Any]]) -> list[str]:
    return [message["text"] for message in messages]


# --- delivery estimate ---------------------------------------------------------------------------------------------

def test_delivery_estimate_of_a_named_order(api: httpx.Client, domain: dict[str, Any], shopper: dict[str, Any]
                                            ) -> None:
    order = new_order(api, shopper, "shipped", days_ago=1)
    estimate = order["estimated_delivery"]

    slots, messages = run(ActionDeliveryEstimate(), domain,
                          {**verified_slots(shopper), "order_number": order["number"]}, intent="delivery_period")

    assert slots == {"order_number": order["number"]}
    assert said(messages) == [MESSAGES["delivery_estimate"].format(
        number=order["number"], earliest=estimate["earliest"], latest=estimate["latest"],
        carrier_part=" with UPS (tracking number 1Z777)")]


def test_delivery_estimate_of_a_delivered_order_gives_its_delivery_day(api: httpx.Client, domain: dict[str, Any],
                                                                       shopper: dict[str, Any]) -> None:
    order = new_order(api, shopper, "delivered", days_ago=6)

    _, messages = run(ActionDeliveryEstimate(), domain, {**verified_slots(shopper), "order_number": order["number"]},
                      intent="delivery_period")

    assert said(messages) == [MESSAGES["order_delivered"].format(number=order["number"],
                                                                 delivered_on=order["delivered_at"][:10])]


# --- cancellation ----------------------------------------------------------------------------------------------------

def test_cancel_asks_first_then_cancels_on_yes(api: httpx.Client, domain: dict[str, Any], shopper: dict[str, Any]
                                              ) -> None:
    order = new_order(api, shopper, "processing")
    slots = {**verified_slots(shopper), "order_number": order["number"]}

    offered, question = run(ActionOfferCancellation(), domain, slots, intent="cancel_order")
    assert current(api, shopper, order["number"])["status"] == "processing"
    done, answer = run(ActionCancelOrder(), domain, {**slots, **offered}, asked_by="action_offer_cancellation")

    assert offered == {"order_number": order["number"], "pending_change": "cancel_order"}
    assert question == [{**question[0], "text": MESSAGES["cancel_confirm"].format(
        number=order["number"], items="2 x Stoneware mug, 1 x Desk lamp", total="74.80", currency="USD"),
        "buttons": YES_NO}]
    assert done == {"pending_change": None}
    assert said(answer) == [MESSAGES["cancel_done"].format(number=order["number"])]
    assert current(api, shopper, order["number"])["status"] == "cancelled"


def test_a_shipped_order_is_not_cancelled_and_a_return_is_offered(api: httpx.Client, domain: dict[str, Any],
                                                                  shopper: dict[str, Any]) -> None:
    order = new_order(api, shopper, "shipped", days_ago=2)

    slots, messages = run(ActionOfferCancellation(), domain,
                          {**verified_slots(shopper), "order_number": order["number"]}, intent="cancel_order")

    assert slots == {"order_number": order["number"], "pending_change": None}
    assert said(messages) == [MESSAGES["cancel_refused_shipped"].format(number=order["number"],
                                                                        shipped_on=order["shipped_at"][:10])]
    assert messages[0]["buttons"] == []
    assert current(api, shopper, order["number"])["status"] == "shipped"


def test_a_yes_that_answers_nothing_changes_nothing(api: httpx.Client, domain: dict[str, Any],
                                                    shopper: dict[str, Any]) -> None:
    order = new_order(api, shopper, "placed")

    slots, messages = run(ActionCancelOrder(), domain, {**verified_slots(shopper), "order_number": order["number"],
                                                        "pending_change": "cancel_order"}, asked_by="utter_greet")

    assert slots == {"pending_change": None}
    assert said(messages) == [MESSAGES["change_expired"]]
    assert current(api, shopper, order["number"])["status"] == "placed"


def test_nobody_cancels_another_customers_order(api: httpx.Client, domain: dict[str, Any],
                                                shopper: dict[str, Any]) -> None:
    order = new_order(api, shopper, "placed")
    someone_else = customer(api, 18)

    _, messages = run(ActionCancelOrder(), domain, {**verified_slots(someone_else), "order_number": order["number"],
                                                    "pending_change": "cancel_order"},
                      asked_by="action_offer_cancellation")

    assert said(messages) == [MESSAGES["order_not_found"].format(number=order["number"])]
    assert current(api, shopper, order["number"])["status"] == "placed"


def test_no_keeps_the_order(domain: dict[str, Any], routing_url: str) -> None:
    slots, messages = run(ActionKeepOrder(), domain, {"order_number": "C-100001", "pending_change": "cancel_order"},
                          intent="deny")

    assert slots == {"pending_change": None, "new_address": None}
    assert said(messages) == [MESSAGES["change_kept"].format(number="C-100001")]


# --- shipping address ------------------------------------------------------------------------------------------------

def test_the_address_is_asked_confirmed_and_changed_before_shipping(api: httpx.Client, domain: dict[str, Any],
                                                                    shopper: dict[str, Any]) -> None:
    order = new_order(api, shopper, "placed")
    slots = {**verified_slots(shopper), "order_number": order["number"]}
    typed = "  Anna Berg\n 22  Harbour Street\n02110 Boston "

    checked, silent = run(ActionCheckAddressChange(), domain, slots, intent="change_shipping_address")
    complaint = CollectingDispatcher()
    bad = ValidateShippingAddressForm().validate_new_address("next door", complaint, make_tracker(), domain)
    validated = ValidateShippingAddressForm().validate_new_address(typed, CollectingDispatcher(), make_tracker(),
                                                                   domain)
    slots = {**slots, **checked, **validated}
    _, question = run(ActionConfirmAddressChange(), domain, slots, intent="inform")
    done, answer = run(ActionChangeAddress(), domain, slots, asked_by="action_confirm_address_change")

    assert checked == {"order_number": order["number"], "pending_change": "change_address", "new_address": None}
    assert silent == []
    assert bad == {"new_address": None} and said(complaint.messages) == [MESSAGES["address_invalid"]]
    assert validated == {"new_address": "Anna Berg\n22 Harbour Street\n02110 Boston"}
    assert question[0]["text"].endswith("Anna Berg\n22 Harbour Street\n02110 Boston")
    assert question[0]["buttons"] == YES_NO
    assert done == {"pending_change": None, "new_address": None}
    assert said(answer) == [MESSAGES["address_done"].format(number=order["number"],
                                                            address="Anna Berg\n22 Harbour Street\n02110 Boston")]
    assert current(api, shopper, order["number"])["shipping_address"] == "Anna Berg\n22 Harbour Street\n02110 Boston"


def test_the_address_of_a_shipped_order_stays(api: httpx.Client, domain: dict[str, Any], shopper: dict[str, Any]
                                             ) -> None:
    order = new_order(api, shopper, "shipped", days_ago=2)

    slots, messages = run(ActionCheckAddressChange(), domain,
                          {**verified_slots(shopper), "order_number": order["number"]},
                          intent="change_shipping_address")

    assert slots == {"order_number": order["number"], "pending_change": None}
    assert said(messages) == [MESSAGES["address_refused"].format(number=order["number"], status="shipped")]
    assert current(api, shopper, order["number"])["shipping_address"] == OLD_ADDRESS


def test_an_order_that_shipped_meanwhile_keeps_its_address(api: httpx.Client, domain: dict[str, Any],
                                                           shopper: dict[str, Any]) -> None:
    order = new_order(api, shopper, "processing")
    api.patch(f"/orders/{order['number']}", json={"status": "shipped"}).raise_for_status()

    _, messages = run(ActionChangeAddress(), domain, {**verified_slots(shopper), "order_number": order["number"],
                                                      "pending_change": "change_address",
                                                      "new_address": "22 Harbour Street, 02110 Boston"},
                      asked_by="action_confirm_address_change")

    assert said(messages)[0].startswith(prefix("change_refused")) and "already shipped" in said(messages)[0]
    assert current(api, shopper, order["number"])["shipping_address"] == OLD_ADDRESS


# --- returns ---------------------------------------------------------------------------------------------------------

def test_a_delivered_order_is_returned_after_yes(api: httpx.Client, domain: dict[str, Any], shopper: dict[str, Any]
                                                ) -> None:
    order = new_order(api, shopper, "delivered", days_ago=8)
    slots = {**verified_slots(shopper), "order_number": order["number"]}

    offered, question = run(ActionOfferReturn(), domain, slots, intent="get_refund")
    done, answer = run(ActionStartReturn(), domain, {**slots, **offered}, asked_by="action_offer_return")

    assert offered == {"order_number": order["number"], "pending_change": "start_return"}
    assert question[0]["text"] == MESSAGES["return_confirm"].format(
        number=order["number"], items="2 x Stoneware mug, 1 x Desk lamp", delivered_on=order["delivered_at"][:10])
    assert question[0]["buttons"] == YES_NO
    assert done == {"pending_change": None}
    assert len(answer) == 1 and said(answer)[0].startswith(MESSAGES["return_done"].format(
        number=order["number"], reference=f"RMA-{order['number']}", instructions=""))
    assert "post office" in said(answer)[0]
    assert current(api, shopper, order["number"])["return_status"] == "requested"


@pytest.mark.parametrize(("status", "days_ago", "key"), [
    ("delivered", 45, "return_closed"), ("shipped", 2, "return_not_delivered"), ("placed", 0, "return_not_shipped"),
])
def test_a_return_is_refused_with_the_reason(api: httpx.Client, domain: dict[str, Any], shopper: dict[str, Any],
                                             status: str, days_ago: int, key: str) -> None:
    order = new_order(api, shopper, status, days_ago=days_ago)

    slots, messages = run(ActionOfferReturn(), domain, {**verified_slots(shopper), "order_number": order["number"]},
                          intent="get_refund")

    assert slots == {"order_number": order["number"], "pending_change": None}
    assert said(messages) == [MESSAGES[key].format(number=order["number"], status=status,
                                                   delivered_on=(order["delivered_at"] or "")[:10])]
    assert current(api, shopper, order["number"])["return_status"] is None


# --- routing service down --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("action", "asked_by", "key"), [
    (ActionDeliveryEstimate(), None, "delivery_unavailable"),
    (ActionOfferCancellation(), None, "cancel_unavailable"),
    (ActionCancelOrder(), "action_offer_cancellation", "cancel_unavailable"),
    (ActionCheckAddressChange(), None, "address_unavailable"),
    (ActionChangeAddress(), "action_confirm_address_change", "address_unavailable"),
    (ActionOfferReturn(), None, "return_unavailable"),
    (ActionStartReturn(), "action_offer_return", "return_unavailable"),
])
def test_routing_down_gives_an_honest_answer_with_an_alternative(
        api: httpx.Client, domain: dict[str, Any], shopper: dict[str, Any], routing_url: str,
        action: Action, asked_by: str | None, key: str) -> None:
    order = new_order(api, shopper, "placed")
    slots = {**verified_slots(shopper), "order_number": order["number"], "pending_change": "cancel_order",
             "new_address": "22 Harbour Street, 02110 Boston"}

    with routing_down(routing_url):
        _, messages = run(action, domain, slots, asked_by=asked_by)

    assert said(messages) == [MESSAGES[key]]
    assert "Account > Orders" in MESSAGES[key] or "tracking" in MESSAGES[key]
    assert current(api, shopper, order["number"])["status"] == "placed"
