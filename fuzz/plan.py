"""Random conversations, biased toward what breaks dialogues: changing the subject inside a task, a yes or no at
the wrong moment, asking for a person, messages the bot cannot understand, starting over, and what is only
understood in the light of the bot's question: a value typed wrong, a short follow-up about the order."""

from __future__ import annotations

import random
from dataclasses import dataclass

from fuzz.utterances import ADDRESSES, BAD_EMAILS, BAD_ORDER_NUMBERS, FOLLOW_UPS, NOISE, email_text, order_number_text
from scripts.digressions import Topics

# what a turn does, with its weight once a conversation is under way
MOVES: dict[str, int] = {
    "order_number": 14, "email": 12, "wrong_email": 3, "task": 14, "answer": 14, "routed": 5, "affirm": 8,
    "deny": 6, "address": 6, "noise": 5, "out_of_scope": 3, "thanks": 3, "goodbye": 2, "restart": 2, "greet": 2,
    "bad_order_number": 4, "bad_email": 3, "follow_up": 6,
}
# moves whose message is one of a fixed list (fuzz/utterances.py)
FIXED_TEXTS = {"address": ADDRESSES, "noise": NOISE, "bad_order_number": BAD_ORDER_NUMBERS, "bad_email": BAD_EMAILS,
               "follow_up": FOLLOW_UPS}
OPENERS = ("task", "task", "task", "answer", "greet", "routed")
PLAIN_INTENTS = ("affirm", "deny", "out_of_scope", "thanks", "goodbye", "restart", "greet")


@dataclass(frozen=True)
class Customer:
    """Who is chatting: a guest who knows one order and its email, or a signed-in demo account."""

    kind: str  # "guest" or a demo account's external id ("demo-gold", ...)
    order_number: str
    email: str


@dataclass(frozen=True)
class Turn:
    """One customer message and what the fuzzer meant by it (for the written story)."""

    move: str
    text: str


def _say(rng: random.Random, examples: dict[str, list[str]], intent: str) -> str:
    return rng.choice(examples[intent])


def make_turn(rng: random.Random, move: str, customer: Customer, topics: Topics,
              examples: dict[str, list[str]]) -> Turn:
    """A message for `move`, drawn from the NLU examples or the customer's own order."""
    if move == "order_number":
        return Turn(move, order_number_text(rng, customer.order_number))
    if move in ("email", "wrong_email"):
        email = customer.email if move == "email" else f"someone.else{rng.randint(1, 99)}@example.com"
        return Turn(move, email_text(rng, email))
    if move in FIXED_TEXTS:
        return Turn(move, rng.choice(FIXED_TEXTS[move]))
    pool = {"task": topics.order_tasks, "answer": sorted(topics.answers), "routed": topics.routed}.get(move)
    intent = rng.choice(pool) if pool else move
    if intent not in examples:
        intent = rng.choice(PLAIN_INTENTS[:2])
    return Turn(f"{move}:{intent}" if pool else move, _say(rng, examples, intent))


def conversation(rng: random.Random, customer: Customer, topics: Topics,
                 examples: dict[str, list[str]]) -> list[Turn]:
    """3 to 10 turns: an opener, then weighted moves."""
    length = rng.randint(3, 10)
    moves = [rng.choice(OPENERS)] + rng.choices(list(MOVES), weights=list(MOVES.values()), k=length - 1)
    return [make_turn(rng, move, customer, topics, examples) for move in moves]
