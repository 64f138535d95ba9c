"""The escalation lifecycle: which status may follow which, and the audit event written for every step."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from routing.errors import Conflict
from routing.escalations.models import Escalation, EscalationEvent, Status

# waiting → assigned → active → resolved | returned_to_bot | abandoned | expired (plus transfer back to waiting,
# and the offline alternatives callback_requested / ticket that an agent can pick up later).
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.WAITING: frozenset({Status.WAITING, Status.ASSIGNED, Status.EXPIRED, Status.ABANDONED,
                               Status.CALLBACK_REQUESTED}),
    Status.ASSIGNED: frozenset({Status.ACTIVE, Status.WAITING, Status.RESOLVED, Status.RETURNED_TO_BOT,
                                Status.ABANDONED}),
    Status.ACTIVE: frozenset({Status.WAITING, Status.RESOLVED, Status.RETURNED_TO_BOT, Status.ABANDONED}),
    Status.CALLBACK_REQUESTED: frozenset({Status.CALLBACK_REQUESTED, Status.ASSIGNED, Status.ABANDONED}),
    Status.TICKET: frozenset({Status.CALLBACK_REQUESTED, Status.ASSIGNED, Status.ABANDONED}),
    Status.EXPIRED: frozenset({Status.CALLBACK_REQUESTED}),
    Status.RESOLVED: frozenset(),
    Status.RETURNED_TO_BOT: frozenset(),
    Status.ABANDONED: frozenset(),
}


class InvalidTransition(Conflict):
    """The requested step is not allowed from the escalation's current status."""


class ChangedMeanwhile(InvalidTransition):
    """Someone else changed the escalation between our read and our write (the loser of a race)."""


def record(session: Session, escalation: Escalation, kind: str, actor: str, reason: str = "",
           agent_id: int | None = None, now: datetime | None = None) -> EscalationEvent:
    """Write an audit event that does not change the status (created, message, note...)."""
    event = EscalationEvent(escalation_id=escalation.id, kind=kind, from_status=escalation.status,
                            to_status=escalation.status, actor=actor, reason=reason, agent_id=agent_id)
    if now is not None:
        event.at = now
    session.add(event)
    return event


def current_status(session: Session, escalation_id: int) -> str | None:
    """The escalation's status as committed now (not as this session read it)."""
    return session.scalar(select(Escalation.status).where(Escalation.id == escalation_id))


def transition(session: Session, escalation: Escalation, to_status: str, kind: str, actor: str, now: datetime,
               reason: str = "", agent_id: int | None = None, changes: dict[str, Any] | None = None
               ) -> EscalationEvent:
    """Move `escalation` to `to_status` (with the other column `changes` of the step), stamping the step's timestamp
    and writing who did it and why.

    A compare-and-set: one `UPDATE ... WHERE id = :id AND status = :read AND version = :read` whose row count is
    checked, the same on SQLite and PostgreSQL, so two steps racing from the same state never both apply (a claim
    and a callback, an expiry and a claim, a transfer and a resolve): the loser gets ChangedMeanwhile (409) and has
    written nothing."""
    if to_status not in TRANSITIONS[escalation.status]:
        raise InvalidTransition(f"cannot go from {escalation.status} to {to_status}")
    values: dict[str, Any] = {**(changes or {}), "status": to_status, "updated_at": now,
                              "version": escalation.version + 1}
    if to_status == Status.ASSIGNED:
        values["assigned_at"] = now
    elif to_status == Status.ACTIVE:
        values["active_at"] = now
    elif to_status in (Status.RESOLVED, Status.RETURNED_TO_BOT, Status.ABANDONED, Status.EXPIRED):
        values["closed_at"] = now
    written = session.execute(
        update(Escalation).where(Escalation.id == escalation.id, Escalation.status == escalation.status,
                                 Escalation.version == escalation.version)
        .values(**values).execution_options(synchronize_session=False))
    if cast("CursorResult[Any]", written).rowcount != 1:
        now_status = current_status(session, escalation.id)
        raise ChangedMeanwhile(f"this escalation changed meanwhile (it is {now_status or 'gone'} now, "
                               f"no longer {escalation.status}); reload it")
    event = EscalationEvent(escalation_id=escalation.id, kind=kind, from_status=escalation.status,
                            to_status=to_status, actor=actor, reason=reason, agent_id=agent_id, at=now)
    for key, value in values.items():  # the object now matches the row, with nothing left to flush
        set_committed_value(escalation, key, value)
    session.add(event)
    return event


def hold(session: Session, escalation: Escalation, statuses: Collection[str], agent_id: int | None = None) -> None:
    """Check that the escalation is still in one of `statuses` (and handled by `agent_id`, when given) and keep it
    so until the caller commits (a row lock on PostgreSQL, the write lock on SQLite), without a version change: for
    steps that add to an escalation without moving it (messages), so that none lands after it was closed or
    handed on. ChangedMeanwhile (409) otherwise."""
    query = update(Escalation).where(Escalation.id == escalation.id, Escalation.status.in_(list(statuses)))
    if agent_id is not None:
        query = query.where(Escalation.agent_id == agent_id)
    held = session.execute(query.values(updated_at=Escalation.updated_at)
                           .execution_options(synchronize_session=False))
    if cast("CursorResult[Any]", held).rowcount != 1:
        now_status = current_status(session, escalation.id)
        raise ChangedMeanwhile(f"this escalation is {now_status or 'gone'} now; reload it")
