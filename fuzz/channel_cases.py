"""The channel fuzzer's cases: what one request to the REST webhook or one socket.io exchange sends, byte for byte.

A case starts from a well-formed message that reaches the actions (an order question, opening hours, a person)
and changes one thing, sometimes a few: the sender or session id, the text, the metadata as a whole, one of the
keys the code reads (`customer_token`, `timezone`, `message_id`, `source`, `relay_id`), odd keys, the body itself
(not JSON, a wrong content type), the socket.io event's shape, or a raw packet. `kind` names the change.
The same seed gives the same cases; each case is one line of JSON (`line` / `from_line`) that replays exactly.
"""

from __future__ import annotations

import base64
import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from fuzz.channel_values import (
    NUMBERS,
    ODD_KEYS,
    STRINGS,
    SWEEP,
    TEXT_SWEEP,
    Raw,
    anything,
    encode,
    labelled,
    scalar,
    undecodable,
)

TOKEN_MARK = "<token:demo-gold>"  # replaced by a freshly signed demo token when the case is sent
BASE_TEXTS = ("hello", "where is my order", "what are your opening hours", "I want to talk to a person",
              "can I change my delivery address", "thanks, bye")
SESSION_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,64}")  # bot_runtime/inbound.py SENDER_PATTERN (and not only dots)
CONVERSATION = re.compile(r'"(chanfuzz-\d{5})(?:-\d+)?"')  # the conversation id of a generated case, quoted
KNOWN_KEYS = ("customer_token", "timezone", "message_id", "source", "relay_id")
ODD_IDS: dict[str, Any] = {
    "dot": ".", "dot-dot": "..", "64-chars": "s" * 64, "65-chars": "s" * 65, "10k-chars": "s" * 10_000,
    "accented": "café", "slash": "a/b", "traversal": "../x", "space": "a b", "newline": "a\nb", "query": "a?b#c",
    "percent": "%2e%2e", "empty": "", "nul": "a\x00b", "lone-surrogate": "\ud800", "rtl": "\u202eab",
    "emoji": "\U0001f600", "int": 5, "float": 1.5, "null": None, "true": True, "list": ["a"], "object": {"a": 1},
    "1e309": Raw("1e309"),
}
ID_SWEEP = ("dot", "dot-dot", "65-chars", "accented", "lone-surrogate", "nul", "int", "null", "list")
RAW_BODIES: dict[str, tuple[bytes, str | None]] = {  # label: (body, content type; None sends no header)
    "empty-body": (b"", "application/json"),
    "not-json": (b"hello", "application/json"),
    "truncated-json": (b'{"sender": "a", "message": "hi"', "application/json"),
    "json-null": (b"null", "application/json"),
    "json-list": (b"[1, 2]", "application/json"),
    "json-string": (b'"hello"', "application/json"),
    "json-1e309": (b"1e309", "application/json"),
    "trailing-garbage": (b'{"sender": "a", "message": "hi"} x', "application/json"),
    "invalid-utf8-in-string": (b'{"sender": "a", "message": "\xff\xfe"}', "application/json"),
    "utf8-bom": (b'\xef\xbb\xbf{"sender": "a", "message": "hi"}', "application/json"),
    "utf16": ('{"sender": "a", "message": "hi"}'.encode("utf-16"), "application/json"),
    "nul-bytes": (b'{"sender": "a",\x00 "message": "hi"}', "application/json"),
    "duplicate-keys": (b'{"sender": "a", "sender": {"x": 1}, "message": "hi"}', "application/json"),
    "form-encoded": (b"sender=a&message=hi", "application/x-www-form-urlencoded"),
    "multipart-no-boundary": (b'{"sender": "a", "message": "hi"}', "multipart/form-data"),
    "json-as-text-plain": (b'{"sender": "a", "message": "hi"}', "text/plain"),
    "json-no-content-type": (b'{"sender": "a", "message": "hi"}', None),
    "json-latin1-charset": ('{"sender": "a", "message": "caf\xe9"}'.encode("latin-1"),
                            "application/json; charset=latin-1"),
    "xml": (b"<?xml version='1.0'?><a/>", "application/xml"),
}
RAW_PACKETS: dict[str, str] = {  # Engine.IO / Socket.IO text frames sent as they are
    "engineio-empty": "",
    "engineio-unknown-type": "9",
    "engineio-noop": "6",
    "engineio-message-empty": "4",
    "socketio-unknown-type": "49",
    "socketio-event-no-data": "42",
    "socketio-event-truncated": '42["user_uttered", {"message": "hi"',
    "socketio-event-object": '42{"message": "hi"}',
    "socketio-event-string": '42"user_uttered"',
    "socketio-event-empty-list": "42[]",
    "socketio-event-name-only": '42["user_uttered"]',
    "socketio-event-name-int": '42[5, {"message": "hi"}]',
    "socketio-event-name-surrogate": '42["\\ud800", {}]',
    "socketio-ack-unknown": "43[]",
    "socketio-ack-id-huge": '4299999999999999999999["user_uttered", {}]',
    "socketio-other-namespace": "40/nope,",
    "socketio-disconnect": "41",
    "socketio-binary-placeholder": '451-["user_uttered", {"_placeholder": true, "num": 0}]',
    "socketio-deep-args": "42" + "[" * 5000 + "]" * 5000,
    "socketio-1e309-ack": "421e309[]",
}


