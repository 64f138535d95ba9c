"""A guest's order number + email proves that one order: reading, cancelling or returning another order needs its own
proof, and a new shipping address needs a customer signed in through the shop (#14, point 3)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta
from typing import Any

import httpx
import pytest
from helpers import guest_slots, make_tracker, slot_values, texts
from rasa_sdk import Action
from rasa_sdk.executor import CollectingDispatcher

from actions.messages import MESSAGES
from actions.order_changes import (
    ActionCancelOrder,
    ActionChangeAddress,
    ActionCheckAddressChange,
    ActionOfferCancellation,
)
from actions.orders import ActionOrderStatus
from actions.verification import ValidateVerifyOrderForm
from clock import utcnow

NUMBERS = itertools.count(960_001)
ADDRESS = "1 Old Road, Springfield 10001, US"


@pytest.fixture()
def guest(api: httpx.Client) -> dict[str, Any]:
    """A regular demo customer who chats without signing in, with two fresh orders: A (older) and B (newer)."""
    response = api.get("/customers/23")
    response.raise_for_status()
    customer = response.json()
    for name, days_ago in (("A", 2), ("B", 1)):
        body = {"number": f"C-{next(NUMBERS)}", "customer_external_id": customer["external_id"], "status": "placed",
                "placed_at": (utcnow() - timedelta(days=days_ago)).isoformat(), "total_cents": 2_000,
                "shipping_address": ADDRESS,
                "items": [{"sku": "MUG-1", "name": "Stoneware mug", "quantity": 1, "unit_price_cents": 2_000}]}
        created = api.post("/orders", json=body)
        created.raise_for_status()
        customer[name] = created.json()["number"]
    return customer


def run(action: Action, domain: dict[str, Any], slots: dict[str, Any], intent: str = "track_order",
        asked_by: str | None = None) -> tuple[dict[str, Any], list[str]]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots=slots, intent=intent, sender_id="guest-proof")
    if asked_by:
        tracker.events.insert(0, {"event": "action", "name": asked_by})
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return slot_values(events), texts(dispatcher)


def form(domain: dict[str, Any], slots: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """verify_order_form's validation of this turn's new slot values; the slots it sets."""
    tracker = make_tracker(slots=slots, intent="inform", new_slot_events=new, active_loop="verify_order_form")
    return slot_values(asyncio.run(ValidateVerifyOrderForm().run(CollectingDispatcher(), tracker, domain)))


def status(api: httpx.Client, guest: dict[str, Any], number: str) -> str:
    return str(api.get(f"/customers/{guest['id']}/orders/{number}").json()["status"])


def test_the_proof_names_the_order_it_covers(guest: dict[str, Any], domain: dict[str, Any]) -> None:
    slots = form(domain, {}, {"order_number": guest["A"], "email": guest["email"]})
    assert slots["verified"] is True and slots["verified_order"] == guest["A"]

    _, said = run(ActionOrderStatus(), domain, {**guest_slots(guest, guest["A"]), "order_number": None})
    assert len(said) == 1 and guest["A"] in said[0]  # the proved order, not the account's newest (B)


def test_another_order_is_not_shown_without_its_own_proof(guest: dict[str, Any], domain: dict[str, Any]) -> None:
    slots, said = run(ActionOrderStatus(), domain, {**guest_slots(guest, guest["A"]), "order_number": guest["B"]})

    assert said == [MESSAGES["proof_covers_one_order"].format(proven=guest["A"], number=guest["B"])]
    assert slots["order_number"] is None


def test_naming_another_order_asks_for_its_email(guest: dict[str, Any], domain: dict[str, Any]) -> None:
    proved_a = {**guest_slots(guest, guest["A"]), "email": guest["email"]}

    slots = form(domain, proved_a, {"order_number": guest["B"]})
    assert slots["order_number"] == guest["B"] and slots["email"] is None  # the form asks for B's email: the one
    assert "verified_order" not in slots  # typed for A proves nothing about B

    slots = form(domain, {**proved_a, "order_number": guest["B"], "email": None}, {"email": guest["email"]})
    assert slots["verified_order"] == guest["B"]  # B proved with its own number and email
    _, said = run(ActionOrderStatus(), domain, guest_slots(guest, guest["B"]))
    assert len(said) == 1 and guest["B"] in said[0]


def test_a_guest_cannot_cancel_another_order(api: httpx.Client, guest: dict[str, Any],
                                             domain: dict[str, Any]) -> None:
    slots = {**guest_slots(guest, guest["A"]), "order_number": guest["B"], "pending_change": "cancel_order"}

    _, said = run(ActionCancelOrder(), domain, slots, intent="affirm", asked_by="action_offer_cancellation")

    assert said == [MESSAGES["proof_covers_one_order"].format(proven=guest["A"], number=guest["B"])]
    assert status(api, guest, guest["B"]) == "placed"
    _, said = run(ActionOfferCancellation(), domain, guest_slots(guest, guest["A"]), intent="cancel_order")
    assert len(said) == 1 and guest["A"] in said[0] and "cancel" in said[0].lower()  # the proved order: asked


def test_a_new_address_needs_a_signed_in_customer(api: httpx.Client, guest: dict[str, Any],
                                                  domain: dict[str, Any]) -> None:
    proved = guest_slots(guest, guest["A"])

    slots, said = run(ActionCheckAddressChange(), domain, proved, intent="change_shipping_address")
    assert said == [MESSAGES["address_needs_sign_in"]] and slots["pending_change"] is None

    slots = {**proved, "pending_change": "change_address", "new_address": "9 New Street, Springfield 10002, US"}
    _, said = run(ActionChangeAddress(), domain, slots, intent="affirm", asked_by="action_confirm_address_change")
    assert said == [MESSAGES["address_needs_sign_in"]]
    assert api.get(f"/customers/{guest['id']}/orders/{guest['A']}").json()["shipping_address"] == ADDRESS
