"""The dialogue invariants, checked on each turn of a conversation's tracker (Rasa's events from its HTTP API).

A turn is the events from one customer message up to the next. In every turn:
- the bot answers at least once, unless a human already holds the conversation ("silent");
- no action runs twice in a row except action_listen ("repeated_action");
- the turn ends by listening, not by Rasa's circuit breaker ("circuit_breaker");
- no message is sent twice ("duplicate_message");
- the bot failure count grows by at most one ("failures_overcounted");
- a routine question (an intent no rule routes) opens no escalation or ticket ("routine_escalated").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MAX_ACTIONS = 10  # Rasa's max_number_of_predictions: more means the circuit breaker stopped the turn
ESCALATION_SLOTS = ("escalation_id", "pending_escalation")


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
                                 failures_before=float(slots.get("bot_failures") or 0))
            turns.append(current)
        elif kind == "restart":
            slots = {}
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
    if current is not None:
        current.failures_after = float(slots.get("bot_failures") or 0)
    return turns


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


def check(events: list[dict[str, Any]], routine_intents: set[str]) -> tuple[list[TurnRecord], list[Violation]]:
    """The conversation's turns and every violation in them."""
    turns = split_turns(events)
    return turns, [v for i, turn in enumerate(turns) for v in check_turn(i, turn, routine_intents)]
