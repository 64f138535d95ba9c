"""Live human handoff: escalate with the handoff packet, relay the customer's messages, resume the bot.

While the slot `handoff_active` is set, bot_policies.handoff.HandoffPolicy answers every customer message with
`action_relay_to_agent` (and nothing else), so the bot never talks over the agent. The routing service ends the
handoff by triggering the external intent `EXTERNAL_handoff_ended`. If the routing service is down when the
customer is escalated, the packet waits in the slot `pending_escalation` (the tracker store is the outbox) and a
Rasa reminder retries it with the same idempotency key, so nothing is lost and nothing is sent twice.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, ReminderScheduled, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.customer import verified_customer_id
from actions.hours import customer_zone, instant_text, parse
from actions.messages import say
from actions.routing_client import Decision, EscalationStatus, RoutingClient, RoutingError
from clock import system_time_after

logger = logging.getLogger(__name__)

TRANSCRIPT_LINES = 40
RETRY_SECONDS = (5, 15, 30, 60, 120, 300)
PHONE = re.compile(r"\+?\d[\d ().-]{6,}\d")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
FACT_SLOTS = ("order_number", "order_query", "email")
EXTERNAL_PREFIX = "EXTERNAL: "  # the text Rasa gives intents the routing service triggers (not the customer's words)


def transcript(tracker: Tracker) -> list[dict[str, Any]]:
    """The conversation so far (customer, bot and agent turns), newest TRANSCRIPT_LINES lines."""
    lines: list[dict[str, Any]] = []
    for event in tracker.events:
        text = event.get("text")
        if not text or event.get("event") not in ("user", "bot") or text.startswith(EXTERNAL_PREFIX):
            continue
        if event["event"] == "user":
            role = "customer"
        else:
            role = "agent" if (event.get("metadata") or {}).get("source") == "human" else "bot"
        at = event.get("timestamp")
        lines.append({"role": role, "text": text[:4000],
                      "at": datetime.fromtimestamp(at, timezone.utc).isoformat() if at else None})
    return lines[-TRANSCRIPT_LINES:]


def summary(tracker: Tracker, intent: str, decision: Decision, lines: list[dict[str, Any]]) -> str:
    """One paragraph an agent reads first (`lines`: the transcript)."""
    who = tracker.get_slot("customer_name") if tracker.get_slot("verified") else "A visitor who is not signed in"
    asks = [line["text"] for line in lines if line["role"] == "customer"][-3:]
    failures = int(tracker.get_slot("bot_failures") or 0)
    return (f"{who} ({decision['tier']}) was escalated on '{intent}' by rule {decision['rule']}: "
            f"{decision['reason']} Bot failures so far: {failures}. Last messages: " + " | ".join(asks))


def packet(tracker: Tracker, intent: str, decision: Decision) -> dict[str, Any]:
    """The handoff packet; its idempotency key is the customer's turn that caused it."""
    turn = tracker.latest_message.get("message_id") or str(len(tracker.events))
    email = tracker.get_slot("email")
    lines = transcript(tracker)
    return {
        "conversation_id": tracker.sender_id,
        "idempotency_key": f"{tracker.sender_id}:{turn}",
        "customer_id": verified_customer_id(tracker),
        "tier": decision["tier"],
        "tier_reason": tracker.get_slot("tier_reason") or "",
        "queue": decision["queue"],
        "priority": decision["priority"],
        "sla_seconds": decision["sla_seconds"],
        "reason": decision["reason"],
        "rule": decision["rule"],
        "intent": intent,
        "facts": {name: tracker.get_slot(name) for name in FACT_SLOTS if tracker.get_slot(name)},
        "summary": summary(tracker, intent, decision, lines),
        "transcript": lines,
        "contact": {"email": email, "name": tracker.get_slot("customer_name"), "phone": None} if email else None,
    }


