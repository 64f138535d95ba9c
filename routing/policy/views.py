"""Routing-decision endpoint (audited) and the current policy summary."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status

from routing.db import SessionDep
from routing.auth import require_service_token
from routing.policy import service
from routing.policy.deps import get_policy
from routing.policy.schema import Policy
from routing.policy.schemas import DecisionIn, DecisionOut, PolicySummary

router = APIRouter(prefix="/api/v1", tags=["policy"], dependencies=[Depends(require_service_token)])
PolicyDep = Annotated[Policy, Depends(get_policy)]


@router.post("/decisions", response_model=DecisionOut)
def decide(body: DecisionIn, session: SessionDep, policy: PolicyDep) -> DecisionOut:
    """Self-service or escalate (queue, priority, SLA, reason, rule); every decision is stored for audit."""
    try:
        record, decision = service.make_decision(session, policy, body)
    except service.UnknownCustomer as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{
            "loc": ["body", "customer_id"], "type": "value_error", "msg": "unknown customer"}]) from exc
    return DecisionOut(decision=decision.decision, queue=decision.queue, priority=decision.priority,
                       sla_seconds=decision.sla_seconds, reason=decision.reason, rule=decision.rule,
                       tier=decision.tier, offer_human=decision.offer_human, decision_id=record.id)


@router.get("/policy", response_model=PolicySummary)
def policy_summary(policy: PolicyDep) -> PolicySummary:
    """The policy in force (version, tiers and their rules, queues with hours, fairness)."""
    return service.summarize(policy)
