"""A message read in the light of what the bot waits for: a value typed wrong for the order check's question gets
that slot's own correction (actions/verification.py), and an unclear short follow-up continues the task
(actions/digressions.py, action_read_in_context); against the real routing service."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import yaml
from conftest import ROOT
from helpers import (
    demo_customer,
    demo_orders,
    is_handoff_announcement,
    make_tracker,
    says,
    slot_values,
    texts,
    verified_slots,
)
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.digressions import FOLLOW_UP_MAX_WORDS, ActionReadInContext, follow_up_task, task_of_intent
from actions.messages import MESSAGES
from actions.verification import ValidateVerifyOrderForm, email_attempt, order_number_attempt
from scripts.digressions import PENDING_QUESTIONS

VERIFY = "verify_order_form"


def asked(domain: dict[str, Any], slot: str, text: str, intent: str = "nlu_fallback",
          new: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    """The order check's validation of `text`, typed when the form asked for `slot` (a guest: nothing proven)."""
    dispatcher = CollectingDispatcher()
    filled = {"order_number": "C-100042"} if slot == "email" else {}
    tracker = make_tracker(slots={"requested_slot": slot, "order_query": "order_status", **filled}, intent=intent,
                           text=text, new_slot_events=new, active_loop=VERIFY)
    events = asyncio.run(ValidateVerifyOrderForm().run(dispatcher, tracker, domain))
    return slot_values(events), texts(dispatcher)


def unclear(text: str, ranking: list[tuple[str, float]], slots: dict[str, Any] | None = None,
            active_loop: str | None = VERIFY, sender_id: str = "in-context") -> Tracker:
    """A message the NLU could not place (nlu_fallback at 0.5, then `ranking`)."""
    tracker = make_tracker(slots=slots, intent="nlu_fallback", text=text, active_loop=active_loop,
                           sender_id=sender_id)
    tracker.latest_message["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 0.5}] + [
        {"name": name, "confidence": confidence} for name, confidence in ranking]
    return tracker


def read(tracker: Tracker, domain: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionReadInContext().run(dispatcher, tracker, domain))
    return slot_values(events), texts(dispatcher)


def test_what_is_typed_as_an_order_number_or_an_email_is_read_as_one() -> None:
    assert [order_number_attempt(t) for t in ("order 42", "my order number is 12345", "C-42", "c 1000")] == [
        "42", "12345", "c-42", "c1000"]
    # an order number without its letter is the order number
    assert {order_number_attempt(t) for t in ("100042", "#100042", "order number 100042", "c 100042")} == {"C-100042"}
    # a question, a sentence or a word without a digit is not an answer to the question
    assert {order_number_attempt(t) for t in ("what payment methods do you take?", "no", "so where is it",
                                              "is 5 days normal", "3 mugs", "anna2@example.com", "...")} == {None}
    assert [email_attempt(t) for t in ("anna.berg@example", "my email is jo.k@", "it's gmail.com",
                                       "anna at example dot com", "paul dot hill at example dot com")] == [
        "anna.berg@example", "jo.k@", "gmail.com", "anna at example dot com", "paul dot hill at example dot com"]
    assert {email_attempt(t) for t in ("anna", "where is it", "not sure", "what is it at the moment")} == {None}


def test_the_issues_order_42_gets_the_order_numbers_own_correction(domain: dict[str, Any]) -> None:
    slots, said = asked(domain, "order_number", "order 42")

    # a slot set (to nothing) keeps the form from rejecting the message: it asks for the order number again
    assert slots == {"order_number": None}
    assert said == [MESSAGES["invalid_order_number"]]


def test_an_order_number_typed_without_its_letter_is_taken(domain: dict[str, Any]) -> None:
    slots, said = asked(domain, "order_number", "order number 100042", intent="out_of_scope")

    assert slots == {"order_number": "C-100042"} and said == []


def test_an_email_typed_wrong_gets_the_emails_own_correction(domain: dict[str, Any]) -> None:
    for text in ("anna at example dot com", "anna.berg@example", "12345"):
        slots, said = asked(domain, "email", text, intent="inform")

        assert slots == {"email": None}, text
        assert said == [MESSAGES["invalid_email"]], text


def test_only_the_slot_asked_for_is_read_from_the_text(domain: dict[str, Any]) -> None:
    # "order 42" when the email is asked gets the email's correction, not the order number's
    assert asked(domain, "email", "order 42") == ({"email": None}, [MESSAGES["invalid_email"]])
    # an email typed when the number is asked, which its own mapping read: the number is not read from the text
    slots, said = asked(domain, "order_number", "anna2@example.com", intent="inform",
                        new={"email": "anna2@example.com"})
    assert slots == {"email": "anna2@example.com"} and said == []


def test_a_change_of_subject_is_left_to_the_rules(domain: dict[str, Any]) -> None:
    # nothing read and nothing said: the form rejects the message and the digression rules answer it as before
    assert asked(domain, "order_number", "what payment methods do you take?",
                 intent="check_payment_methods") == ({}, [])
    assert asked(domain, "order_number", "so where is it") == ({}, [])


