"""The fuzzer's invariant checks on hand-written trackers (the real fuzzer run is the CI step "conversation fuzzer")."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from fuzz.invariants import check, routine_intents
from launcher.settings import ROOT


def user(text: str, intent: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name}


def bot(text: str) -> dict[str, Any]:
    return {"event": "bot", "text": text}


def slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


def kinds(events: list[dict[str, Any]], routine: set[str] | None = None) -> list[str]:
    return [v.kind for v in check(events, routine or set())[1]]


def test_a_healthy_turn_breaks_nothing() -> None:
    assert kinds([action("action_listen"), user("hi", "greet"), action("utter_greet"), bot("Hello!"),
                  action("action_listen")]) == []


def test_the_issue_turn_breaks_four_invariants() -> None:
    """The fallback predicted until the circuit breaker, counting a failure and routing each time."""
    events = [action("action_listen"), user("how do I change my delivery address?", "change_shipping_address")]
    for failures in range(1, 11):
        events += [action("action_fallback"), bot(f"Sorry {min(failures, 2)}"), slot("bot_failures", float(failures))]
    events.append(slot("escalation_id", 7))

    found = kinds(events, {"change_shipping_address"})

    assert set(found) == {"repeated_action", "circuit_breaker", "duplicate_message", "failures_overcounted",
                          "routine_escalated"}


def test_silence_counts_unless_a_human_holds_the_conversation() -> None:
    silent = [action("action_listen"), user("thanks bye", "goodbye"), action("action_listen")]
    held = [slot("handoff_active", True), *silent]

    assert kinds(silent) == ["silent"]
    assert kinds(held) == []


def test_a_message_clarified_in_the_two_stage_fallback_is_one_turn() -> None:
    events = [action("action_listen"), user("hmm", "nlu_fallback"), action("action_two_stage_fallback"),
              bot("Did you mean?"), action("action_listen"), user("yep", "affirm"),
              action("action_two_stage_fallback"), {"event": "rewind"}, action("action_listen"),
              user("yep", "affirm"), action("utter_how_can_i_help"), bot("How can I help?"),
              action("action_listen")]

    turns, violations = check(events, set())

    assert [t.text for t in turns] == ["hmm", "yep"]
    assert violations == []


def test_routine_intents_are_those_no_rule_routes() -> None:
    routine = routine_intents(ROOT)

    assert {"track_order", "check_payment_methods", "greet"} <= routine
    assert not {"contact_human_agent", "complaint", "cancel_order", "nlu_fallback"} & routine


def loop(name: str | None) -> dict[str, Any]:
    return {"event": "active_loop", "name": name}


ASKING_ORDER_NUMBER = [action("action_listen"), user("where is my order?", "track_order"),
                       action("verify_order_form"), loop("verify_order_form"), slot("requested_slot", "order_number"),
                       bot("What is the order number?"), action("action_listen")]
MESSAGES = {"invalid_order_number": "That doesn't look like an order number.",
            "invalid_email": "That doesn't look like an email address."}


def test_the_fallbacks_suggestions_while_the_bot_waits_lose_the_thread() -> None:
    """The issue's turn: 'order 42' while the order number was asked got 'Did you mean: Place an order / ...'."""
    lost = [*ASKING_ORDER_NUMBER, user("order 42", "nlu_fallback"), action("action_two_stage_fallback"),
            loop("action_two_stage_fallback"), bot("Did you mean one of these?"), action("action_listen")]
    corrected = [*ASKING_ORDER_NUMBER, user("order 42", "nlu_fallback"), action("verify_order_form"),
                 slot("order_number", None), bot(MESSAGES["invalid_order_number"]), bot("What is the order number?"),
                 action("action_listen")]
    moves = ["task:track_order", "bad_order_number"]

    assert [v.kind for v in check(lost, set(), moves, MESSAGES)[1]] == ["lost_thread", "no_correction"]
    assert check(corrected, set(), moves, MESSAGES)[1] == []
    # waiting for nothing, the fallback's suggestions are what the bot should do
    idle = [action("action_listen"), user("order 42", "nlu_fallback"), action("action_two_stage_fallback"),
            bot("Did you mean one of these?"), action("action_listen")]
    assert check(idle, set(), ["bad_order_number"], MESSAGES)[1] == []


def test_a_yes_no_question_waits_until_it_is_answered_and_a_follow_up_counts_no_failure() -> None:
    offered = [action("action_listen"), user("cancel my order", "cancel_order"), action("action_offer_cancellation"),
               slot("pending_change", "cancel_order"), bot("Cancel order C-100042?"), action("action_listen")]
    failed = [*offered, user("so where is it", "nlu_fallback"), action("action_read_in_context"),
              slot("bot_failures", 1.0), bot("Sorry, I didn't understand that."),
              action("action_offer_cancellation"), bot("Cancel order C-100042?"), action("action_listen")]

    turns, violations = check(failed, set(), ["task:cancel_order", "follow_up"], MESSAGES)

    assert turns[1].waiting_for == "yes_no:cancel_order"
    assert [v.kind for v in violations] == ["follow_up_failed"]
