"""What the bot says about opening hours comes from the routing policy, whatever the hour the tests run at.

Each test sets the hours it means (the routing service re-reads its policy file) and checks the sentence against the
service's own availability answer, so that it holds at any instant (CONCIERGE_CLOCK_START moves both clocks).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from conftest import queue_hours
from helpers import demo_customer, make_tracker, run, says, slot_values, texts, verified_slots
from rasa_sdk.executor import CollectingDispatcher

from actions.decisions import ActionRoute
from actions.handoff import ActionQueueUpdate
from actions.hours import DAY_NAMES, WEEKDAYS
from clock import utcnow

NEW_YORK_WEEKDAYS = {"timezone": "America/New_York", "days": ["mon", "tue", "wed", "thu", "fri"],
                     "open": "09:00", "close": "17:00"}
PARIS_WEEKEND = {"timezone": "Europe/Paris", "days": ["sat", "sun"], "open": "10:00", "close": "14:00"}


def _open_now(api: httpx.Client, tier: str) -> bool:
    response = api.get("/queues/availability", params={"tier": tier})
    response.raise_for_status()
    return bool(response.json()["open"])


def test_the_hours_sentence_follows_the_policy(api: httpx.Client, policy_file: Path, domain: dict[str, Any]) -> None:
    with queue_hours(policy_file, general=NEW_YORK_WEEKDAYS):
        _, said = run(ActionRoute(), domain, "contact_customer_service")
        assert says("contact_customer_service", said[0]), said
        assert "Customer service team answers Monday to Friday, 09:00-17:00 New York time." in said[0]
        expected = "They're open now, until 17:00 New York time." if _open_now(api, "bronze") else \
            "They're closed right now and open again "
        assert expected in said[0], said

    with queue_hours(policy_file, general=PARIS_WEEKEND):
        _, said = run(ActionRoute(), domain, "contact_customer_service")
        assert "answers Saturday and Sunday, 10:00-14:00 Paris time." in said[0], said
        assert "Monday" not in said[0].split("Paris time.")[0]

    _, said = run(ActionRoute(), domain, "contact_customer_service")  # the tests' default: open around the clock
    assert "answers around the clock. They're available now." in said[0], said


def test_a_queue_without_opening_days_is_never_promised(policy_file: Path, domain: dict[str, Any]) -> None:
    with queue_hours(policy_file, general={**NEW_YORK_WEEKDAYS, "days": []}):
        _, said = run(ActionRoute(), domain, "contact_customer_service")
    assert said[0] == "You can reach customer service by email at support@example.com at any time; our Customer " \
                      "service team has no chat hours scheduled at the moment."


def test_a_closed_team_says_when_it_opens_again_in_both_zones(api: httpx.Client, policy_file: Path,
                                                              domain: dict[str, Any]) -> None:
    opening_day = (utcnow() + timedelta(days=2)).date()  # the one day the VIP desk opens: closed until then
    hours = {"timezone": "UTC", "days": [WEEKDAYS[opening_day.weekday()]], "open": "09:00", "close": "17:00"}
    slots = verified_slots(demo_customer(api, "platinum"))
    metadata = {"timezone": "Asia/Tokyo", **slots["session_started_metadata"]}  # the widget sends both
    tracker = make_tracker(slots=slots, intent="contact_human_agent", text="I need a person",
                           sender_id="hours-closed-vip", metadata=metadata)
    dispatcher = CollectingDispatcher()
    with queue_hours(policy_file, vip=hours):
        events = asyncio.run(ActionRoute().run(dispatcher, tracker, domain))
    [said] = texts(dispatcher)
    assert says("handoff_closed", said), said
    assert f"is closed right now and opens again on {DAY_NAMES[opening_day.weekday()]} at 09:00 UTC (" in said
    assert "18:00 your time)" in said  # 09:00 UTC is 18:00 in Tokyo
    assert "callback request" in said  # what the policy names for the VIP desk's closed hours
    assert slot_values(events)["handoff_active"] is False


def _escalate(api: httpx.Client, domain: dict[str, Any], sender: str) -> int:
    tracker = make_tracker(slots=verified_slots(demo_customer(api, "gold")), intent="contact_human_agent",
                           text="a person please", sender_id=sender)
    events = asyncio.run(ActionRoute().run(CollectingDispatcher(), tracker, domain))
    return int(slot_values(events)["escalation_id"])


def _queue_update(domain: dict[str, Any], sender: str, event: str = "moved") -> CollectingDispatcher:
    tracker = make_tracker(slots={"handoff_active": True}, intent="EXTERNAL_queue_update", sender_id=sender)
    tracker.latest_message["entities"] = [{"entity": "queue_event", "value": event}]
    dispatcher = CollectingDispatcher()
    assert asyncio.run(ActionQueueUpdate().run(dispatcher, tracker, domain)) == []
    return dispatcher


def test_a_queue_update_refreshes_the_place_in_line_and_tells_of_closing(api: httpx.Client, policy_file: Path,
                                                                         domain: dict[str, Any]) -> None:
    ahead = _escalate(api, domain, "queue-update-ahead")
    _escalate(api, domain, "queue-update-behind")
    [before] = _queue_update(domain, "queue-update-behind").messages
    assert before["text"] is None and before["custom"]["data"]["handoff"] == "waiting"
    position = before["custom"]["data"]["position"]
    assert position >= 2 and before["custom"]["data"]["open"] is True

    api.post(f"/escalations/{ahead}/abandon", json={"reason": "test"}).raise_for_status()
    [after] = _queue_update(domain, "queue-update-behind").messages
    assert after["custom"]["data"]["position"] == position - 1  # the customer moved up, silently

    with queue_hours(policy_file, vip={"timezone": "UTC", "days": [], "open": "09:00", "close": "17:00"}):
        [closed] = _queue_update(domain, "queue-update-behind", "closed").messages
    assert says("handoff_team_closed", closed["text"]) and closed["custom"]["data"]["open"] is False

    assert _queue_update(domain, "queue-update-nobody").messages == []  # no open escalation: nothing to say
