"""Queue state: who is online, what waits, positions, estimated waits (from recent handling times)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, ColumnElement, Row, UnaryExpression, and_, case, func, literal, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from clock import utcnow
from routing.agents.models import Agent, AgentQueue
from routing.escalations.models import OPEN_STATUSES, Escalation, Status
from routing.policy.definition import WEEKDAYS, BusinessHours, Policy, QueueDefinition

RECENT_HANDLED = 20
DEFAULT_HANDLE_SECONDS = 300  # assumed handling time until a queue has history


def dispositions(policy: Policy) -> list[str]:
    """Disposition codes an agent may close with (the policy's `dispositions` list)."""
    return list(policy.dispositions)


def next_open_at(hours: BusinessHours, now: datetime) -> datetime | None:
    """When the queue next opens (UTC); None while it is open."""
    if hours.is_open(now):
        return None
    zone = ZoneInfo(hours.timezone)
    local = now.astimezone(zone)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        start = datetime.combine(day, hours.opening_time(), tzinfo=zone)
        if WEEKDAYS[day.weekday()] in hours.days and start > local:
            return start.astimezone(timezone.utc)
    return None


def closes_at(hours: BusinessHours, now: datetime) -> datetime | None:
    """When the open queue next closes (days that run to 24:00 into a day opening at 00:00 chain); None while it
    is closed, or when it never closes."""
    if not hours.is_open(now):
        return None
    zone = ZoneInfo(hours.timezone)
    local = now.astimezone(zone)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        end = (datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone) if hours.close == "24:00"
               else datetime.combine(day, time.fromisoformat(hours.close), tzinfo=zone))
        if end > local and not hours.is_open(end):
            return end.astimezone(timezone.utc)
    return None


@dataclass(frozen=True)
class Availability:
    """Whether a human can be promised now, how long the wait would be, and the queue's opening hours (so that
    every sentence the bot says about hours comes from the policy, with its time zone)."""

    queue: str
    display_name: str
    open: bool
    staffed: bool
    online_agents: int
    waiting: int
    estimated_wait_seconds: int | None
    next_open_at: datetime | None
    closes_at: datetime | None
    hours: BusinessHours
    out_of_hours: str
    now: datetime


def online_capacity(session: Session, queue: str) -> tuple[int, int]:
    """(online agents serving `queue`, their free chat slots)."""
    agents = list(session.scalars(
        select(Agent).join(AgentQueue, AgentQueue.agent_id == Agent.id)
        .where(AgentQueue.queue == queue, Agent.status == "online")))
    if not agents:
        return 0, 0
    loads: dict[int | None, int] = dict(session.execute(
        select(Escalation.agent_id, func.count()).where(
            Escalation.agent_id.in_([a.id for a in agents]), Escalation.status.in_((Status.ASSIGNED, Status.ACTIVE)))
        .group_by(Escalation.agent_id)).tuples().all())
    return len(agents), sum(max(a.max_chats - loads.get(a.id, 0), 0) for a in agents)


def average_handle_seconds(session: Session, queue: str) -> float:
    """Mean assigned→closed time of the queue's last few handled escalations (the default until there are any)."""
    rows = session.execute(
        select(Escalation.assigned_at, Escalation.closed_at).where(
            Escalation.queue == queue, Escalation.status.in_((Status.RESOLVED, Status.RETURNED_TO_BOT)),
            Escalation.assigned_at.is_not(None), Escalation.closed_at.is_not(None))
        .order_by(Escalation.closed_at.desc()).limit(RECENT_HANDLED)).all()
    if not rows:
        return float(DEFAULT_HANDLE_SECONDS)
    return float(sum((c - a).total_seconds() for a, c in rows)) / len(rows)


