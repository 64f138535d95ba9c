"""A hung routing service: routine answers still come from the bot, data questions get an honest answer."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml

from actions.config import ActionSettings
from launcher.settings import ROOT
from launcher.stack import Stack
from tests.e2e.agents import AgentSession
from tests.e2e.customers import RestCustomer, bot_messages, shop_token

CANT_LOOK_UP = "can't look that up right now"


@contextmanager
def hung(stack: Stack, name: str) -> Iterator[None]:
    """Freeze a process of the stack (it accepts connections but never answers), then let it go on."""
    group = stack.pids()[name]
    os.killpg(group, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(group, signal.SIGCONT)


def _texts(replies: list[dict[str, Any]]) -> list[str]:
    return [r["text"] for r in replies if r.get("text")]


def test_a_hung_routing_service_does_not_silence_the_bot(running_stack: Stack) -> None:
    settings = running_stack.settings
    customer = RestCustomer(settings, "outage", shop_token(settings, "demo-gold"))
    customer.say("hello")  # the session starts (and the tier is looked up) while the service is up
    payment_methods = yaml.safe_load((ROOT / "domain.yml").read_text())["responses"]["utter_check_payment_methods"]

    with hung(running_stack, "routing"):
        started = time.monotonic()
        assert _texts(customer.say("which payment methods do you accept?")) == [payment_methods[0]["text"]]
        faq_seconds = time.monotonic() - started

        started = time.monotonic()
        replies = _texts(customer.say("where is my order?"))
        failed_at = time.monotonic()
        data_seconds = failed_at - started
        assert len(replies) == 1 and CANT_LOOK_UP in replies[0], replies
        assert "Account > Orders" in replies[0], "an alternative is offered"
    print(f"routing service hung: FAQ answered in {faq_seconds:.2f}s, order question in {data_seconds:.2f}s")
    assert faq_seconds < 2.0, "routine answers must not wait for the routing service"

    # once the service answers again, so does the order look-up: after the action server's circuit breaker lets a
    # call through again (it opened when the look-up timed out with no answer at all)
    time.sleep(max(0.0, ActionSettings.breaker_seconds - (time.monotonic() - failed_at)))
    replies = _texts(customer.say("where is my order?"))
    assert replies and all(CANT_LOOK_UP not in text for text in replies), replies


def test_a_request_for_a_person_made_while_the_service_hangs_reaches_the_queue_once(running_stack: Stack) -> None:
    """Kept before the routing decision, retried by the action server's loop once the service answers again."""
    settings = running_stack.settings
    customer = RestCustomer(settings, "kept-person", shop_token(settings, "demo-platinum"))
    customer.say("hello")
    pending = bot_messages()["handoff_pending"]

    with hung(running_stack, "routing"):
        assert _texts(customer.say("I want to talk to a person")) == [pending]
        time.sleep(6)  # the first retry comes and fails while the service still hangs
    back = time.monotonic()
    agent = AgentSession(settings.routing_url, "alice")
    escalation = agent.find(customer.sender, timeout=60)
    seconds = time.monotonic() - back
    print(f"request for a person kept during the hang reached the VIP queue {seconds:.1f}s after the service was back")

    assert escalation["queue"] == "vip"
    time.sleep(3)  # a retry that overlapped must not open a second escalation
    listed = agent.http.get("/escalations").json()
    assert [e["id"] for e in listed if e["conversation_id"] == customer.sender] == [escalation["id"]]
    said = [e.get("text") or "" for e in customer.tracker()["events"] if e.get("event") == "bot"]
    # then told what happens next (waiting, or nobody online yet: whichever the queue's state was at that moment)
    announcements = [bot_messages()[key].split("{")[0] for key in ("handoff_waiting", "handoff_unstaffed")]
    assert said.count(pending) == 1
    assert any(text.startswith(start) for text in said[said.index(pending) + 1:] for start in announcements), said


def test_a_signed_in_customers_first_request_during_an_outage_is_decided_for_them(running_stack: Stack) -> None:
    """A new conversation whose very first message asks for a person while the service hangs: neither the session's
    start nor the turn could check the sign-in, so the token is kept with the request and checked on the retry; the
    platinum customer reaches the VIP queue, never served as a guest."""
    settings = running_stack.settings
    token = shop_token(settings, "demo-platinum")
    customer = RestCustomer(settings, "first-in-outage", token)
    pending = bot_messages()["handoff_pending"]

    with hung(running_stack, "routing"):
        replies = _texts(customer.say("I want to talk to a human"))
        assert pending in replies, replies
    back = time.monotonic()
    agent = AgentSession(settings.routing_url, "alice")
    escalation = agent.find(customer.sender, timeout=60)
    print(f"first request of a platinum customer, kept during the hang, reached the VIP queue "
          f"{time.monotonic() - back:.1f}s after the service was back")
    assert escalation["queue"] == "vip" and escalation["tier"] == "platinum"
    slots = customer.tracker()["slots"]
    assert slots["verified"] is True and slots["tier"] == "platinum"
    stored = [str(e) for e in customer.tracker()["events"]]
    assert not any(token in event for event in stored), "the kept token never reaches the tracker store"