@dataclass(frozen=True)
class Case:
    """One request (REST) or one exchange on a new socket (socket.io), exactly as sent."""

    index: int
    channel: str  # "rest" or "socketio"
    kind: str  # what was changed from a well-formed message, e.g. "metadata.customer_token=lone-high-surrogate"
    body: str = ""  # REST: the body's text (ASCII JSON unless the case is about the body itself)
    body_b64: str = ""  # REST: the body's bytes, when they are not text
    content_type: str | None = "application/json"  # REST: None sends no Content-Type header
    session: str | None = None  # socket.io: the session requested (and joined) before the frames
    frames: list[str] = field(default_factory=list)  # socket.io: the Engine.IO text frames sent after joining
    expect: str = "answer"  # socket.io: "answer" (`refused`, a reply or the closed socket) or "any" (raw packets)

    def line(self) -> str:
        """The case as one line of ASCII JSON, without the fields left at their defaults."""
        values = {k: v for k, v in asdict(self).items() if v != _DEFAULTS.get(k) or k in ("index", "channel", "kind")}
        return json.dumps(values)

    @staticmethod
    def from_line(text: str) -> Case:
        """The case a `line` wrote (other fields, such as an outcome, are ignored)."""
        values = json.loads(text)
        return Case(**{k: values[k] for k in _FIELDS if k in values})

    def payload(self, token: str) -> bytes:
        """REST: the body's bytes with the demo token in place of TOKEN_MARK."""
        if self.body_b64:
            return base64.b64decode(self.body_b64)
        return self.body.replace(TOKEN_MARK, token).encode()

    def fresh(self, attempt: int) -> Case:
        """The same case in a conversation of its own (`chanfuzz-<index>-<attempt>`): a failure is confirmed and
        shrunk as it first happened, in a conversation with no history."""
        def rename(text: str) -> str:
            return CONVERSATION.sub(lambda m: f'"{m.group(1)}-{attempt}"', text)

        session = None if self.session is None else rename(f'"{self.session}"')[1:-1]
        return replace(self, body=rename(self.body), frames=[rename(f) for f in self.frames], session=session)

    def packets(self, token: str) -> list[str]:
        """socket.io: the frames with the demo token in place of TOKEN_MARK."""
        return [frame.replace(TOKEN_MARK, token) for frame in self.frames]


_FIELDS = tuple(Case.__dataclass_fields__)
_DEFAULTS: dict[str, Any] = {"body": "", "body_b64": "", "content_type": "application/json", "session": None,
                             "frames": [], "expect": "answer"}
Mutation = Callable[[random.Random, dict[str, Any]], str]


def _pick(rng: random.Random, pool: dict[str, Any]) -> tuple[str, Any]:
    label = rng.choice(sorted(pool))
    return label, pool[label]


def _metadata(message: dict[str, Any]) -> dict[str, Any]:
    metadata = message.get("metadata")
    if not isinstance(metadata, dict):
        metadata = message["metadata"] = {}
    return metadata


def mutate_id(rng: random.Random, message: dict[str, Any], key: str) -> str:
    label, value = _pick(rng, ODD_IDS)
    message[key] = value
    return f"{key}={label}"