def effective_priority(esc: Escalation, policy: Policy, now: datetime) -> int:
    """Priority aged by waiting time: +1 per `fairness.aging.seconds_per_point` waited, at most `max_bonus`
    (`effective_priority_sql` is the same rule in SQL)."""
    aging = policy.fairness.aging
    waited = max(int(now.timestamp()) - esc.enqueued_epoch, 0)
    return esc.priority + min(waited // aging.seconds_per_point, aging.max_bonus)


def effective_priority_sql(policy: Policy, now: datetime) -> ColumnElement[int]:
    """SQL for `effective_priority`: priority + whole aging periods waited (capped); integer arithmetic that both
    databases evaluate the same way."""
    aging = policy.fairness.aging
    waited = literal(int(now.timestamp()), BigInteger) - Escalation.enqueued_epoch
    bonus = waited // literal(aging.seconds_per_point, BigInteger)
    return Escalation.priority + case((bonus > aging.max_bonus, aging.max_bonus), else_=bonus)


def claim_order(policy: Policy, now: datetime
                ) -> tuple[UnaryExpression[int], UnaryExpression[datetime | None], InstrumentedAttribute[int]]:
    """The order in which waiting escalations are taken: aged priority, then SLA due time (none last), then
    arrival (the claim query, the queue positions and the queue watcher all use it)."""
    return (effective_priority_sql(policy, now).desc(), Escalation.sla_due_at.asc().nulls_last(), Escalation.id)


def waiting_in_order(session: Session, queue: str, policy: Policy, now: datetime
                     ) -> list[Row[tuple[int, str]]]:
    """(id, conversation_id) of the queue's waiting escalations in claim order (never their packets)."""
    return list(session.execute(
        select(Escalation.id, Escalation.conversation_id)
        .where(Escalation.queue == queue, Escalation.status == Status.WAITING)
        .order_by(*claim_order(policy, now))).all())


def estimate_wait(position: int, online: int, free_slots: int, handle_seconds: float) -> int | None:
    """Seconds until the `position`-th waiting customer is picked up; None when nobody is online."""
    if online == 0:
        return None
    if position <= free_slots:
        return 0
    return int(math.ceil((position - free_slots) / online) * handle_seconds)


def position_of(session: Session, esc: Escalation, policy: Policy, now: datetime | None = None) -> int | None:
    """1-based place of a waiting escalation in its queue (None when it is not waiting): one COUNT of the waiting
    escalations ahead of it in claim order, whatever the length of the line."""
    if esc.status != Status.WAITING:
        return None
    now = now or utcnow()
    mine, priority = effective_priority(esc, policy, now), effective_priority_sql(policy, now)
    if esc.sla_due_at is None:  # no SLA sorts last: every one with an SLA is ahead
        earlier = or_(Escalation.sla_due_at.is_not(None), Escalation.id < esc.id)
    else:
        earlier = or_(Escalation.sla_due_at < esc.sla_due_at,
                      and_(Escalation.sla_due_at == esc.sla_due_at, Escalation.id < esc.id))
    ahead = session.scalar(select(func.count()).select_from(Escalation).where(
        Escalation.queue == esc.queue, Escalation.status == Status.WAITING, Escalation.id != esc.id,
        or_(priority > mine, and_(priority == mine, earlier)))) or 0
    return ahead + 1


def availability(session: Session, queue: QueueDefinition, now: datetime | None = None) -> Availability:
    """Open? staffed? how many wait, and the wait a newcomer can expect."""
    now = now or utcnow()
    online, free = online_capacity(session, queue.name)
    waiting = session.scalar(select(func.count()).select_from(Escalation).where(
        Escalation.queue == queue.name, Escalation.status == Status.WAITING)) or 0
    is_open = queue.business_hours.is_open(now)
    eta = estimate_wait(waiting + 1, online, free, average_handle_seconds(session, queue.name)) if is_open else None
    return Availability(queue=queue.name, display_name=queue.display_name, open=is_open, staffed=online > 0,
                        online_agents=online, waiting=waiting, estimated_wait_seconds=eta,
                        next_open_at=next_open_at(queue.business_hours, now),
                        closes_at=closes_at(queue.business_hours, now), hours=queue.business_hours,
                        out_of_hours=queue.out_of_hours, now=now)


@dataclass
class LiveCounts:
    """A queue's waiting and in-progress (assigned + active) escalations, and when the oldest waiting one came."""

    waiting: int = 0
    in_progress: int = 0
    oldest_waiting_at: datetime | None = None


def live_counts(session: Session, queues: list[str]) -> dict[str, LiveCounts]:
    """Per queue: waiting, assigned+active, and the oldest waiting escalation's creation time."""
    counts = {q: LiveCounts() for q in queues}
    for queue, status, n, oldest in session.execute(
            select(Escalation.queue, Escalation.status, func.count(), func.min(Escalation.created_at))
            .where(Escalation.queue.in_(queues), Escalation.status.in_(OPEN_STATUSES))
            .group_by(Escalation.queue, Escalation.status)).tuples():
        if status == Status.WAITING:
            counts[queue].waiting, counts[queue].oldest_waiting_at = n, oldest
        else:
            counts[queue].in_progress += n
    return counts