def test_a_short_follow_up_is_read_among_the_order_tasks(domain: dict[str, Any]) -> None:
    # the issue's two follow-ups, as the model ranks them
    assert follow_up_task(unclear("no wait, where is it actually?", [("track_order", 0.35), ("bot_challenge", 0.11)]),
                          domain) == "order_status"
    assert follow_up_task(unclear("so where is it", [("chitchat", 0.3), ("track_order", 0.3), ("affirm", 0.11)]),
                          domain) == "order_status"
    assert follow_up_task(unclear("and the bill?", [("check_invoice", 0.39), ("get_invoice", 0.32)]),
                          domain) == "invoice"
    # not a follow-up: another topic ranks first, the order task is too unlikely, or the message is long
    assert follow_up_task(unclear("uh cards?", [("check_payment_methods", 0.4), ("track_order", 0.3)]), domain) is None
    assert follow_up_task(unclear("maybe", [("greet", 0.36), ("goodbye", 0.16), ("track_order", 0.1)]),
                          domain) is None
    long_message = " ".join(["where"] * (FOLLOW_UP_MAX_WORDS + 1))
    assert follow_up_task(unclear(long_message, [("track_order", 0.45)]), domain) is None


def test_the_issues_follow_up_after_cancel_my_order_continues_with_tracking(domain: dict[str, Any]) -> None:
    slots, said = read(unclear("no wait, where is it actually?", [("track_order", 0.35), ("bot_challenge", 0.11)],
                               slots={"order_query": "cancel", "requested_slot": "order_number"}), domain)

    assert slots == {"order_query": "order_status"}  # no bot failure: it was understood
    assert said == [MESSAGES["switch_done"].format(other="check where your order is")]


def test_the_issues_so_where_is_it_carries_on_with_the_same_task(domain: dict[str, Any]) -> None:
    slots, said = read(unclear("so where is it", [("chitchat", 0.3), ("track_order", 0.3)],
                               slots={"order_query": "order_status", "requested_slot": "order_number"}), domain)

    assert slots == {} and said == [MESSAGES["switch_same"]]


def test_a_follow_up_that_switches_to_a_cancellation_takes_its_routing_step(api: httpx.Client,
                                                                           domain: dict[str, Any]) -> None:
    slots = {**verified_slots(demo_customer(api, "platinum")), "order_query": "order_status",
             "requested_slot": "order_number"}
    values, said = read(unclear("hm cancel it then?", [("cancel_order", 0.45), ("deny", 0.3)], slots=slots,
                                sender_id="in-context-cancel-platinum"), domain)

    assert values["order_query"] == "cancel" and values["routing_decision"] == "escalate"
    assert says("switch_done", said[0]) and any(is_handoff_announcement(text) for text in said[1:])


def test_an_unclear_message_during_the_order_check_is_not_understood_and_the_question_comes_again(
        domain: dict[str, Any]) -> None:
    slots, said = read(unclear("huh?", [("greet", 0.28), ("deny", 0.2)],
                               slots={"order_query": "invoice", "bot_failures": 1.0, "switch_offered": True,
                                      "switch_to": "cancel"}), domain)

    # one failure, the form's own "didn't understand", and an open offer to switch is dropped
    assert slots == {"bot_failures": 2.0, "switch_offered": False, "switch_to": None}
    assert said == [MESSAGES["form_rephrase"]]


def test_a_follow_up_while_a_yes_no_question_waits_is_answered_for_that_order(api: httpx.Client,
                                                                            domain: dict[str, Any]) -> None:
    customer = demo_customer(api, "silver")
    order = next(o for o in demo_orders(api, customer["id"]) if o["status"] == "delivered")
    slots = {**verified_slots(customer), "order_number": order["number"], "pending_change": "start_return"}
    values, said = read(unclear("so where is it now", [("track_order", 0.41), ("chitchat", 0.22)], slots=slots,
                                active_loop=None, sender_id="in-context-yes-no"), domain)

    # the rule then asks the return's question again (data/rules/in_context.yml)
    assert said == [MESSAGES["order_delivered"].format(number=order["number"], delivered_on=order["delivered_at"][:10])]
    assert "bot_failures" not in values and values.get("pending_change", "start_return") == "start_return"


def test_an_unclear_answer_to_a_yes_no_question_is_not_understood(domain: dict[str, Any]) -> None:
    values, said = read(unclear("maybe", [("greet", 0.36), ("goodbye", 0.16), ("affirm", 0.12)],
                                slots={"pending_change": "cancel_order", "order_number": "C-100042"},
                                active_loop=None), domain)

    assert values == {"bot_failures": 1.0} and said == [MESSAGES["form_rephrase"]]


def test_every_order_task_asked_again_during_the_order_check_has_its_rule(domain: dict[str, Any]) -> None:
    """data/rules/in_context.yml is hand-written: one rule per intent that starts an order task (domain.yml)."""
    rules = yaml.safe_load((ROOT / "data" / "rules" / "in_context.yml").read_text())["rules"]
    covered = {(rule["steps"][0]["intent"], rule["condition"][1]["slot_was_set"][0]["order_query"])
               for rule in rules if len(rule.get("condition") or []) == 2 and "order_query" in str(rule["condition"])}
    expected = {(intent, task_of_intent(intent, domain)) for intent in domain["intents"]
                if task_of_intent(intent, domain) is not None and intent != "delivery_period"}
    # delivery_period starts a task only with an order number; without one it is answered (a generated digression)
    assert covered == expected


def test_every_yes_no_question_has_its_in_context_rule() -> None:
    """Each question that waits in pending_change (scripts/digressions.py) reads an unclear answer in context, then
    is asked again by the action that asked it."""
    rules = yaml.safe_load((ROOT / "data" / "rules" / "in_context.yml").read_text())["rules"]
    covered = {rule["condition"][1]["slot_was_set"][0]["pending_change"]: rule["steps"][2]["action"]
               for rule in rules if "pending_change" in str(rule.get("condition"))}
    assert covered == PENDING_QUESTIONS
