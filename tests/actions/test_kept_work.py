"""Kept work while the routing service is unreachable: a request for a person before its decision, messages for the
agent during a live handoff, a packet the service refuses; against the real routing service, stopped and back."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timezone
from typing import Any

import httpx
from conftest import routing_down
from helpers import demo_customer, make_tracker, slot_values, texts, verified_slots
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import kept_work
from actions.decisions import ActionRoute
from actions.handoff import ActionRelayToAgent, escalate, fit
from actions.messages import MESSAGES
from actions.retry import ActionRetryEscalation
from clock import FixedClock, use


def _run(action: Action, tracker: Tracker, domain: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return events, texts(dispatcher)


def _agent_view(routing_url: str, escalation_id: int) -> dict[str, Any]:
    """The escalation as the VIP desk's demo agent sees it in the console (messages included)."""
    with httpx.Client(base_url=f"{routing_url}/api/v1/agent", timeout=10) as http:
        login = http.post("/login", json={"login": "alice", "password": "demo", "session": "bearer"})
        login.raise_for_status()
        http.headers["Authorization"] = f"Bearer {login.json()['token']}"
        detail = http.get(f"/escalations/{escalation_id}")
        detail.raise_for_status()
        return dict(detail.json())


def test_the_store_plans_tries_and_postpones_what_it_hands_out() -> None:
    start = datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc)
    with use(FixedClock(start)) as clock:
        kept_work.remember("c-1")
        kept_work.remember("c-2", attempt=3)
        assert kept_work.due() == []
        clock.advance(5)
        assert kept_work.due() == ["c-1"]
        assert kept_work.due() == []  # handed out once: postponed until the retry plans the next try
        clock.advance(20)
        assert sorted(kept_work.due()) == ["c-1", "c-2"]
        kept_work.forget("c-1")
        assert kept_work.attempt_of("c-1") == 0 and kept_work.attempt_of("c-2") == 3


def test_a_sign_in_to_check_is_kept_beside_the_work_and_goes_with_it(tmp_path: Any,
                                                                     monkeypatch: Any) -> None:
    old = tmp_path / "old-kept-work.db"  # a store written before tokens were kept (no token column)
    with sqlite3.connect(old) as conn:
        conn.execute("CREATE TABLE kept_work (conversation_id TEXT PRIMARY KEY, due_at REAL NOT NULL, "
                     "attempt INTEGER NOT NULL)")
        conn.execute("INSERT INTO kept_work VALUES ('c-old', 0, 2)")
    monkeypatch.setenv("CONCIERGE_KEPT_WORK_DB", str(old))
    assert kept_work.token_of("c-old") is None and kept_work.attempt_of("c-old") == 2
    kept_work.remember("c-1", token="a.signed.token")
    kept_work.remember("c-1", attempt=2)  # the next try's plan keeps the token
    assert kept_work.token_of("c-1") == "a.signed.token" and kept_work.attempt_of("c-1") == 2
    kept_work.forget("c-1")
    assert kept_work.token_of("c-1") is None


def test_a_request_for_a_person_is_kept_when_the_decision_cannot_be_asked(
        routing_url: str, api: httpx.Client, domain: dict[str, Any]) -> None:
    sender = "kept-request"
    tracker = make_tracker(slots=verified_slots(demo_customer(api, "platinum")), intent="contact_human_agent",
                           text="I need a person now", sender_id=sender)
    tracker.latest_message["message_id"] = "turn-1"
    with routing_down(routing_url):
        events, said = _run(ActionRoute(), tracker, domain)
    kept = slot_values(events)["pending_escalation"]
    assert said == [MESSAGES["handoff_pending"]]
    assert kept["request"]["intent"] == "contact_human_agent" and kept_work.attempt_of(sender) == 1

    # the service is back: the loop's retry decides and escalates, with the key of the customer's turn
    retry = make_tracker(slots={**verified_slots(demo_customer(api, "platinum")), "pending_escalation": kept},
                         intent="EXTERNAL_retry_escalation", sender_id=sender)
    events, said = _run(ActionRetryEscalation(), retry, domain)
    slots = slot_values(events)
    assert slots["pending_escalation"] is None and slots["handoff_active"] is True and len(said) == 1
    assert kept_work.attempt_of(sender) == 0
    opened = api.get("/escalations/open", params={"conversation_id": sender}).json()
    assert opened["id"] == slots["escalation_id"] and opened["queue"] == "vip"

    # a duplicate retry (an answer lost on the way) finds the same escalation, never a second one
    again, _ = _run(ActionRetryEscalation(), retry, domain)
    assert slot_values(again)["escalation_id"] == slots["escalation_id"]


