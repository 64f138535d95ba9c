"""Handoff actions against the real routing service: packet, idempotency, outbox retry, relay, resume."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from conftest import routing_down
from helpers import demo_customer, make_tracker, slot_values, texts, verified_slots
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import kept_work
from actions.decisions import ActionRoute
from actions.handoff import ActionCaptureContact, ActionHandoffEnded, ActionRelayToAgent, escalate
from actions.messages import MESSAGES
from actions.retry import ActionRetryEscalation


def _run(action: Action, tracker: Tracker, domain: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return events, texts(dispatcher)


def _handoff_states(dispatcher: CollectingDispatcher) -> list[dict[str, Any]]:
    """The custom payloads the chat widget reads (`{"handoff": state, ...}`)."""
    return [m["custom"]["data"] for m in dispatcher.messages if m.get("custom")]


def _escalated(api: httpx.Client, domain: dict[str, Any], sender: str) -> tuple[dict[str, Any], Tracker]:
    tracker = make_tracker(slots=verified_slots(demo_customer(api, "platinum")), intent="contact_human_agent",
                           text="I need a person please", sender_id=sender)
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionRoute().run(dispatcher, tracker, domain))
    [state] = _handoff_states(dispatcher)  # the widget shows the queue (and position / wait) in its header
    assert state["handoff"] == "waiting" and state["queue"] and "position" in state and "wait_seconds" in state
    return slot_values(events), tracker


def test_the_same_turn_never_escalates_twice(api: httpx.Client, domain: dict[str, Any]) -> None:
    first, tracker = _escalated(api, domain, "handoff-idempotent")
    again, _ = _run(ActionRoute(), tracker, domain)

    assert isinstance(first["escalation_id"], int)
    assert slot_values(again)["escalation_id"] == first["escalation_id"]
    status = api.get(f"/escalations/{first['escalation_id']}").json()
    assert status["conversation_id"] == "handoff-idempotent" and status["queue"] == "vip"


def test_an_escalation_survives_a_routing_outage(routing_url: str, domain: dict[str, Any]) -> None:
    tracker = make_tracker(intent="complaint", text="This is unacceptable", sender_id="handoff-outage")
    decision = {"decision": "escalate", "queue": "general", "priority": 10, "sla_seconds": 3600,
                "reason": "Complaints always reach a person.", "rule": "fairness.always_escalate", "tier": "bronze",
                "offer_human": False, "decision_id": 1}
    dispatcher = CollectingDispatcher()
    with routing_down(routing_url):
        events = asyncio.run(escalate(dispatcher, tracker, "complaint", decision))
    assert texts(dispatcher) == [MESSAGES["handoff_pending"]]
    kept = slot_values(events)["pending_escalation"]
    assert kept["packet"]["transcript"][-1]["text"] == "This is unacceptable"
    assert kept_work.attempt_of("handoff-outage") == 1  # the action server's loop will retry it

    # still down at the next try: kept again, tried later, and the customer is not told twice
    retry = make_tracker(slots={"pending_escalation": kept}, sender_id="handoff-outage")
    with routing_down(routing_url):
        events, said = _run(ActionRetryEscalation(), retry, domain)
    assert said == [] and slot_values(events)["pending_escalation"]["attempt"] == 2
    assert kept_work.attempt_of("handoff-outage") == 2

    # back: the kept escalation is sent, once, even if a duplicate retry runs
    events, said = _run(ActionRetryEscalation(), retry, domain)
    slots = slot_values(events)
    assert slots["pending_escalation"] is None and isinstance(slots["escalation_id"], int) and len(said) == 1
    assert kept_work.attempt_of("handoff-outage") == 0
    events, _ = _run(ActionRetryEscalation(), retry, domain)
    assert slot_values(events)["escalation_id"] == slots["escalation_id"]


def test_relay_forwards_once_and_resumes_when_closed(api: httpx.Client, domain: dict[str, Any]) -> None:
    first, _ = _escalated(api, domain, "handoff-relay")
    slots = {"handoff_active": True, "escalation_id": first["escalation_id"]}
    tracker = make_tracker(slots=slots, intent="track_order", text="still waiting for my parcel",
                           sender_id="handoff-relay")

    events, said = _run(ActionRelayToAgent(), tracker, domain)
    assert events == [] and said == []  # forwarded, and the bot says nothing
    _run(ActionRelayToAgent(), tracker, domain)  # the same turn again is not stored twice (idempotency key)

    api.post(f"/escalations/{first['escalation_id']}/abandon", json={"reason": "test"}).raise_for_status()
    tracker.latest_message["message_id"] = "a-later-turn"
    events, said = _run(ActionRelayToAgent(), tracker, domain)
    assert said == [MESSAGES["handoff_resumed"]]
    assert slot_values(events) == {"handoff_active": False, "escalation_id": None, "pending_relay": None}


def test_handoff_end_resumes_the_bot_or_offers_a_callback(routing_url: str, domain: dict[str, Any]) -> None:
    def ended(status: str, slots: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        tracker = make_tracker(slots={"handoff_active": True, "escalation_id": 7, **slots},
                               intent="EXTERNAL_handoff_ended", sender_id="handoff-end")
        tracker.latest_message["entities"] = [{"entity": "handoff_status", "value": status}]
        dispatcher = CollectingDispatcher()
        events = asyncio.run(ActionHandoffEnded().run(dispatcher, tracker, domain))
        assert _handoff_states(dispatcher) == [{"handoff": "ended"}]  # the widget shows the bot is back
        return slot_values(events), texts(dispatcher)

    slots, said = ended("resolved", {})
    assert said == [MESSAGES["handoff_resumed"]] and slots["handoff_active"] is False
    slots, said = ended("expired", {})
    assert said == [MESSAGES["handoff_expired_ask_contact"]] and slots["awaiting_contact"] is True
    slots, said = ended("expired", {"verified": True})
    assert said == [MESSAGES["handoff_expired_known_contact"]] and slots["escalation_id"] is None



def test_the_rating_key_of_a_chat_with_a_person_goes_to_the_widget(domain: dict[str, Any]) -> None:
    """The routing service's `rating_key` entity (not in the domain: Rasa keeps a triggered intent's entities) is
    handed to the widget with the "ended" state; without one, the widget gets no key (and asks no rating)."""
    tracker = make_tracker(slots={"handoff_active": True, "escalation_id": 7}, intent="EXTERNAL_handoff_ended",
                           sender_id="handoff-rated")
    tracker.latest_message["entities"] = [{"entity": "handoff_status", "value": "resolved"},
                                          {"entity": "relay_id", "value": "outbox:12"},
                                          {"entity": "rating_key", "value": "a1b2c3"}]
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionHandoffEnded().run(dispatcher, tracker, domain))
    assert _handoff_states(dispatcher) == [{"handoff": "ended", "rating_key": "a1b2c3"}]
    assert "rating_key" not in domain["entities"]  # no domain change (no retrain)


def test_after_expiry_the_customer_leaves_contact_details(api: httpx.Client, domain: dict[str, Any]) -> None:
    first, _ = _escalated(api, domain, "handoff-callback")
    escalation_id = first["escalation_id"]
    waiting = {"awaiting_contact": True, "escalation_id": escalation_id}

    tracker = make_tracker(slots=waiting, intent="inform", text="hmm, not sure", sender_id="handoff-callback")
    events, said = _run(ActionCaptureContact(), tracker, domain)
    assert said == [MESSAGES["callback_contact_invalid"]] and events == []  # asked again, nothing lost

    tracker = make_tracker(slots=waiting, intent="inform", text="call me on +1 555 0199 please",
                           sender_id="handoff-callback")
    events, said = _run(ActionCaptureContact(), tracker, domain)
    assert said == [MESSAGES["callback_confirmed"].format(contact="+1 555 0199")]
    assert slot_values(events) == {"awaiting_contact": False, "escalation_id": None}
    status = api.get(f"/escalations/{escalation_id}").json()
    assert status["status"] == "callback_requested" and status["alternative"] == "callback"


def test_contact_left_for_a_request_closed_meanwhile_is_not_confirmed(api: httpx.Client,
                                                                       domain: dict[str, Any]) -> None:
    first, _ = _escalated(api, domain, "handoff-callback-closed")
    escalation_id = first["escalation_id"]
    api.post(f"/escalations/{escalation_id}/abandon", json={}).raise_for_status()  # the customer left meanwhile

    tracker = make_tracker(slots={"awaiting_contact": True, "escalation_id": escalation_id}, intent="inform",
                           text="my email is pat@example.com", sender_id="handoff-callback-closed")
    events, said = _run(ActionCaptureContact(), tracker, domain)
    assert said == [MESSAGES["callback_closed"]], "no promise of a callback that nobody will make"
    assert slot_values(events) == {"awaiting_contact": False, "escalation_id": None}
    status = api.get(f"/escalations/{escalation_id}").json()
    assert status["status"] == "abandoned", "still the customer's earlier choice: nobody will call"
