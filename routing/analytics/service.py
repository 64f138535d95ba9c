"""Operations figures from the routing database: the decisions (every policy-relevant bot turn, so bot-only
conversations too), the escalations with their audit events and messages, and the CSAT ratings. Each request reads
only the rows of its date range (indexed by created_at), never the Rasa tracker store."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, load_only

from routing.agents.models import Agent
from routing.analytics.kpis import (
    DIMENSIONS,
    RECONTACT_WINDOW,
    SESSION_GAP,
    Contact,
    DecisionRecord,
    EscalationRecord,
    build_contacts,
    figures,
    grouped,
)
from routing.analytics.models import CsatRating
from routing.decisions.models import RoutingDecision
from routing.escalations.models import Escalation, EscalationEvent, Kind, Message, Status

HELD = (Status.ASSIGNED, Status.ACTIVE)
AGENT_CLOSED = (Status.RESOLVED, Status.RETURNED_TO_BOT)
LEFT_LIVE_QUEUE = (Status.EXPIRED, Status.CALLBACK_REQUESTED, Status.TICKET, Status.ABANDONED)
# the escalation columns `_record` reads
RECORD_COLUMNS = (Escalation.id, Escalation.conversation_id, Escalation.customer_id, Escalation.tier, Escalation.queue,
                  Escalation.intent, Escalation.status, Escalation.created_at, Escalation.closed_at,
                  Escalation.updated_at, Escalation.sla_seconds)


def time_held(events: Iterable[EscalationEvent]) -> tuple[float, bool]:
    """Seconds agents held an escalation (assigned or active: its handle time), and whether one still holds it.
    The operations report and the capacity planner both measure handle time this way."""
    held, since = 0.0, None
    for e in events:
        if e.to_status in HELD and since is None:
            since = e.at
        elif e.to_status not in HELD and since is not None:
            held += (e.at - since).total_seconds()
            since = None
    return held, since is not None


@dataclass(frozen=True)
class Filters:
    """Restrict the figures to one tier / queue / agent (login) / intent; None means all."""

    tier: str | None = None
    queue: str | None = None
    agent: str | None = None
    intent: str | None = None

    def items(self) -> list[tuple[str, str]]:
        return [(k, v) for k, v in (("tier", self.tier), ("queue", self.queue), ("agent", self.agent),
                                    ("intent", self.intent)) if v is not None]


DEFAULT_DAYS = 28  # the window the dashboard and `report ops` show when no dates are given


def day_range(since: date, until: date) -> tuple[datetime, datetime]:
    """[since 00:00 UTC, until 24:00 UTC): both days included."""
    start = datetime(since.year, since.month, since.day, tzinfo=timezone.utc)
    return start, datetime(until.year, until.month, until.day, tzinfo=timezone.utc) + timedelta(days=1)


def _escalation_records(session: Session, start: datetime, end: datetime) -> list[EscalationRecord]:
    window = (Escalation.created_at >= start, Escalation.created_at < end)
    rows = session.execute(select(Escalation, Agent.login).outerjoin(Agent, Agent.id == Escalation.agent_id)
                           .options(load_only(*RECORD_COLUMNS))  # never the transcripts, facts and summaries
                           .where(*window).order_by(Escalation.id)).all()
    events: dict[int, list[EscalationEvent]] = {}
    for event in session.scalars(
            select(EscalationEvent).join(Escalation, Escalation.id == EscalationEvent.escalation_id).where(*window)
            .order_by(EscalationEvent.escalation_id, EscalationEvent.at, EscalationEvent.id)):
        events.setdefault(event.escalation_id, []).append(event)
    first_reply = dict(session.execute(
        select(Message.escalation_id, func.min(Message.created_at))
        .join(Escalation, Escalation.id == Message.escalation_id)
        .where(*window, Message.sender == "agent").group_by(Message.escalation_id)).tuples().all())
    ratings = dict(session.execute(
        select(CsatRating.escalation_id, CsatRating.rating).join(Escalation, Escalation.id == CsatRating.escalation_id)
        .where(*window)).tuples().all())
    return [_record(esc, login, events.get(esc.id, []), first_reply.get(esc.id), ratings.get(esc.id))
            for esc, login in rows]


def _aware(value: datetime | None) -> datetime | None:
    """min() over a UTCDateTime column comes back without the column type: naive on SQLite."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _record(esc: Escalation, login: str | None, events: Sequence[EscalationEvent], first_reply: datetime | None,
            rating: int | None) -> EscalationRecord:
    """Reduce an escalation and its audit trail to the facts the figures count."""
    first_reply = _aware(first_reply)
    created = next((e for e in events if e.kind == Kind.CREATED), None)
    offered_live = (created.to_status if created else esc.status) not in (Status.CALLBACK_REQUESTED, Status.TICKET)
    left_at = next((e.at for e in events if e.to_status in LEFT_LIVE_QUEUE), None)
    answered_at = first_reply if offered_live and first_reply and (left_at is None or first_reply <= left_at) else None
    abandoned = any(e.to_status == Status.ABANDONED and e.from_status == Status.WAITING for e in events) and (
        first_reply is None or (left_at is not None and left_at < first_reply))
    held, still_held = time_held(events)
    requested_at = next((e.at for e in events if e.to_status == Status.CALLBACK_REQUESTED), None)
    if requested_at is None and created is None and esc.status == Status.CALLBACK_REQUESTED:
        requested_at = esc.created_at
    return EscalationRecord(
        id=esc.id, conversation_id=esc.conversation_id, customer_id=esc.customer_id, tier=esc.tier,
        queue=esc.queue, intent=esc.intent, agent=login, status=esc.status, created_at=esc.created_at,
        ended_at=esc.closed_at or esc.updated_at, sla_seconds=esc.sla_seconds, offered_live=offered_live,
        answered_at=answered_at, abandoned_in_queue=offered_live and abandoned,
        expired=any(e.to_status == Status.EXPIRED for e in events),
        handle_seconds=held if esc.status in AGENT_CLOSED and not still_held and held > 0 else None,
        callback_requested=requested_at is not None,
        callback_completed=requested_at is not None and esc.status in AGENT_CLOSED, csat=rating)


