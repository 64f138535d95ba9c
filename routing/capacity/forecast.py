"""What the planner learns from a queue's recent history: arrivals per weekday and hour (the forecast is their
seasonal average: the mean over the last N weeks of the same weekday and hour, in the queue's time zone), the
average handle time and the customers' patience.

Patience is estimated as (total time contacts spent waiting in the live queue) / (contacts who abandoned): the
maximum-likelihood estimate of an exponential patience when the waits of the answered and expired contacts are
censored (Brown et al., "Statistical analysis of a telephone call center", JASA 100, 2005, section 6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, load_only

from routing.analytics.service import AGENT_CLOSED, RECORD_COLUMNS, time_held
from routing.escalations.models import Escalation, EscalationEvent, Kind, Status
from routing.policy.definition import Policy

NOT_LIVE = (Status.CALLBACK_REQUESTED, Status.TICKET)  # created out of hours: never offered to a live queue


@dataclass
class QueueHistory:
    """One queue's history over the window, by (weekday 0 = Monday, hour 0-23) of its time zone."""

    queue: str
    arrivals: dict[tuple[int, int], int] = field(default_factory=dict)  # offered to the live queue
    occurrences: dict[tuple[int, int], int] = field(default_factory=dict)  # times that hour came in the window
    handled: int = 0
    handle_seconds: float = 0.0  # summed over the handled ones
    offered: int = 0
    abandoned: int = 0
    wait_seconds: float = 0.0  # in the live queue, summed over every offered contact

    def forecast_per_hour(self, weekday: int, hour: int) -> float:
        """Seasonal average: arrivals in this weekday and hour / number of times it occurred in the window."""
        seen = self.occurrences.get((weekday, hour), 0)
        return self.arrivals.get((weekday, hour), 0) / seen if seen else 0.0

    @property
    def aht_seconds(self) -> float | None:
        return self.handle_seconds / self.handled if self.handled else None

    def patience_seconds(self, min_abandons: int) -> float | None:
        """Mean patience (see the module's docstring); None with fewer than `min_abandons` abandons."""
        return self.wait_seconds / self.abandoned if self.abandoned >= max(min_abandons, 1) else None


def window(now: datetime, weeks: int) -> tuple[datetime, datetime]:
    """The last `weeks` whole weeks before `now`, ending at the start of the current hour (UTC), so that every
    hour of the window is a whole hour in any time zone with whole-hour offsets."""
    end = now.replace(minute=0, second=0, microsecond=0)
    return end - timedelta(days=7 * weeks), end


def read_history(session: Session, policy: Policy, now: datetime, weeks: int) -> dict[str, QueueHistory]:
    """Every policy queue's history over `window(now, weeks)`."""
    start, end = window(now, weeks)
    zones = {q.name: ZoneInfo(q.business_hours.timezone) for q in policy.queues}
    out = {name: QueueHistory(name) for name in zones}
    for name, zone in zones.items():
        at = start
        while at < end:
            local = at.astimezone(zone)
            key = (local.weekday(), local.hour)
            out[name].occurrences[key] = out[name].occurrences.get(key, 0) + 1
            at += timedelta(hours=1)
    in_window = (Escalation.created_at >= start, Escalation.created_at < end, Escalation.queue.in_(list(zones)))
    events: dict[int, list[EscalationEvent]] = {}
    for event in session.scalars(
            select(EscalationEvent).join(Escalation, Escalation.id == EscalationEvent.escalation_id)
            .where(*in_window).order_by(EscalationEvent.escalation_id, EscalationEvent.at, EscalationEvent.id)):
        events.setdefault(event.escalation_id, []).append(event)
    for esc in session.scalars(select(Escalation).where(*in_window)
                               .options(load_only(*RECORD_COLUMNS))):  # never the transcripts, facts and summaries
        _count(out[esc.queue], esc, events.get(esc.id, []), zones[esc.queue], end)
    return out


def _count(history: QueueHistory, esc: Escalation, events: list[EscalationEvent], zone: ZoneInfo,
           end: datetime) -> None:
    created = next((e for e in events if e.kind == Kind.CREATED), None)
    if (created.to_status if created else esc.status) not in NOT_LIVE:
        local = esc.created_at.astimezone(zone)
        key = (local.weekday(), local.hour)
        history.arrivals[key] = history.arrivals.get(key, 0) + 1
        history.offered += 1
        left = next((e for e in events if e.from_status == Status.WAITING and e.to_status != Status.WAITING), None)
        still = end if esc.status == Status.WAITING else esc.updated_at  # no event left the queue: waiting, or no trail
        history.wait_seconds += ((left.at if left else still) - esc.created_at).total_seconds()
        history.abandoned += left is not None and left.to_status == Status.ABANDONED
    held, still_held = time_held(events)
    if esc.status in AGENT_CLOSED and not still_held and held > 0:
        history.handled += 1
        history.handle_seconds += held
