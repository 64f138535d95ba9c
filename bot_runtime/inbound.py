"""What a channel accepts from a stranger: the rules both chat channels (REST and socket.io) apply before Rasa.

Everything a customer's client sends reaches the tracker store, the actions and the routing service: a value that
one of them cannot handle must be refused at the door with a reason, not fail deep inside (a lone surrogate in a
metadata value once made the tracker-store save raise and Rasa exit). So every string anywhere in a message, its
metadata's keys and values included, must be text that every store can keep, the metadata must stay small and
shallow, and the keys the bot reads (`KNOWN_KEYS`) must have the type and form their readers expect.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

SENDER_PATTERN = re.compile(r"[A-Za-z0-9_.:@-]{1,64}")
SENDER_RULE = "`sender` must be 1 to 64 letters, digits or . _ : @ - (and not only dots)"
UNUSABLE_TEXT = re.compile(r"[\x00\ud800-\udfff]")  # lone surrogates are not Unicode text; PostgreSQL keeps no NUL
MAX_METADATA_CHARS = 8_000  # the widget sends a sign-in token (~300 characters), a time zone and a message id
MAX_METADATA_DEPTH = 4
MAX_METADATA_ITEMS = 100  # keys and list items, at every level together
MAX_KEY_CHARS = 64
# the metadata keys the bot reads, and the form each must have (its readers: actions/identity.py, actions/hours.py,
# bot_runtime/resend_once.py)
KNOWN_KEYS: dict[str, tuple[re.Pattern[str], str]] = {
    "customer_token": (re.compile(r"[!-~]{1,4096}"), "1 to 4,096 printable ASCII characters without spaces"),
    "timezone": (re.compile(r"[A-Za-z0-9_+/-]{1,64}"), "an IANA time zone name such as Europe/Paris"),
    "message_id": (re.compile(r"[!-~]{1,128}"), "1 to 128 printable ASCII characters without spaces"),
}


def sender_problem(sender: Any, field: str = "sender") -> str | None:
    """Why a conversation id is refused, or None. It names the conversation in the tracker store and, through the
    routing service, in URL paths and idempotency keys: so it must be one safe path segment (`.` and `..` are not)."""
    if not isinstance(sender, str) or not SENDER_PATTERN.fullmatch(sender) or not sender.strip("."):
        return SENDER_RULE.replace("`sender`", f"`{field}`")
    return None


def message_text_problem(message: Any) -> str | None:
    """Why a customer's message is refused (not a string, or text no store can keep), or None."""
    if not isinstance(message, str):
        return "`message` must be a string"
    if UNUSABLE_TEXT.search(message):
        return "`message` must be text without NUL characters or lone surrogates"
    return None


def _value_problem(value: Any, path: str, depth: int, budget: list[int]) -> str | None:
    """Why one metadata value (at `path`) is refused; `budget` counts the items left to look at."""
    budget[0] -= 1
    if budget[0] < 0:
        return f"`metadata` may hold at most {MAX_METADATA_ITEMS} keys and items"
    if isinstance(value, str):
        return f"`{path}` must be text without NUL characters or lone surrogates" if UNUSABLE_TEXT.search(value) \
            else None
    if isinstance(value, float) and not math.isfinite(value):
        return f"`{path}` must be a finite number"
    if value is None or isinstance(value, (bool, int, float)):
        return None
    if depth >= MAX_METADATA_DEPTH:
        return f"`metadata` may nest at most {MAX_METADATA_DEPTH} levels"
    if isinstance(value, list):
        for index, item in enumerate(value):
            reason = _value_problem(item, f"{path}[{index}]", depth + 1, budget)
            if reason:
                return reason
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or len(key) > MAX_KEY_CHARS or UNUSABLE_TEXT.search(key):
                return f"each key of `{path}` must be text of at most {MAX_KEY_CHARS} characters"
            reason = _value_problem(item, f"{path}.{key}", depth + 1, budget)
            if reason:
                return reason
        return None
    return f"`{path}` must be JSON"


def metadata_problem(metadata: Any) -> str | None:
    """Why a message's metadata is refused, or None (absent metadata is fine)."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        return "`metadata` must be a JSON object"
    reason = _value_problem(metadata, "metadata", 0, [MAX_METADATA_ITEMS + 1])
    if reason:
        return reason
    for key, (pattern, form) in KNOWN_KEYS.items():
        value = metadata.get(key)
        if value is not None and not (isinstance(value, str) and pattern.fullmatch(value)):
            return f"`metadata.{key}` must be {form}"
    if len(json.dumps(metadata)) > MAX_METADATA_CHARS:
        return f"`metadata` must be at most {MAX_METADATA_CHARS:,} characters of JSON"
    return None
