"""Another order task asked for in the middle of a form: offer, switch, keep (actions/digressions.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import yaml
from conftest import ROOT
from helpers import demo_customer, is_handoff_announcement, make_tracker, says, slot_values, texts, verified_slots
from rasa_sdk.executor import CollectingDispatcher

from actions.digressions import ROUTED_FIRST, ActionKeepTopic, ActionOfferSwitch, ActionSwitchTopic, task_of_intent
from actions.messages import MESSAGES


def _run(action: Any, domain: dict[str, Any], **tracker: Any) -> tuple[list[dict[str, Any]], list[str]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, make_tracker(**tracker), domain))
    return events, texts(dispatcher)


def test_each_order_task_intent_names_its_task_from_the_domain(domain: dict[str, Any]) -> None:
    assert task_of_intent("change_shipping_address", domain) == "change_address"
    assert task_of_intent("get_invoice", domain) == "invoice"
    assert task_of_intent("check_invoice", domain) == "invoice"
    assert task_of_intent("greet", domain) is None


def test_another_task_during_the_order_check_is_offered_with_yes_and_no(domain: dict[str, Any]) -> None:
    events, said = _run(ActionOfferSwitch(), domain, intent="change_shipping_address",
                        slots={"order_query": "order_status"}, active_loop="verify_order_form")

    assert slot_values(events) == {"switch_offered": True, "switch_to": "change_address"}
    assert said == [MESSAGES["switch_offer"].format(doing="checking where your order is",
                                                    other="change your delivery address")]


def test_the_same_task_again_carries_on_without_a_question(domain: dict[str, Any]) -> None:
    events, said = _run(ActionOfferSwitch(), domain, intent="track_order",
                        slots={"order_query": "order_status"}, active_loop="verify_order_form")

    assert said == [MESSAGES["switch_same"]]
    assert [e["name"] for e in events if e["event"] == "followup"] == ["verify_order_form"]
    assert slot_values(events)["switch_offered"] is False


def test_yes_switches_the_task_of_the_order_check(routing_url: str, domain: dict[str, Any]) -> None:
    events, said = _run(ActionSwitchTopic(), domain, intent="affirm", active_loop="verify_order_form",
                        slots={"order_query": "order_status", "switch_offered": True, "switch_to": "cancel"})

    assert {"switch_offered": False, "switch_to": None, "order_query": "cancel"}.items() <= slot_values(events).items()
    assert [e["name"] for e in events if e["event"] == "active_loop"] == ["verify_order_form"]
    assert says("switch_done", said[0])
    assert said[1:] == [MESSAGES["cancel_order"]], "a guest's cancellation is self-service, as when asked directly"


def test_the_tasks_routed_first_are_those_whose_rules_start_with_the_routing_step(domain: dict[str, Any]) -> None:
    rules = yaml.safe_load((ROOT / "data" / "rules" / "routing.yml").read_text())["rules"]
    routed = {}
    for rule in rules:
        steps = rule["steps"]
        if len(steps) > 2 and "intent" in steps[0] and steps[2].get("action") == "action_route":
            task = task_of_intent(steps[0]["intent"], domain)
            if task is not None:
                routed[task] = steps[0]["intent"]
    assert routed == ROUTED_FIRST


def test_a_platinum_customer_switching_to_a_cancellation_is_offered_a_person(api: httpx.Client,
                                                                             domain: dict[str, Any]) -> None:
    slots = {**verified_slots(demo_customer(api, "platinum")), "order_query": "order_status",
             "switch_offered": True, "switch_to": "cancel"}
    events, said = _run(ActionSwitchTopic(), domain, intent="affirm", active_loop="verify_order_form", slots=slots,
                        sender_id="switch-to-cancel-platinum")
    values = slot_values(events)
    assert values["routing_decision"] == "escalate" and values["order_query"] == "cancel"
    assert says("switch_done", said[0]) and any(is_handoff_announcement(text) for text in said[1:])


def test_yes_during_the_address_form_drops_the_address_change(domain: dict[str, Any]) -> None:
    events, _ = _run(ActionSwitchTopic(), domain, intent="affirm", active_loop="shipping_address_form",
                     slots={"pending_change": "change_address", "switch_offered": True, "switch_to": "refund_status"})

    slots = slot_values(events)
    assert slots["order_query"] == "refund_status"
    assert slots["pending_change"] is None and slots["new_address"] is None and slots["requested_slot"] is None
    assert [e["name"] for e in events if e["event"] == "active_loop"] == ["verify_order_form"]


def test_no_keeps_the_task_and_an_unchecked_email_is_asked_again(domain: dict[str, Any]) -> None:
    tracker = make_tracker(intent="inform", active_loop="verify_order_form",
                           slots={"order_query": "invoice", "switch_offered": True, "switch_to": "cancel"},
                           new_slot_events={"email": "someone@example.com"})
    tracker.latest_message["entities"] = [{"entity": "email", "value": "someone@example.com"}]
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionKeepTopic().run(dispatcher, tracker, domain))

    # the form resumes without checking what was typed, so the email is not trusted: it is asked again
    assert slot_values(events) == {"switch_offered": False, "switch_to": None, "email": None}
    assert texts(dispatcher) == [MESSAGES["switch_kept"].format(doing="getting your invoice")]
