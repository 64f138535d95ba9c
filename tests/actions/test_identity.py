"""action_session_start: the shop token decides identity and tier; nothing else does."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from conftest import routing_down
from helpers import demo_customer, make_tracker, shop_token, slot_values, texts, verified_slots
from rasa_sdk.executor import CollectingDispatcher

import clock
from actions.decisions import ActionRoute
from actions.identity import checked_identity
from actions.messages import MESSAGES
from actions.orders import ActionOrderStatus
from actions.session import ActionSessionStart
from clock import FixedClock, utcnow


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


# --- identity follows the token on every turn that uses it (#14, point 4) ------------------------------------------

def order_status(domain: dict[str, Any], slots: dict[str, Any], metadata: dict[str, Any] | None = None,
                 sender_id: str = "identity-check") -> tuple[dict[str, Any], list[str]]:
    """What action_order_status says and sets for this turn."""
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots=slots, intent="track_order", metadata=metadata, sender_id=sender_id)
    events = asyncio.run(ActionOrderStatus().run(dispatcher, tracker, domain))
    return slot_values(events), texts(dispatcher)


def test_a_message_without_the_sign_in_token_ends_the_identity(api: httpx.Client, domain: dict[str, Any]) -> None:
    slots = verified_slots(demo_customer(api, "gold"))

    _, said = order_status(domain, slots)  # the widget sends the token with every message
    assert len(said) == 1 and "Order C-" in said[0]

    changed, said = order_status(domain, slots, metadata={})  # signed out on the shop, or a forged tracker
    assert said == [MESSAGES["sign_in_ended"]]
    assert changed["verified"] is False and changed["customer_id"] is None and changed["tier"] == "bronze"


def test_an_expired_token_ends_the_identity(api: httpx.Client, domain: dict[str, Any]) -> None:
    expired = shop_token("demo-gold", ttl=timedelta(hours=1), issued=-timedelta(hours=2))

    changed, said = order_status(domain, verified_slots(demo_customer(api, "gold"), expired))

    assert said == [MESSAGES["sign_in_ended"]]
    assert changed["verified"] is False and changed["customer_id"] is None and changed["tier"] == "bronze"
    assert changed["session_started_metadata"]["customer_token"] == expired  # checked: not asked about again


def test_a_token_is_trusted_until_its_exp_then_no_longer(api: httpx.Client, routing_url: str,
                                                         domain: dict[str, Any]) -> None:
    token = shop_token("demo-silver", ttl=timedelta(minutes=10))
    slots = verified_slots(demo_customer(api, "silver"), token)
    _, said = order_status(domain, slots)
    assert len(said) == 1 and "Order C-" in said[0]  # verified once by the routing service

    with routing_down(routing_url):  # remembered until exp: no need to ask the routing service again
        dispatcher = CollectingDispatcher()
        assert asyncio.run(checked_identity(dispatcher, make_tracker(slots=slots))) == []
        assert texts(dispatcher) == []
        with clock.use(FixedClock(utcnow() + timedelta(minutes=11))):  # its exp has passed: known without asking
            dispatcher = CollectingDispatcher()
            events = asyncio.run(checked_identity(dispatcher, make_tracker(slots=slots)))
            assert slot_values(events)["verified"] is False and slot_values(events)["customer_id"] is None
            assert texts(dispatcher) == [MESSAGES["sign_in_ended"]]

    # the routing service, on its own clock, still accepts the token; this clock says it has expired
    with clock.use(FixedClock(utcnow() + timedelta(minutes=11))):
        changed, said = order_status(domain, verified_slots(demo_customer(api, "silver"), token))
    assert said == [MESSAGES["sign_in_ended"]] and changed["verified"] is False


def test_a_new_token_mid_session_switches_the_customer(api: httpx.Client, domain: dict[str, Any]) -> None:
    slots = verified_slots(demo_customer(api, "gold"))
    platinum = demo_customer(api, "platinum")

    changed, said = order_status(domain, slots, metadata={"customer_token": shop_token("demo-platinum")})

    assert changed["customer_id"] == platinum["id"] and changed["tier"] == "platinum"
    assert len(said) == 1 and "Order C-" in said[0]  # no "sign-in ended": the customer signed in as someone


def test_a_signed_in_identity_without_any_token_counts_for_nothing(api: httpx.Client,
                                                                    domain: dict[str, Any]) -> None:
    slots = {**verified_slots(demo_customer(api, "platinum")), "session_started_metadata": None}

    changed, said = order_status(domain, slots)  # e.g. a tracker kept from before, or forged

    assert said == [MESSAGES["sign_in_ended"]] and changed["verified"] is False


def test_a_session_started_during_an_outage_signs_the_customer_in_on_the_next_turn(
        api: httpx.Client, routing_url: str, domain: dict[str, Any]) -> None:
    """Load or an outage at the start of a session must not serve a signed-in customer as a guest for the session."""
    token = api.post("/identity/demo-token", json={"external_id": "demo-platinum"}).json()["token"]
    with routing_down(routing_url):
        started = slot_values(start_session({"customer_token": token}, domain))
    assert started["verified"] is False  # nothing verified yet, and the token is not recorded as checked
    assert "customer_token" not in (started.get("session_started_metadata") or {})

    # the next turn: the service answers again, the same token is verified, the customer is who they are
    tracker = make_tracker(slots={k: v for k, v in started.items() if k != "session_started_metadata"},
                           intent="track_order", metadata={"customer_token": token}, sender_id="identity-outage")
    events = asyncio.run(checked_identity(CollectingDispatcher(), tracker))
    slots = slot_values(events)
    assert slots["verified"] is True and slots["tier"] == "platinum"