def _decision_records(session: Session, start: datetime, end: datetime) -> list[DecisionRecord]:
    rows = session.execute(select(RoutingDecision.conversation_id, RoutingDecision.customer_id, RoutingDecision.tier,
                                  RoutingDecision.intent, RoutingDecision.created_at)
                           .where(RoutingDecision.created_at >= start, RoutingDecision.created_at < end)
                           .order_by(RoutingDecision.id)).tuples().all()
    return [DecisionRecord(c, cu, t, i, at) for c, cu, t, i, at in rows]


def contacts_between(session: Session, start: datetime, end: datetime, filters: Filters = Filters()
                     ) -> list[Contact]:
    """The contacts that started in [start, end), matching `filters`. Rows a little before and up to a day after
    are read too, so that contacts are whole and their re-contacts are seen."""
    lo, hi = start - SESSION_GAP, end + RECONTACT_WINDOW + SESSION_GAP
    contacts = build_contacts(_decision_records(session, lo, hi), _escalation_records(session, lo, hi))
    chosen = [c for c in contacts if start <= c.start < end]
    for dimension, value in filters.items():
        of_contact, of_escalation = DIMENSIONS[dimension]
        chosen = [c for c in chosen if value in of_contact(c)]
        for c in chosen:
            c.escalations = [e for e in c.escalations if of_escalation(e) == value]
    return chosen


def operations_figures(session: Session, start: datetime, end: datetime, filters: Filters = Filters(),
                       threshold_seconds: int = 20) -> dict[str, Any]:
    """Every KPI overall, per tier / queue / agent / intent, and per day and tier, for contacts in [start, end)."""
    contacts = contacts_between(session, start, end, filters)
    escalations = [e for c in contacts for e in c.escalations]
    by_day: dict[str, list[Contact]] = {}
    for c in contacts:  # one pass, not one per day (the dashboard asks for weeks at a time)
        by_day.setdefault(c.start.date().isoformat(), []).append(c)
    days: dict[str, dict[str, dict[str, Any]]] = {
        day: grouped(of_day, [e for c in of_day for e in c.escalations], "tier", threshold_seconds)
        for day, of_day in sorted(by_day.items())}
    return {
        "since": start.isoformat(), "until": end.isoformat(),
        "filters": dict(filters.items()),
        "overall": figures(contacts, escalations, threshold_seconds),
        **{f"by_{d}": grouped(contacts, escalations, d, threshold_seconds) for d in DIMENSIONS},
        "daily_by_tier": days,
    }
