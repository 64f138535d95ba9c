"""action_route and action_fallback ask the real routing service and tell the customer what happens."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from rasa_sdk import Action
from rasa_sdk.executor import CollectingDispatcher

from actions.config import get_settings
from actions.decisions import ActionFallback, ActionRoute
from actions.messages import MESSAGES
from helpers import demo_customer, make_tracker, slot_values, texts, verified_slots


def run(action: Action, domain: dict[str, Any], intent: str,
        slots: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots=slots, intent=intent, sender_id=f"test-{intent}")
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return slot_values(events), texts(dispatcher)


HANDOFF_ANNOUNCEMENTS = ("handoff_waiting", "handoff_unstaffed", "handoff_closed")


def is_handoff_announcement(text: str) -> bool:
    """Whether `text` is one of the messages that tell the customer what happens after an escalation."""
    for key in HANDOFF_ANNOUNCEMENTS:
        pattern = re.escape(MESSAGES[key])
        pattern = re.sub(r"\\\{\w+\\\}", ".+", pattern)
        if re.fullmatch(pattern, text):
            return True
    return False


def check_said(slots: dict[str, Any], said: list[str], intent: str) -> None:
    """Escalations open a real escalation and say what happens next; self-service gives the topic's answer."""
    if slots["routing_decision"] == "escalate":
        assert isinstance(slots["escalation_id"], int)
        assert len(said) == 1 and is_handoff_announcement(said[0]), said
    else:
        assert slots["routing_decision"] == "self_service"
        assert said[0] == MESSAGES[intent]
        assert said[1:] in ([], [MESSAGES["offer_human"]])


def test_a_platinum_request_for_a_human_is_counted_and_routed(api: httpx.Client, domain: dict[str, Any]) -> None:
    slots, said = run(ActionRoute(), domain, "contact_human_agent", verified_slots(demo_customer(api, "platinum")))

    assert slots["human_requests"] == 1.0
    assert slots["routing_decision"] == "escalate" and slots["routing_queue"]
    assert slots["routing_reason"]
    check_said(slots, said, "contact_human_agent")


@pytest.mark.parametrize("intent", ["complaint", "payment_issue", "get_refund", "contact_customer_service"])
def test_anonymous_policy_topics_get_a_decision(routing_url: str, domain: dict[str, Any], intent: str) -> None:
    slots, said = run(ActionRoute(), domain, intent)

    assert slots["human_requests"] == 0.0
    assert slots["routing_reason"]
    check_said(slots, said, intent)


def test_the_first_failure_asks_to_rephrase_without_routing(routing_url: str, domain: dict[str, Any]) -> None:
    slots, said = run(ActionFallback(), domain, "nlu_fallback")

    assert slots == {"bot_failures": 1.0}
    assert said == [MESSAGES["please_rephrase"]]


def test_repeated_failures_ask_the_routing_policy(routing_url: str, domain: dict[str, Any]) -> None:
    slots, said = run(ActionFallback(), domain, "nlu_fallback", {"bot_failures": 1.0})

    assert slots["bot_failures"] == 2.0
    assert slots["routing_decision"] in {"self_service", "escalate"}
    if slots["routing_decision"] == "escalate":
        assert len(said) == 1 and is_handoff_announcement(said[0]), said
    else:
        assert said == [MESSAGES["fallback_help"]]


def test_an_unreachable_routing_service_is_explained(unreachable_routing: None, domain: dict[str, Any]) -> None:
    slots, said = run(ActionRoute(), domain, "complaint")

    assert said == [MESSAGES["routing_unavailable"]]
    assert slots["routing_decision"] is None
