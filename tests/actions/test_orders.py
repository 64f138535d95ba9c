"""Order look-ups answer only about the verified customer's own orders."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from helpers import demo_customer, demo_orders, make_tracker, slot_values, texts, verified_slots
from rasa_sdk import Action
from rasa_sdk.executor import CollectingDispatcher

from actions.messages import MESSAGES
from actions.orders import ActionInvoice, ActionOrderStatus, ActionRefundStatus


def run(action: Action, domain: dict[str, Any], slots: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, make_tracker(slots=slots), domain))
    return slot_values(events), texts(dispatcher)


def test_latest_order_status(api: httpx.Client, domain: dict[str, Any]) -> None:
    customer = demo_customer(api, "gold")
    latest = demo_orders(api, customer["id"])[0]

    slots, said = run(ActionOrderStatus(), domain, verified_slots(customer))

    assert slots == {"order_number": latest["number"]}
    assert len(said) == 1 and latest["number"] in said[0]


def test_a_shipped_order_gives_carrier_and_tracking_number(api: httpx.Client, domain: dict[str, Any]) -> None:
    customer = demo_customer(api, "platinum")
    shipped = next(o for o in demo_orders(api, customer["id"]) if o["status"] == "shipped" and o["tracking_number"])

    _, said = run(ActionOrderStatus(), domain, {**verified_slots(customer), "order_number": shipped["number"]})

    assert len(said) == 1
    assert shipped["tracking_number"] in said[0] and shipped["carrier"] in said[0]


def test_nobody_sees_another_customers_order(api: httpx.Client, domain: dict[str, Any]) -> None:
    someone_else = demo_orders(api, demo_customer(api, "platinum")["id"])[0]["number"]

    slots, said = run(ActionOrderStatus(), domain, {**verified_slots(demo_customer(api, "bronze")),
                                                    "order_number": someone_else})

    assert slots == {"order_number": None}
    assert said == [MESSAGES["order_not_found"].format(number=someone_else)]


def test_refund_status_of_the_newest_refund(api: httpx.Client, domain: dict[str, Any]) -> None:
    customer = demo_customer(api, "platinum")
    refunded = next(o for o in demo_orders(api, customer["id"]) if o["refund_status"])

    slots, said = run(ActionRefundStatus(), domain, verified_slots(customer))

    assert slots == {"order_number": refunded["number"]}
    assert len(said) == 1 and refunded["number"] in said[0]
    assert said[0].startswith(MESSAGES[f"refund_{refunded['refund_status']}"].split("{")[0])


def test_invoice_of_the_newest_invoiced_order(api: httpx.Client, domain: dict[str, Any]) -> None:
    customer = demo_customer(api, "silver")
    invoiced = next(o for o in demo_orders(api, customer["id"]) if o["invoice_number"])

    _, said = run(ActionInvoice(), domain, verified_slots(customer))

    assert len(said) == 1 and invoiced["invoice_number"] in said[0]
    assert f"(https://shop.example.com/account/invoices/{invoiced['invoice_number']})" in said[0], said


def test_an_unverified_visitor_gets_no_order_data(routing_url: str, domain: dict[str, Any]) -> None:
    slots, said = run(ActionOrderStatus(), domain, {"verified": False, "order_number": "C-100001",
                                                    "verify_attempts": 3.0})

    assert said == []
    assert slots == {"verify_attempts": 0.0}
