"""action_session_start: the shop token decides identity and tier; nothing else does."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from helpers import demo_customer, make_tracker, slot_values
from rasa_sdk.executor import CollectingDispatcher

from actions.decisions import ActionRoute
from actions.identity import ActionSessionStart


def start_session(tracker_metadata: dict[str, Any] | None, domain: dict[str, Any],
                  slots: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    tracker = make_tracker(slots={"session_started_metadata": tracker_metadata, **(slots or {})})
    return asyncio.run(ActionSessionStart().run(CollectingDispatcher(), tracker, domain))


def test_a_valid_shop_token_sets_the_customer_and_tier(api: httpx.Client, domain: dict[str, Any]) -> None:
    token = api.post("/identity/demo-token", json={"external_id": "demo-platinum"}).json()["token"]
    expected = demo_customer(api, "platinum")

    events = start_session({"customer_token": token}, domain)

    assert events[0]["event"] == "session_started" and events[-1]["name"] == "action_listen"
    slots = slot_values(events)
    assert slots["verified"] is True
    assert slots["customer_id"] == expected["id"]
    assert slots["customer_name"] == expected["name"]
    assert slots["tier"] == "platinum"
    assert slots["tier_reason"] == expected["tier_reason"]


def test_a_forged_token_leaves_the_visitor_anonymous(routing_url: str, domain: dict[str, Any]) -> None:
    forged = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJkZW1vLXBsYXRpbnVtIn0.c2lnbmF0dXJl"

    slots = slot_values(start_session({"customer_token": forged}, domain))

    assert slots["verified"] is False and slots["customer_id"] is None
    assert slots["tier"] == "bronze"


def test_no_token_means_anonymous_and_session_state_is_reset(routing_url: str, domain: dict[str, Any]) -> None:
    previous = {"verified": True, "customer_id": 7, "tier": "gold", "bot_failures": 2.0, "order_number": "C-100001"}

    slots = slot_values(start_session(None, domain, slots=previous))

    assert slots["verified"] is False and slots["customer_id"] is None and slots["tier"] == "bronze"
    assert slots["bot_failures"] == 0.0 and slots["human_requests"] == 0.0
    assert slots["order_number"] == "C-100001"  # ordinary slots carry over into the new session


def test_signing_in_mid_session_refreshes_the_tier_before_routing(api: httpx.Client, domain: dict[str, Any]) -> None:
    token = api.post("/identity/demo-token", json={"external_id": "demo-gold"}).json()["token"]
    tracker = make_tracker(intent="contact_human_agent", text="I need a person",
                           metadata={"customer_token": token}, sender_id="identity-refresh")
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionRoute().run(dispatcher, tracker, domain))
    slots = slot_values(events)

    assert slots["tier"] == "gold" and slots["verified"] is True
    assert slots["session_started_metadata"]["customer_token"] == token
    assert slots["routing_decision"] == "escalate" and slots["routing_queue"] == "vip"


def test_a_conversation_never_escalated_skips_the_handoff_look_up(unreachable_routing: None,
                                                                  domain: dict[str, Any]) -> None:
    events = start_session(None, domain)  # the routing service is unreachable, and is not needed

    assert "handoff_active" not in slot_values(events) and "escalation_id" not in slot_values(events)


def test_a_conversation_escalated_before_asks_the_routing_service(routing_url: str, domain: dict[str, Any]) -> None:
    # escalation 999999 does not exist (any more): the new session drops the stale handoff slots
    events = start_session(None, domain, {"escalation_id": 999999, "handoff_active": True})

    slots = slot_values(events)
    assert slots["handoff_active"] is False and slots["escalation_id"] is None
