"""Routing decisions: policy-relevant turns ask the routing service what to do (see also actions/fallback.py)."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import kept_work
from actions.customer import verified_customer_id
from actions.handoff import escalate, turn_key
from actions.hours import customer_zone, state_text, weekly_text
from actions.identity import checked_identity, unchecked_token
from actions.messages import MESSAGES, say
from actions.routing_client import Decision, Facts, RoutingClient, RoutingError, RoutingUnavailable

HUMAN_REQUEST_INTENT = "contact_human_agent"
HOURS_INTENTS = ("contact_human_agent", "contact_customer_service")  # answers that state the team's hours
# requests for a person that are kept when the service cannot even be asked for a decision
KEPT_INTENTS = ("contact_human_agent", "contact_customer_service", "complaint")


def count(tracker: Tracker, slot: str) -> int:
    """A counter slot's value as an int (0 when unset)."""
    return int(tracker.get_slot(slot) or 0)


async def ask_decision(tracker: Tracker, intent: str, bot_failures: int, human_requests: int) -> Decision:
    """The routing service's decision for this turn (raises RoutingError)."""
    number = tracker.get_slot("order_number")
    facts: Facts = {"order_number": str(number)} if number else {}
    async with RoutingClient() as client:
        return await client.decide(
            conversation_id=tracker.sender_id,
            customer_id=verified_customer_id(tracker),
            intent=intent,
            bot_failures=bot_failures,
            human_requests=human_requests,
            facts=facts,
        )


async def decide(
    dispatcher: CollectingDispatcher, tracker: Tracker, intent: str, bot_failures: int, human_requests: int
) -> Decision | None:
    """Ask for a decision for this turn; None (after telling the customer) when the service is unreachable."""
    try:
        return await ask_decision(tracker, intent, bot_failures, human_requests)
    except RoutingError:
        say(dispatcher, "routing_unavailable")
        return None


def keep_request(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str, bot_failures: int,
                 human_requests: int) -> list[EventType]:
    """The service could not be asked: keep the request for a person itself, to be decided and passed on when the
    service is back (actions/retry.py), and tell the customer so. A sign-in that could not be checked either is kept
    with it (its token in the kept-work store, `identity: pending` here), so the retry decides for that customer."""
    say(dispatcher, "handoff_pending")
    token = unchecked_token(tracker)
    kept_work.remember(tracker.sender_id, token=token)
    request = {"intent": intent, "bot_failures": bot_failures, "human_requests": human_requests,
               "key": turn_key(tracker), **({"identity": "pending"} if token is not None else {})}
    return [SlotSet("pending_escalation", {"request": request, "attempt": 1})]


async def answer_self_service(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str,
                              decision: Decision) -> None:
    """What the bot says when the policy keeps the customer with the bot: the team's hours for a request for a
    person, or the topic's answer; then the offer of a person when the policy makes it. The routing step and the
    retry of a kept request both answer here."""
    if intent in HOURS_INTENTS:
        await say_hours(dispatcher, tracker, intent, decision["tier"])
    elif intent in MESSAGES:
        say(dispatcher, intent)
    if decision["offer_human"]:
        say(dispatcher, "offer_human")


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
        return await route(dispatcher, tracker, (tracker.latest_message.get("intent") or {}).get("name") or "unknown")


async def route(dispatcher: CollectingDispatcher, tracker: Tracker, intent: str) -> list[EventType]:
    """The routing step of a turn that asks for `intent` (the latest message's, or a task the customer switched to
    in the middle of another): the decision, then the escalation or the self-service answer."""
    human_requests = count(tracker, "human_requests") + (intent == HUMAN_REQUEST_INTENT)
    events: list[EventType] = await checked_identity(dispatcher, tracker)
    events.append(SlotSet("human_requests", float(human_requests)))
    failures = count(tracker, "bot_failures")
    try:
        decision = await ask_decision(tracker, intent, failures, human_requests)
    except RoutingUnavailable:
        if intent in KEPT_INTENTS:
            return events + decision_events(None) + keep_request(dispatcher, tracker, intent, failures,
                                                                 human_requests)
        say(dispatcher, "routing_unavailable")
        return events + decision_events(None)
    except RoutingError:
        say(dispatcher, "routing_unavailable")
        return events + decision_events(None)
    if decision["decision"] == "escalate":
        return events + decision_events(decision) + await escalate(dispatcher, tracker, intent, decision)
    await answer_self_service(dispatcher, tracker, intent, decision)
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
