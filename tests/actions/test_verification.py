"""verify_order_form: only an order number together with that order's email identifies a customer."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from helpers import demo_customer, demo_orders, make_tracker, slot_values, texts, verified_slots
from rasa_sdk.executor import CollectingDispatcher

from actions.messages import MESSAGES
from actions.verification import MAX_ATTEMPTS, ValidateVerifyOrderForm, normalise_order_number


def validate(domain: dict[str, Any], slots: dict[str, Any] | None = None,
             new: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots=slots, intent="inform", new_slot_events=new, active_loop="verify_order_form")
    events = asyncio.run(ValidateVerifyOrderForm().run(dispatcher, tracker, domain))
    return slot_values(events), texts(dispatcher)


def test_order_numbers_are_normalised() -> None:
    assert normalise_order_number("c100042") == "C-100042"
    assert normalise_order_number(" C-100042 ") == "C-100042"
    assert normalise_order_number("100042") is None
    assert normalise_order_number(None) is None


def test_matching_order_number_and_email_verify_the_customer(api: httpx.Client, domain: dict[str, Any]) -> None:
    customer = demo_customer(api, "gold")
    order = demo_orders(api, customer["id"])[0]["number"]

    slots, said = validate(domain, new={"order_number": order.lower().replace("-", ""),
                                        "email": customer["email"].upper()})

    assert slots["verified"] is True
    assert slots["customer_id"] == customer["id"] and slots["tier"] == "gold"
    assert slots["order_number"] == order
    assert slots["requested_slot"] is None  # the form is done
    assert said == [MESSAGES["verified"].format(customer_name=customer["name"])]


def test_a_wrong_email_grants_nothing_and_asks_again(api: httpx.Client, domain: dict[str, Any]) -> None:
    customer = demo_customer(api, "silver")
    order = demo_orders(api, customer["id"])[0]["number"]

    slots, said = validate(domain, slots={"order_number": order}, new={"email": "platinum@example.com"})

    assert "verified" not in slots and "customer_id" not in slots
    assert slots["order_number"] is None and slots["email"] is None
    assert slots["verify_attempts"] == 1.0
    assert said == [MESSAGES["verify_order_failed"]]


def test_a_typed_email_alone_grants_nothing(routing_url: str, domain: dict[str, Any]) -> None:
    slots, said = validate(domain, new={"email": "platinum@example.com"})

    assert slots == {"email": "platinum@example.com"}
    assert said == []


def test_the_last_failed_attempt_gives_up(api: httpx.Client, domain: dict[str, Any]) -> None:
    order = demo_orders(api, demo_customer(api, "bronze")["id"])[0]["number"]

    slots, said = validate(domain, slots={"verify_attempts": float(MAX_ATTEMPTS - 1), "order_number": order},
                           new={"email": "nobody@example.com"})

    assert slots["verify_attempts"] == float(MAX_ATTEMPTS)
    assert slots["requested_slot"] is None
    assert said == [MESSAGES["verify_order_gave_up"]]


def test_invalid_values_are_rejected_with_a_hint(domain: dict[str, Any]) -> None:
    slots, said = validate(domain, new={"order_number": "12"})
    assert slots["order_number"] is None
    assert said == [MESSAGES["invalid_order_number"]]

    slots, said = validate(domain, new={"email": "not-an-email"})
    assert slots["email"] is None
    assert said == [MESSAGES["invalid_email"]]


def test_a_verified_customer_is_not_asked_anything(api: httpx.Client, domain: dict[str, Any]) -> None:
    slots, said = validate(domain, slots=verified_slots(demo_customer(api, "platinum")))

    assert slots == {"requested_slot": None}
    assert said == []
