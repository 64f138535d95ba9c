"""The channels' rules for what a stranger sends (bot_runtime/inbound.py): the reasons, field by field. The running
channels are attacked with the same values in tests/e2e/test_security.py and tests/e2e/test_socketio_channel.py."""

from __future__ import annotations

from typing import Any

import pytest

from bot_runtime.channel_guard import problem
from bot_runtime.inbound import metadata_problem, sender_problem

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJl"
WIDGET_METADATA = {"customer_token": TOKEN, "timezone": "America/New_York", "message_id": "m-1f3a"}


def test_what_the_widget_sends_is_accepted() -> None:
    assert metadata_problem(WIDGET_METADATA) is None
    assert metadata_problem(None) is None and metadata_problem({}) is None
    assert metadata_problem({"shop": {"cart": [1, 2.5, None, True, "socks"]}}) is None  # other keys pass through
    assert problem({"sender": "c-1", "message": "hi", "metadata": WIDGET_METADATA}) is None


@pytest.mark.parametrize("metadata, field", [
    ({"customer_token": "\ud800"}, "customer_token"),
    ({"customer_token": "a\x00b"}, "customer_token"),
    ({"customer_token": 5}, "customer_token"),
    ({"customer_token": ["a"]}, "customer_token"),
    ({"customer_token": "two words"}, "customer_token"),
    ({"customer_token": "t" * 4097}, "customer_token"),
    ({"timezone": "\udfff"}, "timezone"),
    ({"timezone": "Europe/Paris; DROP"}, "timezone"),
    ({"timezone": {"zone": "UTC"}}, "timezone"),
    ({"message_id": ""}, "message_id"),
    ({"message_id": "m" * 129}, "message_id"),
    ({"message_id": 7}, "message_id"),
    ({"other": "lone \ud83d"}, "other"),
    ({"\ud800": "a key that is no text"}, "key"),
    ({"k" * 65: 1}, "key"),
    ({"deep": {"er": {"and": {"deeper": {"x": 1}}}}}, "nest"),
    ({"wide": list(range(200))}, "at most"),
    ({"big": "x" * 9000}, "characters"),
    ({"n": float("inf")}, "finite"),
    ({"n": float("nan")}, "finite"),
])
def test_metadata_a_store_or_reader_cannot_use_is_refused_with_its_field(metadata: dict[str, Any],
                                                                         field: str) -> None:
    reason = metadata_problem(metadata)
    assert reason is not None and field in reason, reason
    assert problem({"sender": "c-1", "message": "hi", "metadata": metadata}) == reason


@pytest.mark.parametrize("sender", [".", "..", "...", "", "a/b", "%2e%2e", "é", 5, None, "s" * 65])
def test_a_conversation_id_must_be_one_safe_path_segment(sender: Any) -> None:
    assert sender_problem(sender) is not None
    assert problem({"sender": sender, "message": "hi"}) is not None


@pytest.mark.parametrize("sender", ["a", "c-1", ".a", "a..b", "user@shop.example", "x:1"])
def test_usual_conversation_ids_are_accepted(sender: str) -> None:
    assert sender_problem(sender) is None


def test_rasa_may_not_be_told_another_input_channel() -> None:
    assert problem({"sender": "c-1", "message": "hi", "input_channel": "socketio"}) is not None
    assert problem({"sender": "c-1", "message": "hi", "input_channel": "rest"}) is None
