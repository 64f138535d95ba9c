"""A value typed wrong for the order check's question gets that slot's own correction and the question again, and
what is not a value is left to the rules (actions/verification.py, actions/forms.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from helpers import make_tracker, slot_values, texts
from rasa_sdk.executor import CollectingDispatcher

from actions.messages import MESSAGES
from actions.verification import ValidateVerifyOrderForm, email_attempt, order_number_attempt

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
