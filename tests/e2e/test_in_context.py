"""A message read in the light of what the bot waits for, end to end over REST with the real model, rules, actions
and routing service: the three conversations of the issue ("order 42", "no wait, where is it actually?" after
"cancel my order", "so where is it" after a long message), a follow-up while a yes/no question waits, and a change of
subject that still works as before."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import httpx
import pytest
import yaml

from clock import utcnow
from launcher.settings import ROOT, StackSettings
from tests.e2e.customers import RestCustomer, bot_messages

pytestmark = pytest.mark.clock  # a return window and delivery dates: CI runs it at other instants too

NUMBERS = itertools.count(970_001)
MESSAGES = bot_messages()
SHOPPERS = {"track": 31, "return": 33}  # regular demo customers no other e2e test uses
LATE_PARCEL = ("hi, I ordered a lamp two weeks ago and it still has not arrived, the tracking page says nothing and I "
               "am getting worried because it is a gift")


@pytest.fixture(scope="module")
def api(stack: StackSettings) -> Any:
    with httpx.Client(base_url=f"{stack.routing_url}/api/v1", timeout=10,
                      headers={"Authorization": f"Bearer {stack.service_token}"}) as client:
        yield client


def shopper(api: httpx.Client, flow: str) -> dict[str, Any]:
    response = api.get(f"/customers/{SHOPPERS[flow]}")
    response.raise_for_status()
    return dict(response.json())


def texts(replies: list[dict[str, Any]]) -> list[str]:
    return [reply["text"] for reply in replies if reply.get("text")]


def failures(customer: RestCustomer) -> float:
    return float(customer.tracker()["slots"]["bot_failures"] or 0)


def test_order_42_gets_the_order_numbers_own_correction_and_the_question_again(stack: StackSettings) -> None:
    customer = RestCustomer(stack, "in-context-42")
    assert texts(customer.say("where is my order?")) == [MESSAGES["ask_order_number"]]

    # before: "Sorry, I'm not sure I understood. Did you mean one of these?" (Place an order / Where is my order?)
    assert texts(customer.say("order 42")) == [MESSAGES["invalid_order_number"], MESSAGES["ask_order_number"]]
    assert failures(customer) == 0.0, "a value typed wrong is understood, not a failure of the bot"


def test_no_wait_where_is_it_after_cancel_my_order_continues_with_tracking(stack: StackSettings,
                                                                          api: httpx.Client) -> None:
    owner = shopper(api, "track")
    order = api.get(f"/customers/{owner['id']}/orders", params={"limit": 1}).json()["orders"][0]
    customer = RestCustomer(stack, "in-context-cancel")
    assert texts(customer.say("cancel my order"))[-1] == MESSAGES["ask_order_number"]

    # before: the fallback's "Did you mean one of these?"
    assert texts(customer.say("no wait, where is it actually?")) == [
        MESSAGES["switch_done"].format(other="check where your order is"), MESSAGES["ask_order_number"]]
    assert texts(customer.say(order["number"])) == [MESSAGES["ask_email"]]
    verified, status = texts(customer.say(owner["email"]))

    assert verified == MESSAGES["verified"].format(customer_name=owner["name"])
    assert status.startswith(MESSAGES[f"order_{order['status']}"].split("{")[0]), "the order's status, no cancelling"
    assert customer.tracker()["slots"]["pending_change"] is None
    assert failures(customer) == 0.0


def test_so_where_is_it_after_a_long_message_about_a_late_parcel_carries_on(stack: StackSettings) -> None:
    customer = RestCustomer(stack, "in-context-late")
    assert texts(customer.say(LATE_PARCEL)) == [MESSAGES["ask_order_number"]]

    # before: the fallback's "Did you mean one of these?"
    assert texts(customer.say("so where is it")) == [MESSAGES["switch_same"], MESSAGES["ask_order_number"]]
    assert customer.tracker()["slots"]["order_query"] == "order_status" and failures(customer) == 0.0


def test_a_follow_up_while_a_return_waits_for_yes_or_no_is_answered_then_asked_again(stack: StackSettings,
                                                                                   api: httpx.Client) -> None:
    owner = shopper(api, "return")
    number, placed = f"C-{next(NUMBERS)}", utcnow() - timedelta(days=5)
    api.post("/orders", json={
        "number": number, "customer_external_id": owner["external_id"], "status": "delivered",
        "placed_at": placed.isoformat(), "shipped_at": (placed + timedelta(days=1)).isoformat(),
        "delivered_at": (placed + timedelta(days=3)).isoformat(), "carrier": "DHL", "tracking_number": "JD02",
        "total_cents": 500, "shipping_address": "1 Old Road",
        "items": [{"sku": "TEA-1", "name": "Green tea", "quantity": 1, "unit_price_cents": 500}]}).raise_for_status()
    customer = RestCustomer(stack, "in-context-return")
    assert texts(customer.say(f"I want to return order {number}"))[-1] == MESSAGES["ask_email"]
    question = texts(customer.say(owner["email"]))[-1]
    assert question.startswith(MESSAGES["return_confirm"].split("{")[0] + number)

    delivered = MESSAGES["order_delivered"].format(number=number, delivered_on=(placed + timedelta(days=3)).date())
    assert texts(customer.say("so where is it now")) == [delivered, question]
    assert texts(customer.say("maybe")) == [MESSAGES["form_rephrase"], question]
    assert texts(customer.say("no")) == [MESSAGES["change_kept"].format(number=number)]
    assert failures(customer) == 1.0, "only 'maybe' was not understood"


def test_a_change_of_subject_during_the_order_check_still_works_as_before(stack: StackSettings) -> None:
    customer = RestCustomer(stack, "in-context-subject")
    customer.say("where is my order?")
    answer = yaml.safe_load((ROOT / "domain.yml").read_text())["responses"]["utter_check_payment_methods"][0]["text"]

    assert texts(customer.say("what payment methods do you take?")) == [answer, MESSAGES["ask_order_number"]]
    assert texts(customer.say("I want to talk to a human"))[0] != MESSAGES["ask_order_number"]
    assert customer.tracker()["active_loop"].get("name") is None, "asking for a person leaves the order check"
