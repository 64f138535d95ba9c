"""API shapes of routing decisions (POST /api/v1/decisions)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from routing.decisions.rules import Decision
from routing.inputs import ConversationId, Facts, InputModel


class DecisionIn(InputModel):
    """What the bot asks: who, about what, how the conversation went so far."""

    conversation_id: ConversationId
    customer_id: int | None = Field(default=None, description="null = anonymous / unverified, routed as bronze")
    intent: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_]+$")
    bot_failures: int = Field(default=0, ge=0)
    human_requests: int = Field(default=0, ge=0)
    facts: Facts = Field(default_factory=Facts)


@dataclass(frozen=True)
class DecisionOut(Decision):
    """The policy's decision and the id of its audit record."""

    decision_id: int
