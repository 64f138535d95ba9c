"""When the bot does not understand: Rasa's two-stage fallback, with Concierge's own question and last resort.

Rasa's `action_two_stage_fallback` loop calls these overrides of its default actions. Stage one
(`action_default_ask_affirmation`) suggests the likeliest topics as buttons; if the customer picks "Something
else", stage two (`action_default_ask_rephrase`) asks to rephrase; when that is not understood either,
`action_default_fallback` asks the routing policy, which escalates or lets the bot offer a person.
`action_fallback` covers the other case: a turn the dialogue policies cannot predict. Every message the bot did
not understand counts in the slot `bot_failures`, except one that a suggestion clarified: Rasa reverts that turn.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.decisions import count, decide, decision_events
from actions.handoff import escalate
from actions.identity import checked_identity
from actions.messages import INTENT_TITLES, MESSAGES, say

SUGGESTIONS = 2
MIN_SUGGESTION_CONFIDENCE = 0.05
FAILURES_BEFORE_ROUTING = 2
FALLBACK_INTENT = "nlu_fallback"
FORM_SUFFIX = "_form"
ACTION_LISTEN = "action_listen"


def suggestions(tracker: Tracker) -> list[str]:
    """The likeliest in-scope intents of the latest message, best first."""
    ranking = tracker.latest_message.get("intent_ranking") or []
    return [r["name"] for r in ranking
            if r.get("name") in INTENT_TITLES and float(r.get("confidence") or 0) >= MIN_SUGGESTION_CONFIDENCE
            ][:SUGGESTIONS]


def failure_events(tracker: Tracker) -> tuple[int, list[EventType]]:
    """This turn counted as one more bot failure."""
    failures = count(tracker, "bot_failures") + 1
    return failures, [SlotSet("bot_failures", float(failures))]


async def route_failure(dispatcher: CollectingDispatcher, tracker: Tracker, failures: int) -> list[EventType]:
    """Repeated failures: the routing policy escalates, or the bot offers a person with one button."""
    events = await checked_identity(dispatcher, tracker)
    decision = await decide(dispatcher, tracker, FALLBACK_INTENT, failures, count(tracker, "human_requests"))
    if decision is not None and decision["decision"] == "escalate":
        return events + decision_events(decision) + await escalate(dispatcher, tracker, FALLBACK_INTENT, decision)
    if decision is not None:
        say(dispatcher, "fallback_help",
            buttons=[{"title": MESSAGES["talk_to_person"], "payload": "/contact_human_agent"}])
    return events + decision_events(decision)


class ActionDefaultAskAffirmation(Action):
    """Stage one: 'Did you mean ...?' with the likeliest topics as buttons, and 'Something else'."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        _, events = failure_events(tracker)
        intents = suggestions(tracker)
        if not intents:
            say(dispatcher, "ask_affirmation_none")
            return events
        buttons = [{"title": INTENT_TITLES[name], "payload": f"/{name}"} for name in intents]
        buttons.append({"title": MESSAGES["something_else"], "payload": "/out_of_scope"})
        say(dispatcher, "ask_affirmation", buttons=buttons)
        return events


class ActionDefaultAskRephrase(Action):
    """Stage two: none of the suggestions fitted, so ask the customer to say it in other words."""

    def name(self) -> str:
        return "action_default_ask_rephrase"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        say(dispatcher, "ask_rephrase")
        return []


class ActionDefaultFallback(Action):
    """Last resort of the two-stage fallback: lets the routing policy decide (escalate, or offer a person)."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        # Rasa gives up after two unclear messages in a row, or after the customer declined the suggestions twice
        # (then the last message was "Something else", which stage one already counted).
        unclear = (tracker.latest_message.get("intent") or {}).get("name") == FALLBACK_INTENT
        failures = count(tracker, "bot_failures") + unclear
        # Like Rasa's own default fallback, forget the fallback turns; the count is set again after the rewind,
        # which would otherwise undo it.
        return [UserUtteranceReverted(), SlotSet("bot_failures", float(failures)),
                *await route_failure(dispatcher, tracker, failures)]


class ActionFallback(Action):
    """A turn no rule or story covers: asks to rephrase once, then lets the routing policy decide.

    It always ends the turn (Rasa would otherwise predict it again and again until its circuit breaker stops the
    turn, counting a failure each time). In the middle of a form it says it did not understand and the form asks its
    question again: the customer can answer, ask something else, or say "stop".
    """

    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        failures, events = failure_events(tracker)
        form = tracker.active_loop.get("name") or ""
        if form.endswith(FORM_SUFFIX):
            say(dispatcher, "form_rephrase")
            return [*events, FollowupAction(form)]
        if failures < FAILURES_BEFORE_ROUTING:
            say(dispatcher, "please_rephrase")
            return [*events, FollowupAction(ACTION_LISTEN)]
        return [*events, *await route_failure(dispatcher, tracker, failures), FollowupAction(ACTION_LISTEN)]
