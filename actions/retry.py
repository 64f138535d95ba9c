"""`action_retry_escalation`: the action server's loop (actions/kept_work.py) asks Rasa to run it in a conversation
with kept work: a request for a person not yet decided, an escalation not yet sent, messages not yet relayed.

Each is sent with the idempotency key of the customer's turn that caused it, so a retry after a lost answer never
doubles anything; what is still unreachable is tried again later, up to kept_work.MAX_ATTEMPTS tries.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import kept_work
from actions.decisions import answer_self_service, ask_decision, decision_events
from actions.handoff import packet, relay_kept, send_escalation
from actions.identity import kept_sign_in
from actions.messages import say
from actions.routing_client import RoutingError, RoutingUnavailable


async def retry_request(dispatcher: CollectingDispatcher, tracker: Tracker, request: dict[str, Any],
                        attempt: int) -> list[EventType]:
    """A request for a person kept before its decision: decide now, then escalate or answer as the policy says. A
    sign-in kept unchecked with it is checked first, so that the decision is the customer's own."""
    identity: list[EventType] = []
    if request.get("identity") == "pending":
        try:
            identity = await kept_sign_in(dispatcher, tracker, kept_work.token_of(tracker.sender_id))
        except RoutingUnavailable:
            kept_work.remember(tracker.sender_id, attempt)
            return [SlotSet("pending_escalation", {"request": request, "attempt": attempt})]
        except RoutingError:
            identity = await kept_sign_in(dispatcher, tracker, None)  # refused: the customer is told
        request = {key: value for key, value in request.items() if key != "identity"}
    return identity + await _decide_kept(dispatcher, tracker, request, attempt)


async def _decide_kept(dispatcher: CollectingDispatcher, tracker: Tracker, request: dict[str, Any],
                       attempt: int) -> list[EventType]:
    intent = str(request["intent"])
    try:
        decision = await ask_decision(tracker, intent, int(request["bot_failures"]), int(request["human_requests"]))
    except RoutingUnavailable:
        kept_work.remember(tracker.sender_id, attempt)
        return [SlotSet("pending_escalation", {"request": request, "attempt": attempt})]
    except RoutingError:
        say(dispatcher, "handoff_refused")
        return [SlotSet("pending_escalation", None)]
    if decision["decision"] != "escalate":
        await answer_self_service(dispatcher, tracker, intent, decision)
        return [SlotSet("pending_escalation", None), *decision_events(decision)]
    body = packet(tracker, intent, decision, key=str(request["key"]))
    return decision_events(decision) + await send_escalation(dispatcher, tracker, body, attempt)


class ActionRetryEscalation(Action):
    """Retries the conversation's kept work in order: first the escalation, then the messages for the agent."""

    def name(self) -> str:
        return "action_retry_escalation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        pending = tracker.get_slot("pending_escalation")
        relay: list[dict[str, str]] = list(tracker.get_slot("pending_relay") or [])
        if not pending and not relay:
            kept_work.forget(tracker.sender_id)
            return []
        attempt = kept_work.attempt_of(tracker.sender_id) + 1
        if attempt > kept_work.MAX_ATTEMPTS:
            say(dispatcher, "handoff_gave_up")
            kept_work.forget(tracker.sender_id)
            return [SlotSet("pending_escalation", None), SlotSet("pending_relay", None)]
        events: list[EventType] = []
        if pending and "request" in pending:
            events += await retry_request(dispatcher, tracker, pending["request"], attempt)
        elif pending:
            events += await send_escalation(dispatcher, tracker, pending["packet"], attempt)
        still_pending = next((e["value"] for e in events if e.get("name") == "pending_escalation"), pending)
        if relay:
            remaining, _ = await relay_kept(tracker, relay)
            events.append(SlotSet("pending_relay", remaining or None))
            relay = remaining
        if still_pending or relay:
            kept_work.remember(tracker.sender_id, attempt)
        else:
            kept_work.forget(tracker.sender_id)
        return events
