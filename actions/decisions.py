"""Routing decisions: policy-relevant turns ask the routing service what to do (see also actions/fallback.py)."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.customer import verified_customer_id
from actions.handoff import escalate
from actions.hours import customer_zone, state_text, weekly_text
from actions.identity import refreshed_identity
from actions.messages import MESSAGES, say
from actions.routing_client import Decision, RoutingClient, RoutingError

HUMAN_REQUEST_INTENT = "contact_human_agent"
HOURS_INTENTS = ("contact_human_agent", "contact_customer_service")  # answers that state the team's hours


def count(tracker: Tracker, slot: str) -> int:
    """A counter slot's value as an int (0 when unset)."""
    return int(tracker.get_slot(slot) or 0)


async def decide(
    dispatcher: CollectingDispatcher, tracker: Tracker, intent: str, bot_failures: int, human_requests: int
) -> Decision | None:
    """Ask for a decision for this turn; None (after telling the customer) when the service is unreachable."""
    facts = {name: tracker.get_slot(name) for name in ("order_number",) if tracker.get_slot(name)}
    try:
        async with RoutingClient() as client:
            return await client.decide(
                conversation_id=tracker.sender_id,
                customer_id=verified_customer_id(tracker),
                intent=intent,
                bot_failures=bot_failures,
                human_requests=human_requests,
                facts=facts,
            )
    except RoutingError:
        say(dispatcher, "routing_unavailable")
        return None


def decision_events(decision: Decision | None) -> list[EventType]:
    """The decision stored in the routing_* slots (cleared when there is none)."""
    return [
        SlotSet("routing_decision", decision["decision"] if decision else None),
        SlotSet("routing_queue", decision["queue"] if decision else None),
        SlotSet("routing_reason", decision["reason"] if decision else None),
    ]


class ActionRoute(Action):
    """Counts human requests, asks for a decision, and answers with self-service or the escalation notice."""

    def name(self) -> str:
        return "action_route"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or "unknown"
        human_requests = count(tracker, "human_requests") + (intent == HUMAN_REQUEST_INTENT)
        events: list[EventType] = await refreshed_identity(tracker)
        events.append(SlotSet("human_requests", float(human_requests)))
        decision = await decide(dispatcher, tracker, intent, count(tracker, "bot_failures"), human_requests)
        if decision is None:
            return events + decision_events(None)
        if decision["decision"] == "escalate":
            return events + decision_events(decision) + await escalate(dispatcher, tracker, intent, decision)
        if intent in HOURS_INTENTS:
            await say_hours(dispatcher, tracker, intent, decision["tier"])
        elif intent in MESSAGES:
            say(dispatcher, intent)
        if decision["offer_human"]:
            say(dispatcher, "offer_human")
        return events + decision_events(decision)


async def say_hours(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str, tier: str) -> None:
    """Answer `intent` with the opening hours of the customer's team, as the routing policy has them right now."""
    try:
        async with RoutingClient() as client:
            availability = await client.availability(tier)
    except RoutingError:
        say(dispatcher, f"{intent}_hours_unknown")
        return
    hours = weekly_text(dict(availability["hours"]))
    if hours is None:
        say(dispatcher, f"{intent}_no_hours", queue=availability["display_name"])
        return
    say(dispatcher, intent, queue=availability["display_name"], hours=hours,
        state=state_text(dict(availability), customer_zone(tracker)))
