"""Small talk, restart and the two-stage fallback over the REST channel, with the real model and actions."""

from __future__ import annotations

from typing import Any

import yaml

from launcher.settings import ROOT, StackSettings
from tests.e2e.customers import RestCustomer, bot_messages, shop_token

UNCLEAR = "my order and my account"  # two topics at once: the model splits its confidence (below the 0.5 threshold)
MESSAGES = bot_messages()


def _response(name: str) -> str:
    return str(yaml.safe_load((ROOT / "domain.yml").read_text())["responses"][name][0]["text"])


def _texts(replies: list[dict[str, Any]]) -> list[str]:
    return [r["text"] for r in replies if r.get("text")]


def test_small_talk_gets_a_friendly_answer(stack: StackSettings) -> None:
    customer = RestCustomer(stack, "chitchat")
    assert _texts(customer.say("hey, how are you doing today?")) == [_response("utter_chitchat")]


def test_restart_starts_over_but_keeps_the_signed_in_customer(stack: StackSettings) -> None:
    customer = RestCustomer(stack, "restart", shop_token(stack, "demo-platinum"))
    customer.say("hello")
    customer.say("my order number is C-100001")
    assert customer.tracker()["slots"]["tier"] == "platinum"

    assert _texts(customer.say("let's start over")) == [MESSAGES["restarted"]]

    tracker = customer.tracker()
    assert any(e["event"] == "restart" for e in tracker["events"])
    slots = tracker["slots"]
    assert slots["tier"] == "platinum" and slots["verified"] is True, "restart must not downgrade the customer"
    assert slots["order_number"] is None, "the conversation's own facts are forgotten"


def test_suggestions_let_the_customer_pick_the_topic(stack: StackSettings) -> None:
    customer = RestCustomer(stack, "fallback-pick")
    [question] = customer.say(UNCLEAR)
    assert question["text"] == MESSAGES["ask_affirmation"]
    buttons = question["buttons"]
    assert buttons[-1]["payload"] == "/out_of_scope" and 2 <= len(buttons) <= 3

    replies = customer.say("/check_refund_policy")  # the customer clicks a suggestion
    assert _texts(replies) == [_response("utter_check_refund_policy")]
    tracker = customer.tracker()
    assert tracker["active_loop"] in ({}, None) or not tracker["active_loop"].get("name")
    assert tracker["slots"]["bot_failures"] == 0.0, "a suggestion that helped is not a failure (Rasa reverts the turn)"


def test_repeated_failure_offers_a_person(stack: StackSettings) -> None:
    customer = RestCustomer(stack, "fallback-offer")
    # Rasa's two-stage fallback: suggestions; "Something else" -> rephrase; still unclear -> suggestions again;
    # declined again -> the last resort, where the routing policy lets the bot offer a person to a bronze visitor
    assert _texts(customer.say(UNCLEAR)) == [MESSAGES["ask_affirmation"]]
    assert _texts(customer.say("/out_of_scope")) == [MESSAGES["ask_rephrase"]]
    assert _texts(customer.say(UNCLEAR)) == [MESSAGES["ask_affirmation"]]
    [offer] = customer.say("/out_of_scope")
    assert offer["text"] == MESSAGES["fallback_help"]
    assert offer["buttons"] == [{"title": MESSAGES["talk_to_person"], "payload": "/contact_human_agent"}]
    assert customer.tracker()["slots"]["bot_failures"] == 2.0

    # the conversation goes on normally afterwards
    assert _texts(customer.say("what is your refund policy?")) == [_response("utter_check_refund_policy")]


def test_two_unclear_messages_bring_a_platinum_customer_to_a_person(stack: StackSettings) -> None:
    customer = RestCustomer(stack, "fallback-vip", shop_token(stack, "demo-platinum"))
    assert _texts(customer.say(UNCLEAR)) == [MESSAGES["ask_affirmation"]]
    customer.say(UNCLEAR)  # unclear again: Rasa gives up at once, and the policy escalates a platinum customer
    slots = customer.tracker()["slots"]
    assert slots["routing_decision"] == "escalate" and slots["routing_queue"] == "vip"
    assert isinstance(slots["escalation_id"], int) and slots["bot_failures"] == 2.0
