"""API shape of the policy summary (GET /api/v1/policy)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


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
