"""Another order task asked for in the middle of a form: the bot asks before switching (data/rules/digressions.yml);
and a message the NLU could not place, read in the light of what the bot waits for (data/rules/in_context.yml).

The order check (verify_order_form) serves every order task, so switching keeps what the customer already gave;
leaving the new-address form drops the address change. The task a form serves is `order_query` (the new-address
form always serves a change of address).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.decisions import route
from actions.fallback import FALLBACK_INTENT, failure_events
from actions.messages import ask_yes_no, say
from actions.orders import ActionDeliveryEstimate, ActionInvoice, ActionOrderStatus, ActionRefundStatus

ADDRESS_FORM = "shipping_address_form"
VERIFY_FORM = "verify_order_form"
# how the bot names each order task: while doing it, and when offering it
TASKS: dict[str, tuple[str, str]] = {
    "order_status": ("checking where your order is", "check where your order is"),
    "refund_status": ("checking your refund", "check your refund"),
    "invoice": ("getting your invoice", "get your invoice"),
    "delivery_estimate": ("checking when your order arrives", "check when your order arrives"),
    "cancel": ("cancelling your order", "cancel your order"),
    "change_address": ("changing your delivery address", "change your delivery address"),
    "return": ("sorting out a refund for your order", "get a refund for your order"),
}
# tasks whose own rules ask the routing service first (data/rules/routing.yml: intent, then action_route; sensitive
# for some tiers): switching to one takes the same routing step, with the intent that starts it
ROUTED_FIRST: dict[str, str] = {"cancel": "cancel_order", "return": "get_refund"}
FORM_SLOTS = ("order_number", "email")
OFFER_SLOTS = ("switch_offered", "switch_to")
# A short follow-up ("so where is it", "no wait, where is it actually?") is too short for the NLU to be sure of, but
# while the bot waits for something about an order its likeliest order task is what the customer means: when that
# task has at least MIN_FOLLOW_UP_CONFIDENCE and only intents that say nothing about an order (CONTEXTLESS) rank
# above it, or it is within TIED of the top. Longer messages are not follow-ups.
FOLLOW_UP_MAX_WORDS = 8
MIN_FOLLOW_UP_CONFIDENCE = 0.2
TIED = 0.05
CONTEXTLESS = frozenset({"affirm", "deny", "inform", "greet", "goodbye", "thanks", "chitchat", "bot_challenge",
                         "out_of_scope"})
# the look-ups a follow-up gets while a yes/no question waits (the order is known by then)
LOOK_UPS: dict[str, Action] = {"order_status": ActionOrderStatus(), "refund_status": ActionRefundStatus(),
                               "invoice": ActionInvoice(), "delivery_estimate": ActionDeliveryEstimate()}


def task_of_intent(intent: str, domain: DomainDict) -> str | None:
    """The order task an intent starts, read from the `order_query` slot's mappings in the domain."""
    for mapping in domain.get("slots", {}).get("order_query", {}).get("mappings", []):
        intents = mapping.get("intent")
        if intent == intents or (isinstance(intents, list) and intent in intents):
            return str(mapping.get("value"))
    return None


def current_task(tracker: Tracker) -> str | None:
    """The order task the active form serves."""
    if tracker.active_loop.get("name") == ADDRESS_FORM:
        return "change_address"
    task = tracker.get_slot("order_query")
    return str(task) if task else None


