"""Smaller versions of a failing channel case: the same message with one metadata key fewer.

The opening sweep puts a value in every metadata key at once; the keys that matter are found by dropping each key
in turn, for good when the failure stays the same without it (fuzz/channels.py does the sending). Numbers and
constants are read back as `Raw` text, so what stays is sent byte for byte as before.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from fuzz.channel_cases import Case
from fuzz.channel_values import Raw, encode, undecodable


def _parsed(text: str) -> Any:
    try:
        return json.loads(text, parse_float=Raw, parse_int=Raw, parse_constant=Raw)
    except (ValueError, RecursionError):
        return None


def _message(case: Case) -> tuple[dict[str, Any], list[Any]] | None:
    """The message object of a REST body or of a one-frame `user_uttered`, and the frame's event list."""
    if case.channel == "rest" and case.body:
        body = _parsed(case.body)
        return (body, []) if isinstance(body, dict) else None
    if case.channel == "socketio" and len(case.frames) == 1 and case.frames[0].startswith("42"):
        event = _parsed(case.frames[0][2:])
        if isinstance(event, list) and len(event) == 2 and event[0] == "user_uttered" and isinstance(event[1], dict):
            return event[1], event
    return None


def _rebuilt(case: Case, message: dict[str, Any], event: list[Any], kept: list[str]) -> Case:
    kind = f"{case.kind.split(' -> ')[0]} -> metadata keys kept: {', '.join(map(repr, kept)) or 'none'}"
    if case.channel == "rest":
        return replace(case, kind=kind, body=encode(message))
    frame = "42" + encode([event[0], message])
    return replace(case, kind=kind, frames=[frame], expect="any" if undecodable(frame) else "answer")


def metadata_keys(case: Case) -> list[str]:
    """The keys of the case's metadata object (none when there is no such object, or only one key)."""
    found = _message(case)
    metadata = found[0].get("metadata") if found else None
    return list(metadata) if isinstance(metadata, dict) and len(metadata) > 1 else []


def without(case: Case, key: str) -> Case:
    """The case without metadata key `key` (one of metadata_keys(case))."""
    found = _message(case)
    assert found is not None
    message, event = found
    fewer = {k: v for k, v in message["metadata"].items() if k != key}
    return _rebuilt(case, {**message, "metadata": fewer}, event, list(fewer))