def mutate_text(rng: random.Random, message: dict[str, Any], huge: bool) -> str:
    label, value = anything(rng, huge) if rng.random() < 0.3 else scalar(rng)
    if rng.random() < 0.15:
        message.pop("message", None)
        return "message=absent"
    message["message"] = value
    return f"message={label}"


def mutate_metadata(rng: random.Random, message: dict[str, Any], huge: bool) -> str:
    label, value = anything(rng, huge)
    message["metadata"] = value
    return f"metadata={label}"


def mutate_known_key(rng: random.Random, message: dict[str, Any], huge: bool) -> str:
    key = rng.choice(KNOWN_KEYS)
    label, value = anything(rng, huge)
    _metadata(message)[key] = value
    return f"metadata.{key}={label}"


def mutate_token(rng: random.Random, message: dict[str, Any]) -> str:
    """A real signed token spoiled at its end, its start or inside a structure."""
    label, odd = _pick(rng, STRINGS)
    how = rng.choice(["suffix", "prefix", "in-list", "in-object"])
    value: Any = {"suffix": TOKEN_MARK + odd, "prefix": odd + TOKEN_MARK, "in-list": [TOKEN_MARK, odd],
                  "in-object": {"token": TOKEN_MARK, "x": odd}}[how]
    _metadata(message)["customer_token"] = value
    return f"metadata.customer_token=token-{how}-{label}"


def mutate_odd_keys(rng: random.Random, message: dict[str, Any], huge: bool) -> str:
    labels = []
    metadata = _metadata(message)
    for _ in range(rng.randint(1, 3)):
        key_label, key = _pick(rng, ODD_KEYS)
        value_label, value = anything(rng, huge)
        metadata[key] = value
        labels.append(f"{key_label}:{value_label}")
    return "metadata.odd-keys=" + ",".join(labels)


def _message_mutations(huge: bool, id_key: str) -> list[tuple[float, Mutation]]:
    return [
        (1.0, lambda rng, m: mutate_id(rng, m, id_key)),
        (1.5, lambda rng, m: mutate_text(rng, m, huge)),
        (1.0, lambda rng, m: mutate_metadata(rng, m, huge)),
        (3.0, lambda rng, m: mutate_known_key(rng, m, huge)),
        (1.0, mutate_token),
        (1.5, lambda rng, m: mutate_odd_keys(rng, m, huge)),
    ]


def _mutated(rng: random.Random, base: dict[str, Any], huge: bool, id_key: str) -> tuple[dict[str, Any], str]:
    """The base message with one change (three in four cases) or two or three."""
    weighted = _message_mutations(huge, id_key)
    count = 1 if rng.random() < 0.75 else rng.randint(2, 3)
    kinds = [rng.choices([m for _, m in weighted], weights=[w for w, _ in weighted])[0](rng, base)
             for _ in range(count)]
    return base, " + ".join(kinds)


def _base(rng: random.Random, index: int, id_key: str, conversation: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"timezone": rng.choice(["Europe/Paris", "America/New_York", "UTC"]),
                                "message_id": f"m-{index}-{rng.getrandbits(32):08x}"}
    if rng.random() < 0.5:
        metadata["customer_token"] = TOKEN_MARK
    return {id_key: conversation, "message": rng.choice(BASE_TEXTS), "metadata": metadata}


def rest_case(rng: random.Random, index: int) -> Case:
    sender = f"chanfuzz-{index:05d}"
    if rng.random() < 0.12:
        label, (body, content_type) = _pick(rng, RAW_BODIES)
        return Case(index, "rest", f"body={label}", body_b64=base64.b64encode(body).decode(),
                    content_type=content_type)
    message, kind = _mutated(rng, _base(rng, index, "sender", sender), huge=True, id_key="sender")
    if rng.random() < 0.08:
        content_type = rng.choice(["text/plain", None, "application/x-www-form-urlencoded",
                                   "application/json; charset=utf-16"])
        return Case(index, "rest", f"{kind} + content-type={content_type}", body=encode(message),
                    content_type=content_type)
    return Case(index, "rest", kind, body=encode(message))


def _event(name: Any, *args: Any) -> str:
    return "42" + encode([name, *args])


