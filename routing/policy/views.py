"""The current policy summary."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from routing.auth import require_service_token
from routing.policy import service
from routing.policy.deps import PolicyDep
from routing.policy.schemas import PolicySummary

router = APIRouter(prefix="/api/v1", tags=["policy"], dependencies=[Depends(require_service_token)])


@router.get("/policy", response_model=PolicySummary)
def policy_summary(policy: PolicyDep) -> PolicySummary:
    """The policy in force (version, tiers and their rules, queues with hours, fairness)."""
    return service.summarize(policy)