def _wait_text(seconds: int | None) -> str:
    if seconds is None:
        return "I can't estimate the wait yet"
    minutes = max(1, round(seconds / 60))
    return f"the expected wait is about {minutes} minute{'s' if minutes != 1 else ''}"


def handoff_state(state: str, **details: Any) -> dict[str, Any]:
    """The custom payload that tells the chat widget the handoff state ("waiting" with queue details, "ended")."""
    return {"data": {"handoff": state, **details}}


def reopens_text(status: EscalationStatus, tracker: Tracker) -> str:
    """" and opens again tomorrow at 07:00 New York time", or nothing when the policy names no opening."""
    reopens, zone = parse(status.get("next_open_at")), status.get("queue_timezone")
    if reopens is None or not zone:
        return ""
    return f" and opens again {instant_text(reopens, zone, customer_zone(tracker))}"


def waiting_state(status: EscalationStatus) -> dict[str, Any]:
    """The widget's waiting state: queue, place in line, expected wait, and whether the team is open."""
    return handoff_state("waiting", queue=status["queue_display_name"], position=status["position"],
                         wait_seconds=status["estimated_wait_seconds"], open=status["queue_open"])


def announce(dispatcher: CollectingDispatcher, status: EscalationStatus, tracker: Tracker) -> list[EventType]:
    """Tell the customer exactly what happens next, and set the handoff slots accordingly."""
    queue = status["queue_display_name"]
    live = status["status"] in ("waiting", "assigned", "active")
    if live and status["alternative"] is None:
        position = status["position"] or 1
        say(dispatcher, "handoff_waiting", custom=waiting_state({**status, "position": position}), queue=queue,
            position=position,
            wait=_wait_text(status["estimated_wait_seconds"]))
    elif live:
        unstaffed = handoff_state("waiting", queue=queue, position=None, wait_seconds=None)
        say(dispatcher, "handoff_unstaffed", custom=unstaffed, queue=queue)
    else:
        say(dispatcher, "handoff_closed", queue=queue, reopens=reopens_text(status, tracker),
            alternative="callback request" if status["alternative"] == "callback" else "support ticket")
    return [SlotSet("handoff_active", live), SlotSet("escalation_id", status["id"]),
            SlotSet("pending_escalation", None)]


def _retry_reminder(attempt: int) -> EventType:
    delay = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
    return ReminderScheduled("EXTERNAL_retry_escalation", system_time_after(delay),
                             name="retry_escalation", kill_on_user_message=False)


async def escalate(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str,
                   decision: Decision) -> list[EventType]:
    """Open the escalation with the handoff packet; if the routing service is down, keep it and retry later."""
    body = packet(tracker, intent, decision)
    try:
        async with RoutingClient() as client:
            return announce(dispatcher, await client.escalate(body), tracker)
    except RoutingError:
        logger.exception("escalation kept for retry (conversation %s)", tracker.sender_id)
        say(dispatcher, "handoff_pending")
        return [SlotSet("pending_escalation", {"packet": body, "attempt": 1}), _retry_reminder(0)]


class ActionRetryEscalation(Action):
    """Reminder target: send the kept escalation again (same idempotency key, so never twice)."""

    def name(self) -> str:
        return "action_retry_escalation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        pending = tracker.get_slot("pending_escalation")
        if not pending:
            return []
        try:
            async with RoutingClient() as client:
                status = await client.escalate(pending["packet"])
        except RoutingError:
            attempt = int(pending["attempt"]) + 1
            return [SlotSet("pending_escalation", {**pending, "attempt": attempt}), _retry_reminder(attempt)]
        return announce(dispatcher, status, tracker)


