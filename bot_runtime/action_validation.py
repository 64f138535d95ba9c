"""Validation of action server responses with validators built once.

Rasa 3.6 checks every custom action's response with `jsonschema.validate`, which first re-checks Rasa's own,
constant response schema against the JSON Schema meta-schema (about 19 ms of CPU per custom action call), then
tries each event against all 23 event schemas of a `oneOf` (about 0.15 ms per event). `install()` keeps the check
of every response but builds the validators once, and checks each event against the one `oneOf` branch whose
`event` constant names its type: every branch pins `event` to a distinct constant, so that branch is the only one
that can match and the `oneOf` holds exactly when it does. A response this check refuses goes through Rasa's
original method, so what is refused, and the error and its message, are Rasa's own.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction

_RASA_VALIDATE: Callable[[RemoteAction, dict[str, Any]], bool] = RemoteAction._validate_action_result


def _validator(schema: dict[str, Any]) -> Validator:
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@lru_cache(maxsize=1)
def _validators() -> tuple[Validator, dict[str, Validator]]:
    """The response schema without the events' `oneOf`, and a validator per event type for its `oneOf` branch."""
    schema = copy.deepcopy(RemoteAction.action_response_format_spec())
    branches = schema["properties"]["events"]["items"].pop("oneOf")
    by_type = {branch["properties"]["event"]["const"]: _validator(branch) for branch in branches}
    if len(by_type) != len(branches):
        raise RuntimeError("two event schemas share an event type: the per-type check would not be a oneOf")
    return _validator(schema), by_type


def is_valid_response(result: Any) -> bool:
    """Whether `result` satisfies Rasa's action response schema (a False goes to Rasa's check for the error)."""
    base, by_type = _validators()
    if not base.is_valid(result):
        return False
    for event in result.get("events", []):
        branch = by_type.get(event["event"])
        if branch is None or not branch.is_valid(event):
            return False
    return True


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    if is_valid_response(result):
        return True
    return _RASA_VALIDATE(self, result)


def install() -> None:
    """Make every RemoteAction validate responses with the cached validators (idempotent)."""
    RemoteAction._validate_action_result = _validate_action_result