def follow_up_task(tracker: Tracker, domain: DomainDict) -> str | None:
    """The order task a short message the NLU could not place asks for, read among the order tasks; None when it is
    not a short follow-up about an order."""
    text = str(tracker.latest_message.get("text") or "")
    if not text.strip() or len(text.split()) > FOLLOW_UP_MAX_WORDS:
        return None
    ranking = [(str(r.get("name")), float(r.get("confidence") or 0))
               for r in tracker.latest_message.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
    if not ranking:
        return None
    top = max(confidence for _, confidence in ranking)
    for index, (intent, confidence) in enumerate(ranking):
        task = task_of_intent(intent, domain)
        if task is None:
            continue
        stands_out = confidence >= top - TIED or all(name in CONTEXTLESS for name, _ in ranking[:index])
        return task if confidence >= MIN_FOLLOW_UP_CONFIDENCE and stands_out else None
    return None


async def switch_to(dispatcher: CollectingDispatcher, tracker: Tracker, new: str) -> list[EventType]:
    """The order check serves task `new` from now on ("Alright, let's ..."), after the routing step where that task's
    own rules have one."""
    say(dispatcher, "switch_done", other=TASKS.get(new, ("", "do that"))[1])
    events: list[EventType] = [SlotSet("order_query", new)]
    if new in ROUTED_FIRST:  # e.g. a cancellation, which a platinum customer's policy gives to a person
        events += await route(dispatcher, tracker, ROUTED_FIRST[new])
    return events


def _forget_offer() -> list[EventType]:
    return [SlotSet(name, None if name == "switch_to" else False) for name in OFFER_SLOTS]


class ActionOfferSwitch(Action):
    """'We were checking where your order is. Would you like to change your delivery address instead?' (yes/no)."""

    def name(self) -> str:
        return "action_offer_switch"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        new, current = task_of_intent(intent, domain), current_task(tracker)
        form = tracker.active_loop.get("name")
        if new is None or new == current or new not in TASKS or form is None:
            # the same task again (or nothing to switch to): carry on where we were
            say(dispatcher, "switch_same")
            return [*_forget_offer(), FollowupAction(form or "action_listen")]
        doing = TASKS[current][0] if current in TASKS else "in the middle of something"
        ask_yes_no(dispatcher, "switch_offer", doing=doing, other=TASKS[new][1])
        return [SlotSet("switch_offered", True), SlotSet("switch_to", new)]


class ActionSwitchTopic(Action):
    """The customer said yes: the other task starts (after the order check, which keeps what it knows), with the
    routing step first where that task's own rules have it."""

    def name(self) -> str:
        return "action_switch_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        new = tracker.get_slot("switch_to")
        events: list[EventType] = _forget_offer()
        if tracker.active_loop.get("name") == ADDRESS_FORM:  # the address change is dropped
            events += [SlotSet("requested_slot", None), SlotSet("pending_change", None), SlotSet("new_address", None)]
        events.append(ActiveLoop(VERIFY_FORM))
        return events + await switch_to(dispatcher, tracker, str(new))


class ActionKeepTopic(Action):
    """The customer said no (or answered the form's question instead): the form carries on and asks again.

    An order number or email typed in that answer reached the slots without the form's checks (the form resumes
    without validating), so it is cleared and asked for again rather than trusted.
    """

    def name(self) -> str:
        return "action_keep_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        typed: dict[str, Any] = {e.get("entity"): e.get("value") for e in tracker.latest_message.get("entities", [])}
        cleared = [SlotSet(name, None) for name in FORM_SLOTS if typed.get(name) is not None]
        current = current_task(tracker)
        say(dispatcher, "switch_kept", doing=TASKS[current][0] if current in TASKS else "where we were")
        return [*_forget_offer(), *cleared]


class ActionReadInContext(Action):
    """A message the NLU could not place, while the bot waits for something: read in the light of that question
    (data/rules/in_context.yml), then the question comes again.

    The order check and the yes/no questions are about one order, so a short follow-up names a task for that order:
    during the order check it becomes the check's task ("so where is it": the same task, so carry on; "no wait, where
    is it actually?" after "cancel my order": the check now serves tracking, as if the customer had said yes to the
    switch); while a yes/no question waits, a look-up is answered for the order in question. Anything else is not
    understood: one bot failure, "Sorry, I didn't understand that.", and the question again, instead of the
    fallback's topic suggestions, which would lose the thread. A value typed for the order check's question never
    comes here: the form's own validation corrects it (actions/verification.py).
    """

    def name(self) -> str:
        return "action_read_in_context"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        task = follow_up_task(tracker, domain)
        events = _forget_offer() if tracker.get_slot("switch_offered") else []
        if tracker.active_loop.get("name") == VERIFY_FORM and task is not None:
            if task == current_task(tracker):
                say(dispatcher, "switch_same")
                return events
            return events + await switch_to(dispatcher, tracker, task)
        if not tracker.active_loop.get("name") and task in LOOK_UPS:
            return events + await LOOK_UPS[task].run(dispatcher, tracker, domain)
        _, failure = failure_events(tracker)
        say(dispatcher, "form_rephrase")
        return events + failure
