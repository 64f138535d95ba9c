"""A failing conversation as a Rasa test story (what happened, with the bot's replies as comments) for trainers."""

from __future__ import annotations

import json

from fuzz.invariants import Violation
from fuzz.runner import Played

# slots the dialogue policies read (influence_conversation): a fixed story must say how they changed
STORY_SLOTS = ("order_query", "pending_change", "switch_offered")


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def render(name: str, played: Played, violation: Violation) -> str:
    lines = [
        "# Found by the conversation fuzzer (make fuzz-dialogue). What happened, not what should happen: fix the",
        "# rules or data, correct the steps below to the behaviour you want, and move the story to tests/.",
        f"# customer: {played.customer.kind}; broke '{violation.kind}' at message {violation.turn + 1}: "
        f"{violation.detail}",
        'version: "3.1"',
        "stories:",
        f"  - story: {name}",
        "    steps:",
    ]
    for index, record in enumerate(played.records):
        lines += [f"      - user: {_quoted(record.text)}", f"        intent: {record.intent or 'nlu_fallback'}"]
        for text in played.replies[index] if index < len(played.replies) else []:
            lines.append(f"      # bot: {' '.join(text.split())[:160]}")
        for action in record.actions:
            if action != "action_listen":
                lines.append(f"      - action: {action}")
        for loop in record.loops:
            lines.append(f"      - active_loop: {loop or 'null'}")
        for slot, value in record.slots_set:
            if slot in STORY_SLOTS:
                lines.append(f"      - slot_was_set:\n          - {slot}: {json.dumps(value)}")
    return "\n".join(lines) + "\n"
