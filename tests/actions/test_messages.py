"""Every sentence an action sends is in actions/messages.py (the one home of the actions' sentences)."""

from __future__ import annotations

import re
import string
from pathlib import Path

from actions.decisions import HOURS_INTENTS
from actions.messages import MESSAGES

ACTIONS = Path(__file__).resolve().parents[2] / "actions"


def test_every_sentence_key_an_action_names_exists() -> None:
    source = "\n".join(p.read_text() for p in ACTIONS.glob("*.py"))
    named = set(re.findall(r'(?:say|ask_yes_no)\(\s*dispatcher,\s*"(\w+)"', source))
    named |= set(re.findall(r'(?:unavailable|missing) = "(\w+)"', source))
    named |= {f"{intent}{variant}" for intent in HOURS_INTENTS for variant in ("", "_no_hours", "_hours_unknown")}
    assert len(named) > 40
    assert sorted(named - set(MESSAGES)) == []


def test_sentences_are_well_formed_templates() -> None:
    for key, text in MESSAGES.items():
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
        assert all(re.fullmatch(r"[a-z_]+", name) for name in fields), key
        assert text == text.strip() and "  " not in text, key