class ActionQueueUpdate(Action):
    """The routing service says the customer's queue moved or their team closed: refresh the widget's place in
    line and expected wait (silently), and say so when the team has closed before an agent joined."""

    def name(self) -> str:
        return "action_queue_update"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        try:
            async with RoutingClient() as client:
                status = await client.open_escalation(tracker.sender_id)
        except RoutingError:
            return []  # the next change sends a fresh update
        if status is None or status["status"] != "waiting":
            return []
        if next(tracker.get_latest_entity_values("queue_event"), None) == "closed" and not status["queue_open"]:
            say(dispatcher, "handoff_team_closed", custom=waiting_state(status), queue=status["queue_display_name"],
                reopens=reopens_text(status, tracker))
        else:
            dispatcher.utter_message(json_message=waiting_state(status))
        return []


class ActionRelayToAgent(Action):
    """During a handoff: give the customer's message to the agent and say nothing."""

    def name(self) -> str:
        return "action_relay_to_agent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        escalation_id = tracker.get_slot("escalation_id")
        text = tracker.latest_message.get("text") or ""
        if escalation_id is None or not text:
            return []
        key = tracker.latest_message.get("message_id") or f"{tracker.sender_id}:{len(tracker.events)}"
        try:
            async with RoutingClient() as client:
                delivered = await client.forward_customer_message(int(escalation_id), text, key)
        except RoutingError:
            say(dispatcher, "handoff_relay_failed")
            return []
        if not delivered:  # the agent already closed it: the bot is back
            say(dispatcher, "handoff_resumed", custom=handoff_state("ended"))
            return [SlotSet("handoff_active", False), SlotSet("escalation_id", None)]
        return []


class ActionHandoffEnded(Action):
    """The routing service ended the handoff (resolved, handed back, expired): the bot resumes in context."""

    def name(self) -> str:
        return "action_handoff_ended"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        status = next(tracker.get_latest_entity_values("handoff_status"), "resolved")
        events: list[EventType] = [SlotSet("handoff_active", False)]
        ended = handoff_state("ended")
        if status == "expired":
            has_contact = bool(tracker.get_slot("verified") or tracker.get_slot("email"))
            say(dispatcher, "handoff_expired_known_contact" if has_contact else "handoff_expired_ask_contact",
                custom=ended)
            if has_contact:
                return events + [SlotSet("escalation_id", None)]
            return events + [SlotSet("awaiting_contact", True)]
        say(dispatcher, "handoff_resumed", custom=ended)
        return events + [SlotSet("escalation_id", None)]


class ActionCaptureContact(Action):
    """After an expired escalation: take the email or phone number the customer types, for the callback."""

    def name(self) -> str:
        return "action_capture_contact"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        email, phone = EMAIL.search(text), PHONE.search(text)
        done: list[EventType] = [SlotSet("awaiting_contact", False), SlotSet("escalation_id", None)]
        if not (email or phone):
            if intent == "deny":
                say(dispatcher, "callback_declined")
                return done
            say(dispatcher, "callback_contact_invalid")
            return []
        contact = {"email": email.group(0) if email else None, "phone": phone.group(0) if phone else None,
                   "name": tracker.get_slot("customer_name")}
        escalation_id = tracker.get_slot("escalation_id")
        if escalation_id is None:  # no escalation to attach the contact to: say where to write instead
            say(dispatcher, "callback_declined")
            return done
        try:
            async with RoutingClient() as client:
                await client.request_callback(int(escalation_id), contact)
        except RoutingError:
            say(dispatcher, "routing_unavailable")
            return done
        say(dispatcher, "callback_confirmed", contact=contact["email"] or contact["phone"])
        return done


async def reapply_handoff(conversation_id: str) -> list[EventType]:
    """At a new session: restore the handoff slots from the routing service (a live handoff outlives sessions)."""
    try:
        async with RoutingClient() as client:
            status = await client.open_escalation(conversation_id)
    except RoutingError:
        logger.exception("could not check for an open escalation of %s", conversation_id)
        return []
    if status is None:
        return [SlotSet("handoff_active", False), SlotSet("escalation_id", None)]
    return [SlotSet("handoff_active", True), SlotSet("escalation_id", status["id"])]
