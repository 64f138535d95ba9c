"""Live human handoff: escalate with the handoff packet, relay the customer's messages, resume the bot.

While the slot `handoff_active` is set, bot_policies.handoff.HandoffPolicy answers every customer message with
`action_relay_to_agent` (and nothing else), so the bot never talks over the agent. The routing service ends the
handoff by triggering the external intent `EXTERNAL_handoff_ended`. If the routing service is down when the
customer is escalated (or even before the routing decision, for a request for a person), the request waits in the
slot `pending_escalation`, and the customer's messages to the agent in `pending_relay` (the tracker store is the
outbox); actions/kept_work.py has the action server retry them with the same idempotency keys, in order, until they
arrive, so nothing is lost and nothing is sent twice. What the service refuses (4xx) is not retried: it is logged
and the customer is told.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime, timezone
from typing import Any, Literal

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import kept_work
from actions.customer import verified_customer_id
from actions.hours import customer_zone, instant_text, parse
from actions.identity import same_signed_in_customer
from actions.messages import say
from actions.routing_client import (
    Contact,
    Decision,
    EscalationPacket,
    EscalationStatus,
    Facts,
    RoutingClient,
    RoutingError,
    RoutingRefused,
    RoutingUnavailable,
    TranscriptLine,
)

logger = logging.getLogger(__name__)

TRANSCRIPT_LINES = 40
MAX_KEY = 128  # the routing service's bound on idempotency keys (and on conversation ids)
MAX_NAME = 120
MAX_EMAIL = 254
PHONE = re.compile(r"\+?\d[\d ().-]{6,}\d")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
RELAY_REFUSED_NOTICE = ("A message arrived on this conversation without the signed-in customer's sign-in (none, "
                        "expired, or another customer's). It was not passed on; the sender was asked to sign in again.")
EXTERNAL_PREFIX = "EXTERNAL: "  # the text Rasa gives intents the routing service triggers (not the customer's words)


def transcript(tracker: Tracker) -> list[TranscriptLine]:
    """The conversation so far (customer, bot and agent turns), newest TRANSCRIPT_LINES lines."""
    lines: list[TranscriptLine] = []
    for event in tracker.events:
        text = event.get("text")
        if not text or event.get("event") not in ("user", "bot") or text.startswith(EXTERNAL_PREFIX):
            continue
        role: Literal["customer", "bot", "agent"]
        if event["event"] == "user":
            role = "customer"
        else:
            role = "agent" if (event.get("metadata") or {}).get("source") == "human" else "bot"
        at = event.get("timestamp")
        lines.append({"role": role, "text": text[:4000],
                      "at": datetime.fromtimestamp(at, timezone.utc).isoformat() if at else None})
    return lines[-TRANSCRIPT_LINES:]


def summary(tracker: Tracker, intent: str, decision: Decision, lines: list[TranscriptLine]) -> str:
    """One paragraph an agent reads first (`lines`: the transcript)."""
    who = tracker.get_slot("customer_name") if tracker.get_slot("verified") else "A visitor who is not signed in"
    asks = [line["text"] for line in lines if line["role"] == "customer"][-3:]
    failures = int(tracker.get_slot("bot_failures") or 0)
    return (f"{who} ({decision['tier']}) was escalated on '{intent}' by rule {decision['rule']}: "
            f"{decision['reason']} Bot failures so far: {failures}. Last messages: " + " | ".join(asks))


def turn_key(tracker: Tracker) -> str:
    """An idempotency key for the customer's latest turn, within the routing service's bound."""
    key = f"{tracker.sender_id}:{tracker.latest_message.get('message_id') or len(tracker.events)}"
    return key if len(key) <= MAX_KEY else hashlib.sha256(key.encode()).hexdigest()


def _cut(value: Any, limit: int) -> Any:
    return value[:limit] if isinstance(value, str) else value


def _email_fits(value: object) -> bool:
    """Whether the routing service takes `value` as an email (a contact's or a fact)."""
    return isinstance(value, str) and len(value) <= MAX_EMAIL and EMAIL.fullmatch(value) is not None


def fit(body: EscalationPacket) -> EscalationPacket:
    """The packet trimmed to what the routing service accepts (a long name or reason, or an email it would not
    take, must not lose the request)."""
    facts: Facts = {**body.get("facts", {})}
    if "email" in facts and not _email_fits(facts["email"]):
        del facts["email"]
    fitted: EscalationPacket = {
        **body, "tier_reason": _cut(body.get("tier_reason"), 2000), "reason": _cut(body.get("reason"), 2000),
        "summary": _cut(body.get("summary"), 4000), "rule": _cut(body.get("rule"), 128), "facts": facts}
    contact = body.get("contact")
    if contact:
        email = contact.get("email")
        fitted["contact"] = {**contact, "name": _cut(contact.get("name"), MAX_NAME),
                             "email": email if _email_fits(email) else None}
        if not _email_fits(email) and not contact.get("phone"):
            fitted["contact"] = None
    return fitted


def known_facts(tracker: Tracker) -> Facts:
    """What the conversation established about the order in question (the slots that hold a value), for the agent
    and the audit record."""
    facts: Facts = {}
    if number := tracker.get_slot("order_number"):
        facts["order_number"] = str(number)
    if query := tracker.get_slot("order_query"):
        facts["order_query"] = str(query)
    if email := tracker.get_slot("email"):
        facts["email"] = str(email)
    return facts


def packet(tracker: Tracker, intent: str, decision: Decision, key: str | None = None) -> EscalationPacket:
    """The handoff packet; its idempotency key is the customer's turn that caused it (`key`, when it was kept)."""
    email = tracker.get_slot("email")
    lines = transcript(tracker)
    return fit({
        "conversation_id": tracker.sender_id,
        "idempotency_key": key or turn_key(tracker),
        "customer_id": verified_customer_id(tracker),
        "tier": decision["tier"],
        "tier_reason": tracker.get_slot("tier_reason") or "",
        "queue": decision["queue"] or "",  # an escalation names one; the service refuses "" as it would null
        "priority": decision["priority"],
        "sla_seconds": decision["sla_seconds"],
        "reason": decision["reason"],
        "rule": decision["rule"],
        "intent": intent,
        "facts": known_facts(tracker),
        "summary": summary(tracker, intent, decision, lines),
        "transcript": lines,
        "contact": {"email": email, "name": tracker.get_slot("customer_name"), "phone": None} if email else None,
    })


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


async def send_escalation(dispatcher: CollectingDispatcher, tracker: Tracker, body: EscalationPacket,
                          attempt: int) -> list[EventType]:
    """Open the escalation: announced when it arrives; kept for another try while the service is unreachable;
    logged and explained when the service refuses it (trying again would not help)."""
    try:
        async with RoutingClient() as client:
            return announce(dispatcher, await client.escalate(body), tracker)
    except RoutingRefused as refused:
        logger.error("escalation of %s refused (%s): %s", tracker.sender_id, refused.status, refused.reason)
        say(dispatcher, "handoff_refused")
        return [SlotSet("pending_escalation", None)]
    except RoutingUnavailable:
        logger.warning("escalation of %s kept for another try (%d)", tracker.sender_id, attempt)
        if attempt == 1:
            say(dispatcher, "handoff_pending")
        kept_work.remember(tracker.sender_id, attempt)
        return [SlotSet("pending_escalation", {"packet": body, "attempt": attempt})]


async def escalate(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str,
                   decision: Decision) -> list[EventType]:
    """Open the escalation with the handoff packet; if the routing service is down, keep it and retry later."""
    return await send_escalation(dispatcher, tracker, packet(tracker, intent, decision), attempt=1)


async def relay_kept(tracker: Tracker, messages: list[dict[str, str]]) -> tuple[list[dict[str, str]], bool]:
    """Give the agent the kept messages in order; (those still waiting, whether the escalation is still open)."""
    escalation_id = tracker.get_slot("escalation_id")
    if escalation_id is None:
        return [], False
    remaining = list(messages)
    try:
        async with RoutingClient() as client:
            while remaining:
                if not await client.forward_customer_message(int(escalation_id), remaining[0]["text"],
                                                             remaining[0]["key"]):
                    return [], False
                remaining.pop(0)
    except RoutingRefused as refused:
        logger.error("message of %s refused (%s): %s", tracker.sender_id, refused.status, refused.reason)
        remaining.pop(0)
    except RoutingUnavailable:
        pass
    return remaining, True


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
    """During a handoff: give the customer's message to the agent and say nothing.

    While the routing service is unreachable the messages wait in `pending_relay`, in order (a later message
    never overtakes a kept one), and the customer is told once that they will be passed on.
    """

    def name(self) -> str:
        return "action_relay_to_agent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        if tracker.get_slot("escalation_id") is None or not text:
            return []
        same, renewed = await same_signed_in_customer(tracker)
        if not same:
            return await refuse_unsigned(dispatcher, tracker)
        return renewed + await self.relay(dispatcher, tracker, text)

    @staticmethod
    async def relay(dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> list[EventType]:
        """Give the agent the kept messages and this one, in order; keep what cannot be given yet."""
        kept: list[dict[str, str]] = list(tracker.get_slot("pending_relay") or [])
        messages = [*kept, {"text": text, "key": turn_key(tracker)}]
        remaining, still_open = await relay_kept(tracker, messages)
        if not still_open:  # the agent already closed it: the bot is back
            say(dispatcher, "handoff_resumed", custom=handoff_state("ended"))
            kept_work.forget(tracker.sender_id)
            return [SlotSet("handoff_active", False), SlotSet("escalation_id", None), SlotSet("pending_relay", None)]
        if remaining:
            if not kept:
                say(dispatcher, "handoff_relay_kept")
                kept_work.remember(tracker.sender_id)
            return [SlotSet("pending_relay", remaining)]
        if kept:
            kept_work.forget(tracker.sender_id)
        return [SlotSet("pending_relay", None)] if kept else []


async def refuse_unsigned(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """A message during a signed-in customer's handoff that does not carry their sign-in: the agent gets a notice
    instead of the words (never as the customer's), and the sender is told how to continue. Nothing changes in the
    conversation: the signed-in customer's next message is relayed as before."""
    say(dispatcher, "relay_refused_sign_in")
    try:
        async with RoutingClient() as client:
            await client.forward_customer_message(int(tracker.get_slot("escalation_id") or 0), RELAY_REFUSED_NOTICE,
                                                  turn_key(tracker), sender="notice")
    except RoutingError:  # the notice is a courtesy: the refusal itself never depends on the service
        logger.warning("could not tell the agent of %s about a refused message", tracker.sender_id)
    return []


class ActionHandoffEnded(Action):
    """The routing service ended the handoff (resolved, handed back, expired): the bot resumes in context.

    After a chat with a person the trigger carries `rating_key`, with which the customer's widget may rate that
    chat (routing/analytics/csat.py); it goes to the widget with the "ended" state. The entity is not in the
    domain: Rasa keeps a triggered intent's entities as sent.
    """

    def name(self) -> str:
        return "action_handoff_ended"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        status = next(tracker.get_latest_entity_values("handoff_status"), "resolved")
        key = next(tracker.get_latest_entity_values("rating_key"), None)
        events: list[EventType] = [SlotSet("handoff_active", False)]
        ended = handoff_state("ended", **({"rating_key": key} if isinstance(key, str) and key else {}))
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
        contact: Contact = {"email": email.group(0) if email else None, "phone": phone.group(0) if phone else None,
                            "name": tracker.get_slot("customer_name")}
        escalation_id = tracker.get_slot("escalation_id")
        if escalation_id is None:  # no escalation to attach the contact to: say where to write instead
            say(dispatcher, "callback_declined")
            return done
        try:
            async with RoutingClient() as client:
                taken = await client.request_callback(int(escalation_id), contact)
        except RoutingError:
            say(dispatcher, "routing_unavailable")
            return done
        if taken is None:  # closed meanwhile (abandoned, resolved, taken by an agent): nothing was recorded
            say(dispatcher, "callback_closed")
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
