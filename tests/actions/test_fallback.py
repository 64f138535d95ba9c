"""The two-stage fallback's overrides and action_fallback, against the real routing service."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from helpers import demo_customer, is_handoff_announcement, make_tracker, run, slot_values, texts, verified_slots
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import (
    ActionDefaultAskAffirmation,
    ActionDefaultAskRephrase,
    ActionDefaultFallback,
    ActionFallback,
)
from actions.messages import INTENT_TITLES, MESSAGES


def unclear_tracker(ranking: list[tuple[str, float]], slots: dict[str, Any] | None = None) -> Any:
    """A turn the NLU did not understand, with `ranking` after nlu_fallback."""
    tracker = make_tracker(slots=slots, intent="nlu_fallback", text="blorp the thing", sender_id="fallback-test")
    tracker.latest_message["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 0.4}] + [
        {"name": name, "confidence": confidence} for name, confidence in ranking]
    return tracker


def test_stage_one_suggests_the_likeliest_topics_and_something_else(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = unclear_tracker([("greet", 0.3), ("track_order", 0.25), ("track_refund", 0.2), ("get_refund", 0.1)])

    events = asyncio.run(ActionDefaultAskAffirmation().run(dispatcher, tracker, domain))

    assert slot_values(events) == {"bot_failures": 1.0}
    [message] = dispatcher.messages
    assert message["text"] == MESSAGES["ask_affirmation"]
    assert message["buttons"] == [  # greetings are not suggested; two topics at most, then "Something else"
        {"title": INTENT_TITLES["track_order"], "payload": "/track_order"},
        {"title": INTENT_TITLES["track_refund"], "payload": "/track_refund"},
        {"title": MESSAGES["something_else"], "payload": "/out_of_scope"},
    ]


def test_stage_one_without_a_plausible_topic_asks_to_rephrase(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = unclear_tracker([("greet", 0.3), ("track_order", 0.01)])

    asyncio.run(ActionDefaultAskAffirmation().run(dispatcher, tracker, domain))

    assert texts(dispatcher) == [MESSAGES["ask_affirmation_none"]]
    assert not dispatcher.messages[0]["buttons"]


def test_stage_two_asks_to_rephrase_without_counting_a_failure(domain: dict[str, Any]) -> None:
    slots, said = run(ActionDefaultAskRephrase(), domain, "out_of_scope", {"bot_failures": 1.0})

    assert slots == {}
    assert said == [MESSAGES["ask_rephrase"]]


def test_giving_up_offers_a_person_to_a_bronze_visitor(routing_url: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = unclear_tracker([("track_order", 0.2)], {"bot_failures": 1.0})

    events = asyncio.run(ActionDefaultFallback().run(dispatcher, tracker, domain))

    assert events[0]["event"] == "rewind", "the message nobody understood is forgotten"
    slots = slot_values(events)
    assert slots["bot_failures"] == 2.0 and slots["routing_decision"] == "self_service"
    [message] = dispatcher.messages
    assert message["text"] == MESSAGES["fallback_help"]
    assert message["buttons"] == [{"title": MESSAGES["talk_to_person"], "payload": "/contact_human_agent"}]


def test_giving_up_after_declined_suggestions_counts_no_extra_failure(routing_url: str,
                                                                      domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={"bot_failures": 2.0}, intent="out_of_scope", text="/out_of_scope")

    events = asyncio.run(ActionDefaultFallback().run(dispatcher, tracker, domain))

    assert slot_values(events)["bot_failures"] == 2.0, "kept (set again after the rewind), not counted twice"
    assert texts(dispatcher) == [MESSAGES["fallback_help"]]


def test_giving_up_escalates_a_platinum_customer(api: httpx.Client, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    slots = {**verified_slots(demo_customer(api, "platinum")), "bot_failures": 1.0}
    tracker = unclear_tracker([("track_order", 0.2)], slots)

    events = asyncio.run(ActionDefaultFallback().run(dispatcher, tracker, domain))

    values = slot_values(events)
    assert values["routing_decision"] == "escalate" and values["routing_queue"] == "vip"
    assert isinstance(values["escalation_id"], int) and values["handoff_active"] is True
    assert len(texts(dispatcher)) == 1 and is_handoff_announcement(texts(dispatcher)[0])


def test_giving_up_while_routing_is_down_is_explained(unreachable_routing: None, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionDefaultFallback().run(dispatcher, unclear_tracker([], {"bot_failures": 1.0}), domain))

    assert slot_values(events)["routing_decision"] is None
    assert texts(dispatcher) == [MESSAGES["routing_unavailable"]]


def test_the_first_unpredictable_turn_asks_to_rephrase_without_routing(routing_url: str,
                                                                        domain: dict[str, Any]) -> None:
    slots, said = run(ActionFallback(), domain, "nlu_fallback")

    assert slots == {"bot_failures": 1.0}
    assert said == [MESSAGES["please_rephrase"]]


def test_repeated_unpredictable_turns_ask_the_routing_policy(routing_url: str, domain: dict[str, Any]) -> None:
    slots, said = run(ActionFallback(), domain, "nlu_fallback", {"bot_failures": 1.0})

    assert slots["bot_failures"] == 2.0
    assert slots["routing_decision"] in {"self_service", "escalate"}
    if slots["routing_decision"] == "escalate":
        assert len(said) == 1 and is_handoff_announcement(said[0]), said
    else:
        assert said == [MESSAGES["fallback_help"]]


def _followups(events: list[dict[str, Any]]) -> list[str]:
    return [e["name"] for e in events if e.get("event") == "followup"]


def test_an_unpredictable_turn_always_ends_the_turn(routing_url: str, domain: dict[str, Any]) -> None:
    for failures in (0.0, 1.0):
        tracker = make_tracker(slots={"bot_failures": failures}, intent="nlu_fallback")
        events = asyncio.run(ActionFallback().run(CollectingDispatcher(), tracker, domain))

        assert _followups(events) == ["action_listen"]  # Rasa would otherwise predict the fallback again


def test_an_unpredictable_turn_inside_a_form_lets_the_form_ask_again_without_routing(
        routing_url: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots={"bot_failures": 5.0}, intent="nlu_fallback", active_loop="verify_order_form")
    events = asyncio.run(ActionFallback().run(dispatcher, tracker, domain))

    assert _followups(events) == ["verify_order_form"]
    assert slot_values(events) == {"bot_failures": 6.0}  # counted once, and no routing decision
    assert texts(dispatcher) == [MESSAGES["form_rephrase"]]
