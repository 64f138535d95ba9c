"""The escalation lifecycle: which status may follow which, and the audit event written for every step."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from routing.errors import Conflict
from routing.escalations.models import Escalation, EscalationEvent

# waiting → assigned → active → resolved | returned_to_bot | abandoned | expired (plus transfer back to waiting,
# and the offline alternatives callback_requested / ticket that an agent can pick up later).
TRANSITIONS: dict[str, frozenset[str]] = {
    "waiting": frozenset({"waiting", "assigned", "expired", "abandoned", "callback_requested"}),
    "assigned": frozenset({"active", "waiting", "resolved", "returned_to_bot", "abandoned"}),
    "active": frozenset({"waiting", "resolved", "returned_to_bot", "abandoned"}),
    "callback_requested": frozenset({"callback_requested", "assigned", "abandoned"}),
    "ticket": frozenset({"callback_requested", "assigned", "abandoned"}),
    "expired": frozenset({"callback_requested"}),
    "resolved": frozenset(),
    "returned_to_bot": frozenset(),
    "abandoned": frozenset(),
}


class InvalidTransition(Conflict):
    """The requested step is not allowed from the escalation's current status."""


def record(session: Session, escalation: Escalation, kind: str, actor: str, reason: str = "",
           agent_id: int | None = None, now: datetime | None = None) -> EscalationEvent:
    """Write an audit event that does not change the status (created, message, note...)."""
    event = EscalationEvent(escalation_id=escalation.id, kind=kind, from_status=escalation.status,
                            to_status=escalation.status, actor=actor, reason=reason, agent_id=agent_id)
    if now is not None:
        event.at = now
    session.add(event)
    return event


def transition(session: Session, escalation: Escalation, to_status: str, kind: str, actor: str, now: datetime,
               reason: str = "", agent_id: int | None = None) -> EscalationEvent:
    """Move `escalation` to `to_status`, stamping the step's timestamp and writing who did it and why."""
    if to_status not in TRANSITIONS[escalation.status]:
        raise InvalidTransition(f"cannot go from {escalation.status} to {to_status}")
    event = EscalationEvent(escalation_id=escalation.id, kind=kind, from_status=escalation.status,
                            to_status=to_status, actor=actor, reason=reason, agent_id=agent_id, at=now)
    escalation.status = to_status
    escalation.updated_at = now
    if to_status == "assigned":
        escalation.assigned_at = now
    elif to_status == "active":
        escalation.active_at = now
    elif to_status in ("resolved", "returned_to_bot", "abandoned", "expired"):
        escalation.closed_at = now
    session.add(event)
    return event
