"""Plays conversations against a running stack over Rasa's REST channel, checks them and shrinks the failures."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from fuzz.invariants import TurnRecord, Violation, check
from fuzz.plan import Customer, Turn
from launcher.settings import StackSettings

TIMEOUT = httpx.Timeout(60.0, connect=5.0)
MAX_SHRINK_REPLAYS = 40


@dataclass
class Played:
    """A conversation as played: its customer, messages, what the bot did, and the invariants it broke."""

    customer: Customer
    turns: list[Turn]
    records: list[TurnRecord]
    violations: list[Violation]
    replies: list[list[str]]


class Player:
    """Talks to one stack; signed-in customers carry the shop's token in the message metadata."""

    def __init__(self, stack: StackSettings, client: httpx.AsyncClient, routine_intents: set[str],
                 messages: dict[str, str] | None = None) -> None:
        self.stack = stack
        self.client = client
        self.routine_intents = routine_intents
        self.messages = messages or {}
        self._tokens: dict[str, str] = {}

    async def token(self, external_id: str) -> str:
        """A token as the shop would sign it (the development-only demo-token endpoint)."""
        if external_id not in self._tokens:
            response = await self.client.post(
                f"{self.stack.routing_url}/api/v1/identity/demo-token", json={"external_id": external_id},
                headers={"Authorization": f"Bearer {self.stack.service_token}"})
            response.raise_for_status()
            self._tokens[external_id] = str(response.json()["token"])
        return self._tokens[external_id]

    async def play(self, customer: Customer, turns: Sequence[Turn], prefix: str = "fuzz") -> Played:
        sender = f"{prefix}-{uuid.uuid4().hex[:10]}"
        metadata = {} if customer.kind == "guest" else {"customer_token": await self.token(customer.kind)}
        replies: list[list[str]] = []
        for turn in turns:
            response = await self.client.post(f"{self.stack.rasa_url}/webhooks/rest/webhook",
                                              json={"sender": sender, "message": turn.text, "metadata": metadata})
            response.raise_for_status()
            replies.append([str(m.get("text") or m.get("custom") or m.get("image") or "") for m in response.json()])
        tracker = await self.client.get(f"{self.stack.rasa_url}/conversations/{sender}/tracker",
                                        params={"token": self.stack.rasa_token, "include_events": "ALL"})
        tracker.raise_for_status()
        events: list[dict[str, Any]] = tracker.json()["events"]
        records, violations = check(events, self.routine_intents, [turn.move for turn in turns], self.messages)
        return Played(customer, list(turns), records, violations, replies)

    async def shrink(self, played: Played) -> Played:
        """The shortest conversation found (dropping one message at a time) that still breaks the first invariant."""
        kind = played.violations[0].kind
        best = played
        replays = 0
        changed = True
        while changed and replays < MAX_SHRINK_REPLAYS:
            changed = False
            for index in range(len(best.turns)):
                if len(best.turns) == 1 or replays >= MAX_SHRINK_REPLAYS:
                    break
                candidate = best.turns[:index] + best.turns[index + 1:]
                replays += 1
                attempt = await self.play(best.customer, candidate, prefix="fuzz-shrink")
                if any(v.kind == kind for v in attempt.violations):
                    best = attempt
                    changed = True
                    break
        return best


async def play_all(player: Player, plans: list[tuple[Customer, list[Turn]]], concurrency: int) -> list[Played]:
    """Every planned conversation, `concurrency` at a time, in plan order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(customer: Customer, turns: list[Turn]) -> Played:
        async with gate:
            return await player.play(customer, turns)

    return list(await asyncio.gather(*(one(c, t) for c, t in plans)))
