"""The staffing plan: for every queue and hour of the week (in the queue's time zone), the forecast arrivals, the
agents needed to meet the queue's target (Erlang A where customers are seen to abandon, else Erlang C; chat slots
shared out by `max_chats`, then shrinkage) and the agents on the queue's roster."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.agents.models import Agent, AgentQueue
from routing.capacity.erlang import staff
from routing.capacity.erlang_a import staff_a
from routing.capacity.forecast import QueueHistory, read_history, window
from routing.policy.definition import WEEKDAYS, BusinessHours, Policy, QueueDefinition
from routing.queues.service import DEFAULT_HANDLE_SECONDS

DEFAULT_MAX_CHATS = 3  # an agent's max_chats when the queue has nobody on its roster (the column's default)
MIN_ABANDONS = 5  # fewer abandons in the window than this: patience unknown, Erlang C
METHODS = ("auto", "erlang-c", "erlang-a")


@dataclass(frozen=True)
class PlanOptions:
    """What the lead chooses: the history to learn from, the target share, shrinkage, and overrides."""

    weeks: int = 4
    target_level: float = 0.8
    shrinkage: float = 0.0
    method: str = "auto"  # auto: Erlang A where patience is known, else Erlang C
    patience_seconds: float | None = None  # instead of the one estimated from abandons
    max_chats: int | None = None  # instead of the roster's median

    def check(self) -> None:
        """ValueError naming the bad option."""
        if not 1 <= self.weeks <= 26:
            raise ValueError("weeks must be between 1 and 26")
        if not 0 < self.target_level < 1:
            raise ValueError("the target service level is a share between 0 and 1 (0.8 for 80%)")
        if not 0 <= self.shrinkage < 1:
            raise ValueError("shrinkage is a share in [0, 1)")
        if self.method not in METHODS:
            raise ValueError(f"method is one of {', '.join(METHODS)}")
        if self.patience_seconds is not None and self.patience_seconds <= 0:
            raise ValueError("patience must be > 0 seconds")
        if self.max_chats is not None and self.max_chats < 1:
            raise ValueError("max_chats must be >= 1")


@dataclass(frozen=True)
class HourPlan:
    weekday: int  # 0 = Monday
    hour: int
    open: bool
    forecast_per_hour: float
    agents_needed: int  # to schedule, shrinkage included (0 while the queue is closed)
    agents_staffed: int  # on the roster (0 while the queue is closed)
    agents_needed_erlang_c: int
    agents_needed_erlang_a: int | None  # None without a patience
    service_level: float  # expected with agents_needed, by the method used
    abandon_rate: float | None  # expected with agents_needed (Erlang A only)


@dataclass(frozen=True)
class QueuePlan:
    queue: str
    display_name: str
    timezone: str
    method: str  # "Erlang A" or "Erlang C"
    target_level: float
    target_seconds: int
    aht_seconds: float
    aht_from_history: bool
    patience_seconds: float | None
    patience_from: str  # "history", "option" or "none"
    max_chats: int
    shrinkage: float
    roster: int  # agents who are members of the queue
    offered: int  # live arrivals in the window
    abandoned: int
    hours: list[HourPlan]


@dataclass(frozen=True)
class CapacityPlan:
    weeks: int
    since: datetime
    until: datetime
    method: str
    queues: list[QueuePlan]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["since"], out["until"] = self.since.isoformat(), self.until.isoformat()
        return out


def target_seconds(policy: Policy, queue: str) -> int:
    """The tightest first-response SLA among the tiers routed to the queue (the queue's own tiers otherwise)."""
    routed = [r.first_response_sla_seconds for r in policy.rules.values() if r.queue == queue]
    if not routed:
        q = policy.queue(queue)
        routed = [policy.rules[t].first_response_sla_seconds for t in (q.tiers if q else []) if t in policy.rules]
    return min(routed) if routed else 60


def open_during(hours: BusinessHours, weekday: int, hour: int) -> bool:
    """Whether the queue is open at any quarter of that hour (local time)."""
    return WEEKDAYS[weekday] in hours.days and any(
        hours.open <= f"{hour:02d}:{minute:02d}" < hours.close for minute in (0, 15, 30, 45))


def rosters(session: Session) -> dict[str, list[int]]:
    """Per queue: the max_chats of each agent who is a member of it."""
    out: dict[str, list[int]] = {}
    for queue, max_chats in session.execute(
            select(AgentQueue.queue, Agent.max_chats).join(Agent, Agent.id == AgentQueue.agent_id)).tuples():
        out.setdefault(queue, []).append(max_chats)
    return out


def method_summary(options: PlanOptions) -> str:
    """One sentence saying how the plan was made."""
    erlang = {"auto": "Erlang A where customers were seen to abandon (patience from the history), else Erlang C",
              "erlang-c": "Erlang C", "erlang-a": "Erlang A"}[options.method]
    return (f"seasonal average of the last {options.weeks} weeks per weekday and hour (queue time zone); {erlang}; "
            f"max_chats slots per agent; shrinkage {100 * options.shrinkage:g}%")


def make_plan(session: Session, policy: Policy, now: datetime, options: PlanOptions) -> CapacityPlan:
    """The plan of every policy queue from the history of `options.weeks` weeks before `now`."""
    options.check()
    histories = read_history(session, policy, now, options.weeks)
    members = rosters(session)
    since, until = window(now, options.weeks)
    return CapacityPlan(options.weeks, since, until, method_summary(options),
                        [_queue_plan(policy, q, histories[q.name], members.get(q.name, []), options)
                         for q in policy.queues])


def _queue_plan(policy: Policy, queue: QueueDefinition, history: QueueHistory, roster: list[int],
                options: PlanOptions) -> QueuePlan:
    target = target_seconds(policy, queue.name)
    aht = history.aht_seconds
    max_chats = options.max_chats or (int(statistics.median_low(roster)) if roster else DEFAULT_MAX_CHATS)
    patience, patience_from = options.patience_seconds, "option"
    if patience is None:
        patience = history.patience_seconds(MIN_ABANDONS)
        patience_from = "history" if patience is not None else "none"
    if options.method == "erlang-a" and patience is None:
        raise ValueError(f"queue {queue.name}: no patience (fewer than {MIN_ABANDONS} abandons in the window); "
                         f"give --patience-seconds")
    use_a = patience is not None and options.method != "erlang-c"
    handle = aht or float(DEFAULT_HANDLE_SECONDS)
    hours: list[HourPlan] = []
    cache: dict[float, tuple[int, int | None, float, float | None]] = {}
    for weekday in range(7):
        for hour in range(24):
            is_open = open_during(queue.business_hours, weekday, hour)
            forecast = round(history.forecast_per_hour(weekday, hour), 2)
            needed_c, needed_a, level, abandon = 0, (0 if patience is not None else None), 1.0, None
            if is_open and forecast > 0:
                if forecast not in cache:
                    c = staff(forecast, handle, options.target_level, target, max_chats, options.shrinkage)
                    a = staff_a(forecast, handle, options.target_level, target, patience, max_chats,
                                options.shrinkage) if patience is not None else None
                    cache[forecast] = (c.agents, a.agents if a else None,
                                       a.service_level if a and use_a else c.service_level,
                                       a.probability_abandon if a and use_a else None)
                needed_c, needed_a, level, abandon = cache[forecast]
            needed = needed_a if use_a and needed_a is not None else needed_c
            hours.append(HourPlan(weekday, hour, is_open, forecast, needed, len(roster) if is_open else 0,
                                  needed_c, needed_a, round(level, 4),
                                  None if abandon is None else round(abandon, 4)))
    return QueuePlan(queue.name, queue.display_name, queue.business_hours.timezone,
                     "Erlang A" if use_a else "Erlang C", options.target_level, target, round(handle, 1),
                     aht is not None, None if patience is None else round(patience, 1), patience_from, max_chats,
                     options.shrinkage, len(roster), history.offered, history.abandoned, hours)
