"""The Rasa-process speed fixes keep Rasa's behaviour: same validation of action responses, same event classes."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import rasa.shared.utils.common
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event, SlotSet

from bot_runtime import action_validation, event_lookup

RASA_CLASSES = {cls.type_name: Event.resolve_by_type(cls.type_name)
                for cls in rasa.shared.utils.common.all_subclasses(Event)}


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    action_validation.install()
    event_lookup.install()


def test_a_valid_action_response_is_accepted() -> None:
    response = {"events": [{"event": "slot", "name": "tier", "value": "gold", "timestamp": None}],
                "responses": [{"text": "Thanks Anna, I've confirmed your order."}]}
    assert RemoteAction("action_order_status", None)._validate_action_result(response) is True


@pytest.mark.parametrize("response", [
    {"events": "not a list"},
    {"events": [{"event": "slot", "name": 3}]},
    {"events": [], "responses": ["not an object"]},
])
def test_an_invalid_action_response_is_refused_with_rasas_message(response: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        RemoteAction("action_order_status", None)._validate_action_result(response)


RESPONSES = [
    {"events": [{"event": "slot", "name": "tier", "value": "gold", "timestamp": None},
                {"event": "action", "name": "action_listen"}, {"event": "reminder"}], "responses": [{"text": "hi"}]},
    {"events": [{"event": "user", "text": None}, {"event": "bot", "text": "x"},
                {"event": "active_loop", "name": None}]},
    {},
    {"events": [{"event": "slot", "name": "a"}]},
    {"events": [{"event": "slot", "name": "a", "value": None, "metadata": 3}]},
    {"events": [{"event": "action", "name": 3}]},
    {"events": [{"event": "user", "timestamp": "yesterday"}]},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": 5}]},
    {"events": [{"name": "tier"}]},
    {"responses": [1]},
]


@pytest.mark.parametrize("response", RESPONSES)
def test_the_response_check_agrees_with_jsonschema_on_rasas_schema(response: dict[str, Any]) -> None:
    try:
        jsonschema.validate(response, RemoteAction.action_response_format_spec())
        expected = True
    except ValidationError:
        expected = False
    assert action_validation.is_valid_response(response) is expected


def test_every_event_name_resolves_to_rasas_class() -> None:
    assert {name: Event.resolve_by_type(name) for name in RASA_CLASSES} == RASA_CLASSES
    assert Event.resolve_by_type("slot") is SlotSet


def test_unknown_event_names_keep_rasas_default_and_error() -> None:
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no_such_event")