def test_a_kept_request_the_policy_answers_itself_gets_the_teams_hours(
        routing_url: str, api: httpx.Client, domain: dict[str, Any]) -> None:
    """A bronze customer's first request for a person is not escalated: the retry answers as the routing step would
    have (the team's hours), and clears the kept request. Before, the retry sent the hours template without its
    values, the action failed, and the request was tried again every round."""
    sender = "kept-request-bronze"
    slots = verified_slots(demo_customer(api, "bronze"))
    tracker = make_tracker(slots=slots, intent="contact_human_agent", text="can I talk to someone", sender_id=sender)
    tracker.latest_message["message_id"] = "turn-1"
    with routing_down(routing_url):
        events, _ = _run(ActionRoute(), tracker, domain)
    kept = slot_values(events)["pending_escalation"]
    assert kept["request"]["intent"] == "contact_human_agent"

    retry = make_tracker(slots={**slots, "pending_escalation": kept}, intent="EXTERNAL_retry_escalation",
                         sender_id=sender)
    events, said = _run(ActionRetryEscalation(), retry, domain)
    routed, answered = _run(ActionRoute(), make_tracker(slots=slots, intent="contact_human_agent",
                                                        text="can I talk to someone", sender_id=f"{sender}-live"),
                            domain)
    assert slot_values(routed)["routing_decision"] == "self_service"
    assert said == answered and said and "{" not in said[0]  # the same answer as the live routing step
    retried = slot_values(events)
    assert retried["pending_escalation"] is None and retried["routing_decision"] == "self_service"
    assert kept_work.attempt_of(sender) == 0
    assert api.get("/escalations/open", params={"conversation_id": sender}).status_code == 404


def test_messages_for_the_agent_are_kept_in_order_and_relayed_once(
        routing_url: str, api: httpx.Client, domain: dict[str, Any]) -> None:
    sender = "kept-relay"
    start = make_tracker(slots=verified_slots(demo_customer(api, "platinum")), intent="contact_human_agent",
                         text="a person please", sender_id=sender)
    escalation_id = slot_values(_run(ActionRoute(), start, domain)[0])["escalation_id"]
    slots: dict[str, Any] = {"handoff_active": True, "escalation_id": escalation_id}
    told = []
    with routing_down(routing_url):
        for n in (1, 2, 3):
            tracker = make_tracker(slots=slots, intent="inform", text=f"message {n}", sender_id=sender)
            tracker.latest_message["message_id"] = f"m{n}"
            events, said = _run(ActionRelayToAgent(), tracker, domain)
            slots = {**slots, **slot_values(events)}
            told += said
    assert told == [MESSAGES["handoff_relay_kept"]]  # said once, never "please send it again"
    assert [m["text"] for m in slots["pending_relay"]] == ["message 1", "message 2", "message 3"]

    retry = make_tracker(slots=slots, intent="EXTERNAL_retry_escalation", sender_id=sender)
    events, said = _run(ActionRetryEscalation(), retry, domain)
    assert slot_values(events)["pending_relay"] is None and said == []
    _run(ActionRetryEscalation(), retry, domain)  # a duplicate retry sends nothing twice
    customer = [m["text"] for m in _agent_view(routing_url, escalation_id)["messages"]
                if m["sender"] == "customer" and m["text"].startswith("message ")]
    assert customer == ["message 1", "message 2", "message 3"]


def test_a_refused_escalation_is_not_retried_and_the_customer_is_told(routing_url: str,
                                                                     domain: dict[str, Any]) -> None:
    tracker = make_tracker(intent="complaint", text="terrible", sender_id="kept-refused")
    decision = {"decision": "escalate", "queue": "no-such-queue", "priority": 10, "sla_seconds": 3600,
                "reason": "Complaints always reach a person.", "rule": "fairness.always_escalate", "tier": "bronze",
                "offer_human": False, "decision_id": 1}
    dispatcher = CollectingDispatcher()
    events = asyncio.run(escalate(dispatcher, tracker, "complaint", decision))

    assert texts(dispatcher) == [MESSAGES["handoff_refused"]]
    assert slot_values(events) == {"pending_escalation": None} and kept_work.attempt_of("kept-refused") == 0


def test_a_packet_is_trimmed_to_what_the_service_accepts() -> None:
    body = {"reason": "r" * 3000, "summary": "s" * 5000, "tier_reason": "", "rule": "x",
            "contact": {"email": "a@example.com", "name": "N" * 200, "phone": None}}
    fitted = fit(body)
    assert len(fitted["reason"]) == 2000 and len(fitted["summary"]) == 4000
    assert len(fitted["contact"]["name"]) == 120 and fitted["contact"]["email"] == "a@example.com"
    assert fit({**body, "contact": {"email": "not an email", "name": "N", "phone": None}})["contact"] is None
