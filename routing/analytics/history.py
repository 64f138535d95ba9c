"""Write past conversations straight into the routing database (decisions, escalations with their audit events and
messages, CSAT): the rows the live service would have written. Used by `demo simulate` and by the tests of the
figures, which need a history whose every instant they choose."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from routing.analytics.models import CsatRating
from routing.decisions.models import RoutingDecision
from routing.escalations.models import Escalation, EscalationEvent, Kind, Message, Status


@dataclass(frozen=True)
class Step:
    """`seconds` after the escalation was created it moved to `status` (kind as the service names it); `agent_id`
    for claims, replies and closes. Kind "reply" (status Status.ACTIVE) writes an agent's message; the first one makes
    an assigned escalation active, as add_agent_message does."""

    seconds: float
    status: str
    kind: str
    agent_id: int | None = None


def decision(session: Session, conversation_id: str, at: datetime, tier: str, intent: str,
             outcome: str = "self_service", customer_id: int | None = None, queue: str | None = None) -> None:
    """A routing decision as POST /api/v1/decisions stores it."""
    session.add(RoutingDecision(
        created_at=at, conversation_id=conversation_id, customer_id=customer_id, intent=intent, bot_failures=0,
        human_requests=0, facts={}, decision=outcome, queue=queue, priority=0, sla_seconds=None,
        reason="history", rule="history", tier=tier, offer_human=False, policy_version="history"))


def escalation(session: Session, conversation_id: str, at: datetime, tier: str, queue: str, intent: str,
               sla_seconds: int | None, steps: list[Step], first_status: str = Status.WAITING,
               customer_id: int | None = None, csat: int | None = None, comment: str | None = None) -> Escalation:
    """An escalation created at `at` in `first_status`, then moved through `steps`, with its events and messages."""
    esc = Escalation(
        conversation_id=conversation_id, idempotency_key=f"history-{conversation_id}-{at.timestamp()}",
        customer_id=customer_id, tier=tier, queue=queue, priority=0, enqueued_epoch=int(at.timestamp()),
        sla_seconds=sla_seconds, sla_due_at=at + timedelta(seconds=sla_seconds) if sla_seconds else None,
        intent=intent, status=first_status, created_at=at, updated_at=at)
    session.add(esc)
    session.flush()
    session.add(EscalationEvent(escalation_id=esc.id, at=at, kind=Kind.CREATED, from_status=first_status,
                                to_status=first_status, actor="bot"))
    for step in steps:
        when = at + timedelta(seconds=step.seconds)
        if step.kind == "reply":
            session.add(Message(escalation_id=esc.id, sender="agent", agent_id=step.agent_id, text="…",
                                created_at=when))
            if esc.status != Status.ASSIGNED:
                continue
        kind = Kind.FIRST_REPLY if step.kind == "reply" else step.kind
        session.add(EscalationEvent(escalation_id=esc.id, at=when, kind=kind, from_status=esc.status,
                                    to_status=step.status, actor="history", agent_id=step.agent_id))
        esc.status, esc.updated_at = step.status, when
        if step.status == Status.ASSIGNED:
            esc.assigned_at, esc.agent_id = when, step.agent_id
        elif step.status == Status.ACTIVE:
            esc.active_at = when
        elif step.status in (Status.RESOLVED, Status.RETURNED_TO_BOT, Status.ABANDONED, Status.EXPIRED):
            esc.closed_at = when
    if csat is not None:
        session.add(CsatRating(escalation_id=esc.id, conversation_id=conversation_id, rating=csat, comment=comment,
                               created_at=esc.updated_at))
    session.flush()
    return esc