def _socket_message(index: int, message: dict[str, Any], kind: str, session: str) -> Case:
    """A `user_uttered` case; the socket joins the message's own session when that id is a valid one (Rasa sends
    the reply to the session's room: another room would leave this socket silent by design)."""
    session_id = message.get("session_id")
    if isinstance(session_id, str) and SESSION_ID.fullmatch(session_id) and session_id.strip("."):
        session = session_id
    frame = _event("user_uttered", message)
    return Case(index, "socketio", f"user_uttered {kind}", session=session, frames=[frame],
                expect="any" if undecodable(frame) else "answer")


def socketio_case(rng: random.Random, index: int) -> Case:
    session = f"chanfuzz-{index:05d}"
    roll = rng.random()
    if roll < 0.65:
        message, kind = _mutated(rng, _base(rng, index, "session_id", session), huge=False, id_key="session_id")
        return _socket_message(index, message, kind, session)
    if roll < 0.75:
        message = _base(rng, index, "session_id", session)
        label, extra = anything(rng, huge=False)
        as_text = {**message, "metadata": json.dumps(message["metadata"])}
        shapes: dict[str, list[Any]] = {"no-args": [], "two-args": [message, extra], "one-odd-arg": [extra],
                                        "metadata-as-json-string": [as_text]}
        shape = rng.choice(sorted(shapes))
        frame = _event("user_uttered", *shapes[shape])
        return Case(index, "socketio", f"user_uttered shape={shape}" + (f" ({label})" if "arg" in shape else ""),
                    session=session, frames=[frame], expect="any" if undecodable(frame) else "answer")
    if roll < 0.85:
        label, value = anything(rng, huge=False) if rng.random() < 0.5 else _pick(rng, ODD_IDS)
        body = {"session_id": value} if rng.random() < 0.7 else value
        frame = _event("session_request", body)
        return Case(index, "socketio", f"session_request {'session_id=' if isinstance(body, dict) else 'body='}{label}",
                    frames=[frame], expect="any" if undecodable(frame) else "answer")
    if roll < 0.92:
        name_label, name = _pick(rng, {**STRINGS, **NUMBERS, "bot_uttered": "bot_uttered", "connect": "connect",
                                       "disconnect": "disconnect", "refused": "refused"})
        label, value = anything(rng, huge=False)
        return Case(index, "socketio", f"event name={name_label} arg={label}", session=session,
                    frames=[_event(name, value)], expect="any")
    label, packet = _pick(rng, RAW_PACKETS)
    return Case(index, "socketio", f"packet={label}", session=session, frames=[packet], expect="any")


def everywhere(label: str) -> dict[str, Any]:
    """Metadata with the value `label` names in every key the code reads, under an odd key, and nested."""
    value = labelled(label)
    return {**dict.fromkeys(KNOWN_KEYS, value), ODD_KEYS["rtl-key"]: value, "nested": {"a": [value]}}


def sweep(channels: tuple[str, ...]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(channel, kind, message without its conversation id) of the opening sweep: each SWEEP value in every metadata
    slot at once, each TEXT_SWEEP value as the text, each ID_SWEEP value as the conversation id."""
    opening = [(f"metadata.every-key={label}", {"message": "where is my order", "metadata": everywhere(label)})
               for label in SWEEP]
    opening += [(f"message={label}", {"message": STRINGS[label], "metadata": {}}) for label in TEXT_SWEEP]
    opening += [(f"id={label}", {"id": ODD_IDS[label], "message": "hello", "metadata": {}}) for label in ID_SWEEP]
    for kind, message in opening:
        for channel in channels:
            yield channel, kind, message


def cases(seed: int, count: int, channels: tuple[str, ...] = ("rest", "socketio")) -> Iterator[Case]:
    """`count` cases from `seed`: the sweep (fixed, 2 x 42 cases with both channels) and then random cases, the
    channels alternating (the same seed and count give the same cases)."""
    rng = random.Random(seed)
    index = 0
    for channel, kind, message in sweep(channels):
        if index == count:
            return
        conversation = f"chanfuzz-{index:05d}"
        key = "sender" if channel == "rest" else "session_id"
        body = {key: message.get("id", conversation), **{k: v for k, v in message.items() if k != "id"}}
        if channel == "rest":
            yield Case(index, "rest", kind.replace("id=", "sender="), body=encode(body))
        else:
            yield _socket_message(index, body, kind.replace("id=", "session_id="), conversation)
        index += 1
    makers = {"rest": rest_case, "socketio": socketio_case}
    for number in range(index, count):
        yield makers[channels[number % len(channels)]](rng, number)
