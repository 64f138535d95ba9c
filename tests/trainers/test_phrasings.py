"""scripts/phrasings.py: the generated NLU examples are up to date, complete, and apart from the challenge set."""

from __future__ import annotations

import csv
import importlib.util
import re
import shutil
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("phrasings", ROOT / "scripts" / "phrasings.py")
assert _spec and _spec.loader
phrasings = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(phrasings)


def _generated() -> dict[str, list[str]]:
    data = yaml.safe_load((ROOT / phrasings.TARGET).read_text(encoding="utf-8"))
    return {block["intent"]: [line[2:] for line in block["examples"].splitlines()] for block in data["nlu"]}


def test_the_committed_file_is_what_the_grammar_generates() -> None:
    assert phrasings.problems(ROOT) == []


def test_an_edited_grammar_makes_the_file_out_of_date(tmp_path: Path) -> None:
    (tmp_path / "data" / "nlu").mkdir(parents=True)
    shutil.copy(ROOT / phrasings.GRAMMAR, tmp_path / phrasings.GRAMMAR)
    shutil.copy(ROOT / phrasings.TARGET, tmp_path / phrasings.TARGET)
    grammar = yaml.safe_load((tmp_path / phrasings.GRAMMAR).read_text(encoding="utf-8"))
    grammar["intents"]["review"]["say"].append("I have an opinion about the lamp")
    (tmp_path / phrasings.GRAMMAR).write_text(yaml.safe_dump(grammar, sort_keys=False), encoding="utf-8")

    assert phrasings.problems(tmp_path) == [f"{phrasings.TARGET} is out of date with {phrasings.GRAMMAR}: "
                                            "run `make phrasings`"]
    (tmp_path / phrasings.TARGET).write_text(phrasings.render(tmp_path), encoding="utf-8")
    assert phrasings.problems(tmp_path) == []
    assert "the lamp" in (tmp_path / phrasings.TARGET).read_text(encoding="utf-8").lower()


@pytest.mark.parametrize(("action", "expected"), [
    ("cancel my order", "cancelling my order"),
    ("change the address", "changing the address"),
    ("get a refund", "getting a refund"),
    ("see my invoice", "seeing my invoice"),
    ("track my refund", "tracking my refund"),
    ("reset my password", "resetting my password"),
    ("sign up", "signing up"),
])
def test_gerund(action: str, expected: str) -> None:
    assert phrasings.gerund(action) == expected


def test_every_intent_gets_its_examples_with_every_value_filled() -> None:
    grammar = yaml.safe_load((ROOT / phrasings.GRAMMAR).read_text(encoding="utf-8"))
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    generated = _generated()

    assert set(generated) == set(grammar["intents"]) and set(generated) <= set(domain["intents"])
    for intent, texts in generated.items():
        wanted = min(int(grammar["intents"][intent].get("count", phrasings.PER_INTENT)),
                     len(phrasings.candidates(grammar, intent)))
        assert len(texts) >= wanted * 0.9, intent
        assert not [t for t in texts if re.search(r"<\w+>|\{\w+\}", t)], intent
    frames = [f.split("{")[0].strip().lower() for f in grammar["frames"]["do"] if not f.startswith("{")]
    used = {frame for frame in frames for texts in generated.values() for t in texts if t.lower().startswith(frame)}
    assert len(used) >= len(set(frames)) * 0.9


def test_no_generated_example_is_a_challenge_set_line() -> None:
    """The challenge set measures generalisation only while nothing trained on repeats it."""
    with (ROOT / "tests" / "nlu" / "challenge.csv").open(encoding="utf-8", newline="") as handle:
        challenge = {phrasings.plain(row["text"]) for row in csv.DictReader(handle)}
    assert phrasings.unseen_lines(ROOT) == challenge and len(challenge) > 600
    generated = {phrasings.plain(text) for texts in _generated().values() for text in texts}

    assert sorted(challenge & generated) == []
