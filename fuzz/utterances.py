"""What the fuzzer's customers say: the project's NLU examples and its challenge set by intent, plus order details,
addresses and noise. The challenge set is never trained on, so the fuzzer also meets phrasings the model gets wrong:
the invariants must hold whatever the NLU understood."""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path

import yaml

ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]*\)")  # "[C-100042](order_number)" -> "C-100042"
# examples that carry order details are written from the customer's own order instead
ENTITY_INTENTS = ("inform",)
ADDRESSES = (
    "12 Baker Street, London NW1 6XE",
    "Flat 3, 27 Market Lane, Leeds LS1 4AP",
    "1600 Pennsylvania Avenue NW, Washington, DC 20500",
    "Hauptstrasse 5, 10115 Berlin",
)
NOISE = ("asdf qwer", "hmm", "???", "lorem ipsum dolor", "blue banana sky", "kjhkjh", "...", "ok so")
# values typed wrong for the order check's questions (each slot's own correction is expected when it was asked)
BAD_ORDER_NUMBERS = ("order 42", "42", "C-42", "my order number is 12345", "it's c-10004", "#4411", "order no 7",
                     "c 1000")
BAD_EMAILS = ("anna at example dot com", "my email is jo.k@", "anna.berg@example", "it's gmail.com",
              "paul dot hill at example dot com", "12345")
# short follow-ups about the order in question, as customers send them while the bot waits for something
FOLLOW_UPS = ("so where is it", "no wait, where is it actually?", "and the refund?", "and the bill?",
              "so when does it come", "ok but where is it", "what about the invoice", "hm so where is it now",
              "so where's it at", "where is the thing")


def load_examples(root: Path) -> dict[str, list[str]]:
    """Every intent's examples from data/nlu/*.yml (entity annotations reduced to their text) and from the challenge
    set (tests/nlu/challenge.csv)."""
    examples: dict[str, list[str]] = {}
    for path in sorted((root / "data" / "nlu").glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if "intent" not in block:
                continue
            lines = [line[2:].strip() for line in str(block.get("examples", "")).splitlines() if line.startswith("- ")]
            examples.setdefault(block["intent"], []).extend(ANNOTATION.sub(r"\1", line) for line in lines)
    with (root / "tests" / "nlu" / "challenge.csv").open(encoding="utf-8", newline="") as challenge:
        for row in csv.DictReader(challenge):
            examples.setdefault(row["intent"], []).append(row["text"])
    return examples


def order_number_text(rng: random.Random, number: str) -> str:
    return rng.choice(("{}", "it's {}", "order number {}", "my order is {}")).format(number)


def email_text(rng: random.Random, email: str) -> str:
    return rng.choice(("{}", "my email is {}", "it's {}")).format(email)
