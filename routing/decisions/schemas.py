"""API shapes of routing decisions (POST /api/v1/decisions)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from routing.inputs import ConversationId, InputModel


class DecisionIn(InputModel):
    """What the bot asks: who, about what, how the conversation went so far."""

    conversation_id: ConversationId
    customer_id: int | None = Field(default=None, description="null = anonymous / unverified, routed as bronze")
    intent: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_]+$")
    bot_failures: int = Field(default=0, ge=0)
    human_requests: int = Field(default=0, ge=0)
    facts: dict[str, Any] = Field(default_factory=dict)


class DecisionOut(BaseModel):
    decision: Literal["self_service", "escalate"]
    queue: str | None
    priority: int
    sla_seconds: int | None
    reason: str
    rule: str
    tier: str
    offer_human: bool
    decision_id: int
