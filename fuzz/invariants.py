"""The dialogue invariants, checked on each turn of a conversation's tracker (Rasa's events from its HTTP API).

A turn is the events from one customer message up to the next. In every turn:
- the bot answers at least once, unless a human already holds the conversation ("silent");
- no action runs twice in a row except action_listen ("repeated_action");
- the turn ends by listening, not by Rasa's circuit breaker ("circuit_breaker");
- no message is sent twice ("duplicate_message");
- the bot failure count grows by at most one ("failures_overcounted");
- a routine question (an intent no rule routes) opens no escalation or ticket ("routine_escalated").

And in the light of what the bot waits for when the turn starts (a form's question, a yes/no question):
- no message is answered with the fallback's topic suggestions, as if nothing had been asked ("lost_thread");
- a malformed value typed for the order number or the email gets that slot's own correction ("no_correction");
- a short follow-up about the order (the fuzzer's "follow_up" move) counts no bot failure ("follow_up_failed").
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MAX_ACTIONS = 10  # Rasa's max_number_of_predictions: more means the circuit breaker stopped the turn
ESCALATION_SLOTS = ("escalation_id", "pending_escalation")
FORMS = ("verify_order_form", "shipping_address_form")
FALLBACK_SUGGESTIONS = "action_two_stage_fallback"
# the malformed-value moves of the fuzzer (fuzz/plan.py), the slot each one answers and the key of its correction
CORRECTIONS = {"bad_order_number": ("order_number", "invalid_order_number"), "bad_email": ("email", "invalid_email")}
FOLLOW_UP_MOVE = "follow_up"


def bot_messages(root: Path) -> dict[str, str]:
    """The MESSAGES literal of actions/messages.py, read without importing the bot runtime (another venv)."""
    tree = ast.parse((root / "actions" / "messages.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "MESSAGES" and node.value:
            return dict(ast.literal_eval(node.value))
    raise ValueError("actions/messages.py has no MESSAGES")


def routine_intents(root: Path) -> set[str]:
    """Intents that no rule routes to the routing service (data/rules): they must never open an escalation."""
    routed: set[str] = set()
    seen: set[str] = set()
    for path in (root / "data" / "rules").glob("*.yml"):
        for rule in (yaml.safe_load(path.read_text()) or {}).get("rules") or []:
            steps = rule.get("steps") or []
            intents = [s["intent"] for s in steps if "intent" in s]
            seen.update(intents)
            if any(s.get("action") == "action_route" for s in steps):
                routed.update(intents)
    return seen - routed - {"nlu_fallback"}


@dataclass
class TurnRecord:
    """One customer message and what the bot did with it."""

    text: str
    intent: str
    actions: list[str] = field(default_factory=list)
    bot_texts: list[str] = field(default_factory=list)
    slots_set: list[tuple[str, Any]] = field(default_factory=list)
    loops: list[str | None] = field(default_factory=list)
    human_held: bool = False
    failures_before: float = 0.0
    failures_after: float = 0.0
    # what the bot waited for when the message came: "<form>:<requested slot>", "yes_no:<pending change>", or None
    waiting_for: str | None = None


@dataclass(frozen=True)
class Violation:
    kind: str
    turn: int  # index of the customer message, from 0
    detail: str


def split_turns(events: list[dict[str, Any]]) -> list[TurnRecord]:
    """The customer's turns (messages typed by the customer; EXTERNAL_* events sent by the system are left out).

    When the customer clarifies a message, the two-stage fallback rewinds the turn and Rasa reads the same message
    again: that second user event stays in the same turn.
    """
    slots: dict[str, Any] = {}
    loop: str | None = None
    turns: list[TurnRecord] = []
    current: TurnRecord | None = None
    rewound = False
    for event in events:
        kind = event.get("event")
        if kind == "rewind":
            rewound = True
        if kind == "user" and current is not None and rewound and event.get("text") == current.text:
            rewound = False
            continue  # the two-stage fallback rewound the turn and re-reads the clarified message
        if kind == "user":
            rewound = False
            intent = str((event.get("parse_data") or {}).get("intent", {}).get("name") or "")
            if current is not None:
                current.failures_after = float(slots.get("bot_failures") or 0)
            if intent.startswith("EXTERNAL_"):
                current = None
                continue
            current = TurnRecord(text=str(event.get("text") or ""), intent=intent,
                                 human_held=bool(slots.get("handoff_active")),
                                 failures_before=float(slots.get("bot_failures") or 0),
                                 waiting_for=_waiting_for(loop, slots))
            turns.append(current)
        elif kind == "restart":
            slots = {}
            loop = None
        elif kind == "slot":
            slots[event["name"]] = event.get("value")
            if current is not None:
                current.slots_set.append((event["name"], event.get("value")))
        elif current is None:
            continue
        elif kind == "action":
            current.actions.append(str(event.get("name")))
        elif kind == "bot":
            current.bot_texts.append(str(event.get("text") or ""))
        elif kind == "active_loop":
            current.loops.append(event.get("name"))
        if kind == "active_loop":
            loop = event.get("name")
    if current is not None:
        current.failures_after = float(slots.get("bot_failures") or 0)
    return turns


def _waiting_for(loop: str | None, slots: dict[str, Any]) -> str | None:
    if loop in FORMS:
        return f"{loop}:{slots.get('requested_slot')}"
    if loop is None and slots.get("pending_change"):
        return f"yes_no:{slots['pending_change']}"
    return None


def check_in_context(index: int, turn: TurnRecord, move: str | None, messages: dict[str, str]) -> list[Violation]:
    """The invariants of a message sent while the bot waits for something (none when it waits for nothing)."""
    if turn.waiting_for is None or turn.human_held:
        return []
    found: list[Violation] = []
    if FALLBACK_SUGGESTIONS in turn.actions:
        found.append(Violation("lost_thread", index, f"{turn.text!r} got the fallback's suggestions while the bot "
                                                     f"waited for {turn.waiting_for}"))
    slot, key = CORRECTIONS.get(move or "", (None, ""))
    correction = messages.get(key)
    if correction and turn.waiting_for == f"verify_order_form:{slot}" and correction not in turn.bot_texts:
        found.append(Violation("no_correction", index, f"{turn.text!r} typed for the {slot}: no {key}"))
    if move == FOLLOW_UP_MOVE and turn.failures_after > turn.failures_before:
        found.append(Violation("follow_up_failed", index, f"{turn.text!r} while the bot waited for "
                                                          f"{turn.waiting_for} counted a bot failure"))
    return found


def check_turn(index: int, turn: TurnRecord, routine_intents: set[str]) -> list[Violation]:
    """Every invariant the turn breaks."""
    found: list[Violation] = []
    if not turn.bot_texts and not turn.human_held:
        found.append(Violation("silent", index, f"no reply to {turn.text!r} ({turn.intent})"))
    for before, after in zip(turn.actions, turn.actions[1:], strict=False):
        if before == after and before != "action_listen":
            found.append(Violation("repeated_action", index, f"{before} twice in a row"))
            break
    if len(turn.actions) > MAX_ACTIONS or (turn.actions and turn.actions[-1] != "action_listen"):
        found.append(Violation("circuit_breaker", index, f"turn ended after {' > '.join(turn.actions[-4:])}"))
    seen: set[str] = set()
    for text in turn.bot_texts:
        if text and text in seen:
            found.append(Violation("duplicate_message", index, f"said twice: {text[:80]!r}"))
            break
        seen.add(text)
    if turn.failures_after - turn.failures_before > 1:
        found.append(Violation("failures_overcounted", index,
                               f"bot_failures {turn.failures_before:g} -> {turn.failures_after:g}"))
    if turn.intent in routine_intents and any(name in ESCALATION_SLOTS and value for name, value in turn.slots_set):
        found.append(Violation("routine_escalated", index, f"{turn.intent} opened an escalation"))
    return found


def check(events: list[dict[str, Any]], routine_intents: set[str], moves: Sequence[str] | None = None,
          messages: dict[str, str] | None = None) -> tuple[list[TurnRecord], list[Violation]]:
    """The conversation's turns and every violation in them; with the fuzzer's `moves` (one per message) and the
    bot's `messages`, also the invariants of a message sent while the bot waits for something."""
    turns = split_turns(events)
    violations = [v for i, turn in enumerate(turns) for v in check_turn(i, turn, routine_intents)]
    meant: list[str | None] = list(moves) if moves is not None and len(moves) == len(turns) else [None] * len(turns)
    violations += [v for i, (turn, move) in enumerate(zip(turns, meant, strict=True))
                   for v in check_in_context(i, turn, move, messages or {})]
    return turns, violations
