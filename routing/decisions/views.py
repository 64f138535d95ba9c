"""Routing-decision endpoint: every decision is stored for audit."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Depends

from routing.auth import require_service_token
from routing.db import SessionDep
from routing.decisions import service
from routing.decisions.schemas import DecisionIn, DecisionOut
from routing.policy.deps import PolicyDep

router = APIRouter(prefix="/api/v1", tags=["decisions"], dependencies=[Depends(require_service_token)])


@router.post("/decisions", response_model=DecisionOut)
def decide(body: DecisionIn, session: SessionDep, policy: PolicyDep) -> DecisionOut:
    """Self-service or escalate (queue, priority, SLA, reason, rule); every decision is stored for audit."""
    record, decision = service.make_decision(session, policy, body)
    return DecisionOut(**asdict(decision), decision_id=record.id)
