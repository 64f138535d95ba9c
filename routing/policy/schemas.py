"""API shapes of routing decisions and the policy summary."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class DecisionIn(BaseModel):
    """What the bot asks: who, about what, how the conversation went so far."""

    conversation_id: str = Field(min_length=1, max_length=128)
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


class TierSummary(BaseModel):
    name: str
    display_name: str
    threshold: str
    queue: str
    base_priority: int
    first_response_sla_seconds: int
    human_on_first_request: bool
    sensitive_intents: list[str]
    max_bot_failures: int
    proactive_offer: bool


class PolicySummary(BaseModel):
    """The current policy in one page (the full definition is routing/policy.yml)."""

    version: str
    anonymous_tier: str
    tiers: list[TierSummary]
    queues: list[dict[str, Any]]
    fairness: dict[str, Any]
    clv: dict[str, Any]
