"""A custom action that cannot run (the action server is down) is answered with one honest sentence per turn."""

from __future__ import annotations

import asyncio

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot_runtime import action_outage
from launcher.ports import free_port


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    action_outage.install()


def run_action(tracker: DialogueStateTracker) -> list[object]:
    dead = EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook")  # nothing listens there
    action = RemoteAction("action_order_status", dead)
    domain = Domain.empty()
    return asyncio.run(action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), tracker, domain))


def test_an_action_server_that_is_down_gets_an_honest_sentence_once_per_turn() -> None:
    tracker = DialogueStateTracker.from_events("outage", [UserUttered("where is my order?")])
    events = run_action(tracker)
    assert len(events) == 1 and isinstance(events[0], BotUttered)
    assert events[0].text == action_outage.ACTION_FAILED
    tracker.update(events[0])
    assert run_action(tracker) == [], "a second failed action in the same turn says nothing more"
    tracker.update(UserUttered("hello?"))
    assert [e.text for e in run_action(tracker)] == [action_outage.ACTION_FAILED]  # a new turn


def test_a_form_whose_validation_cannot_run_ends_so_that_the_next_try_starts_clean() -> None:
    tracker = DialogueStateTracker.from_events("outage-form", [
        UserUttered("where is my order?"), ActiveLoop("verify_order_form"), SlotSet("requested_slot", "order_number")])
    events = run_action(tracker)
    assert [type(e) for e in events] == [BotUttered, ActiveLoop, SlotSet]
    for event in events:
        tracker.update(event)
    assert tracker.active_loop_name is None and tracker.get_slot("requested_slot") is None
