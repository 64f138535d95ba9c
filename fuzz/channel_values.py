"""The odd values the channel fuzzer puts into messages and metadata, each with a label that names it in reports.

Values are written as JSON the way an attacker's client writes them: `encode` escapes every non-ASCII character
(json.dumps' ensure_ascii), so a lone surrogate travels as the six characters `\\ud800`, which every JSON parser
turns back into a string no UTF-8 encoder accepts. `Raw` holds JSON text written as is: numbers Python would not
write (1e309, NaN, a 5,000-digit integer) and nestings too deep to build as Python values.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

SOCKET_PACKET_LIMIT = 64_000  # bot_runtime/socketio_channel.py MAX_PACKET_BYTES: a bigger packet closes the socket


@dataclass(frozen=True)
class Raw:
    """JSON text sent exactly as written."""

    text: str


def encode(value: Any) -> str:
    """`value` as compact JSON text, ASCII only, with `Raw` parts written as they are."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(encode(v) for v in value) + "]"
    return json.dumps(value)


def deep_list(depth: int) -> Raw:
    return Raw("[" * depth + "]" * depth)


def deep_object(depth: int) -> Raw:
    return Raw('{"a":' * depth + "1" + "}" * depth)


STRINGS: dict[str, str] = {
    "empty": "",
    "space": " ",
    "nul": "\x00",
    "nul-inside": "order\x00status",
    "lone-high-surrogate": "\ud800",
    "lone-low-surrogate": "\udfff",
    "reversed-surrogate-pair": "\udc00\ud800",
    "surrogate-in-text": "where is my \ud83d order",
    "rtl-override": "\u202etnuocca ym",
    "rtl-mark": "\u200fhello\u200e",
    "bom": "\ufeffhello",
    "zero-width": "he\u200bl\u200cl\u200do",
    "noncharacters": "\uffff\ufffe\U0010ffff",
    "astral-emoji": "\U0001f600\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "combining-marks": "e" + "\u0301" * 60,
    "private-use": "\ue000\U000f0000",
    "controls": "\x1b[31m\r\n\t\x7f\x08",
    "line-separators": "a\u2028b\u2029c\x85d",
    "cjk-arabic": "我的订单在哪里 أين طلبي",
    "json-in-string": '{"customer_token": "x", "timezone": "UTC"}',
    "sql": "'; DROP TABLE events; --",
    "html": "<script>alert(1)</script>",
    "path": "../../../../etc/passwd",
    "format-fields": "{customer_name} {0} %s %(x)s ${HOME}",
    "intent-injection": "/request_human",
    "intent-injection-entities": '/greet{"relay_id": "x", "order_number": 5}',
    "intent-injection-broken": "/greet{\"a\":",
    "slash-unknown-intent": "/no_such_intent",
    "long-2000": "a" * 2000,
    "long-2001": "a" * 2001,
    "long-20k-accents": "é" * 20_000,
    "long-70k": "x" * 70_000,
}
HUGE = {"long-300k": "x" * 300_000, "long-1.1M": "y" * 1_100_000}  # REST only: the socket's limit is 64 KB

NUMBERS: dict[str, Any] = {
    "zero": 0,
    "negative": -1,
    "float": 1.5,
    "negative-zero": -0.0,
    "int-2^64": 2**64,
    "int-5000-digits": Raw("9" * 5000),  # over Python's 4,300-digit limit for int() from text
    "1e309": Raw("1e309"),
    "-1e309": Raw("-1e309"),
    "1e-400": Raw("1e-400"),
    "NaN": Raw("NaN"),
    "Infinity": Raw("Infinity"),
    "true": True,
    "false": False,
    "null": None,
}

CONTAINERS: dict[str, Any] = {  # lists, objects and nestings (a few hundred kilobytes at most)
    "empty-list": [],
    "empty-object": {},
    "mixed-list": [1, "a", None, True, {"b": [2.5]}],
    "list-of-tokens": ["a", "\ud800", "\x00"],
    "nested-object": {"a": {"b": {"c": "\ud800"}}},
    "deep-list-50": deep_list(50),
    "deep-list-990": deep_list(990),
    "deep-list-1100": deep_list(1100),
    "deep-list-100k": deep_list(100_000),
    "deep-object-990": deep_object(990),
    "deep-object-5000": deep_object(5000),
    "many-keys-5000": {f"k{i}": i for i in range(5000)},
    "long-list-10k": list(range(10_000)),
}


def scalar(rng: random.Random) -> tuple[str, Any]:
    """A labelled odd string or number."""
    pool = STRINGS if rng.random() < 0.7 else NUMBERS
    label = rng.choice(sorted(pool))
    return label, pool[label]


def anything(rng: random.Random, huge: bool) -> tuple[str, Any]:
    """A labelled odd value of any JSON type (`huge`: strings of 300 KB and 1.1 MB too)."""
    roll = rng.random()
    if roll < 0.55:
        return scalar(rng)
    if roll < 0.9 or not huge:
        label = rng.choice(sorted(CONTAINERS))
        return label, CONTAINERS[label]
    label = rng.choice(sorted(HUGE))
    return label, HUGE[label]


ODD_KEYS: dict[str, str] = {
    "empty-key": "",
    "nul-key": "a\x00b",
    "surrogate-key": "\ud800",
    "low-surrogate-key": "k\udfffk",
    "rtl-key": "\u202eyek",
    "long-key": "k" * 10_000,
    "dotted-key": "a.b.c",
    "dollar-key": "$where",
    "proto-key": "__proto__",
    "emoji-key": "\U0001f600",
}

# The sweep that opens every run, on both channels: each of these as the text, and in every metadata slot the code
# reads at once
TEXT_SWEEP = ("empty", "space", "controls", "zero-width", "bom", "line-separators", "combining-marks", "rtl-override",
              "long-2001", "intent-injection", "intent-injection-entities", "intent-injection-broken",
              "slash-unknown-intent", "format-fields")
SWEEP = ("lone-high-surrogate", "lone-low-surrogate", "reversed-surrogate-pair", "surrogate-in-text", "nul-inside",
         "rtl-override", "noncharacters", "astral-emoji", "path", "long-2001", "int-2^64", "1e309", "NaN", "true",
         "null", "mixed-list", "nested-object", "deep-list-50", "deep-object-990")


def labelled(label: str) -> Any:
    """The value a label names."""
    for pool in (STRINGS, NUMBERS, CONTAINERS, HUGE):
        if label in pool:
            return pool[label]
    raise KeyError(label)


def undecodable(frame: str) -> bool:
    """Whether python-engineio's JSON parser drops this packet (it refuses integers over 100 digits; Python's json
    module gives up on nestings near its recursion limit): the server never sees an event to refuse or answer."""
    depth = deepest = digits = 0
    in_string = escaped = False
    for char in frame:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
            continue
        if char.isdigit():
            digits += 1
            if digits > 100:
                return True
            continue
        digits = 0
        if char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest > 900
