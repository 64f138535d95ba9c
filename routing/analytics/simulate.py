"""A plausible history for the demo: several weeks of conversations per tier, with business-hour arrivals, bot-only
visits, escalations that wait, are answered, abandoned or expire into callbacks, tickets out of hours, re-contacts
and CSAT ratings, so that `report ops` (and the figures) mean something on a fresh demo database.

Everything it writes is closed: no simulated escalation waits in a queue or a callback list, so the agents' console
and the live queues are untouched. Deterministic for a seed and an end instant."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.agents.models import Agent
from routing.analytics.history import Step, decision, escalation
from routing.escalations.models import Kind, Status
from routing.policy.definition import Policy
from routing.tiers.models import CustomerTier

# per tier: signed-in contacts per day, share escalated; guests get the policy's anonymous tier
VOLUME = {"platinum": 6, "gold": 14, "silver": 30, "bronze": 60}
GUESTS_PER_DAY = 40
ESCALATED = {"platinum": 0.45, "gold": 0.35, "silver": 0.25, "bronze": 0.15}
GUEST_ESCALATED = 0.1
INTENTS = ["complaint", "get_refund", "track_order", "cancel_order", "payment_issue", "delivery_options",
           "change_shipping_address", "store_hours"]
# per queue: mean wait (s), mean patience (s), mean handle time (s)
QUEUE_TIMES = {"vip": (35.0, 900.0, 420.0), "priority": (110.0, 600.0, 360.0), "general": (260.0, 500.0, 300.0)}
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 11, 10, 10, 11, 11, 10, 9, 8, 7, 6, 4, 3, 2]
RECONTACT_SHARE = 0.08
CSAT_SHARE = 0.4


@dataclass
class Simulated:
    contacts: int = 0
    escalations: int = 0
    ratings: int = 0


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method (small means only)."""
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def simulate(session: Session, policy: Policy, end: datetime, weeks: int = 4, seed: int = 7) -> Simulated:
    """Write `weeks` of history ending at `end` (exclusive); returns what was written."""
    rng = random.Random(seed)
    agents: dict[str, list[int]] = {}
    for agent in session.scalars(select(Agent)):
        for queue in agent.queues:
            agents.setdefault(queue, []).append(agent.id)
    customers: dict[str, list[int]] = {}
    for customer_id, tier in session.execute(select(CustomerTier.customer_id, CustomerTier.tier)).tuples():
        customers.setdefault(tier, []).append(customer_id)
    out = Simulated()
    start_day = (end - timedelta(days=7 * weeks)).replace(hour=0, minute=0, second=0, microsecond=0)
    total_weight = sum(HOUR_WEIGHTS)
    for day in range(7 * weeks):
        day_start = start_day + timedelta(days=day)
        weekend = 0.6 if day_start.weekday() >= 5 else 1.0
        for tier, per_day in [*VOLUME.items(), ("", GUESTS_PER_DAY)]:
            for hour, weight in enumerate(HOUR_WEIGHTS):
                for _ in range(_poisson(rng, per_day * weekend * weight / total_weight)):
                    at = day_start + timedelta(hours=hour, seconds=rng.uniform(0, 3600))
                    if at >= end:
                        continue
                    ids = customers.get(tier) if tier else None
                    customer = rng.choice(ids) if ids else None
                    _contact(session, policy, rng, out, tier or policy.anonymous_tier, customer, at, agents,
                             f"sim-{seed}-{out.contacts}", end)
                    if rng.random() < RECONTACT_SHARE:
                        again = at + timedelta(hours=rng.uniform(2, 20))
                        if again < end:
                            _contact(session, policy, rng, out, tier or policy.anonymous_tier, customer, again,
                                     agents, f"sim-{seed}-{out.contacts}", end)
    session.flush()
    return out


def _contact(session: Session, policy: Policy, rng: random.Random, out: Simulated, tier: str, customer: int | None,
             at: datetime, agents: dict[str, list[int]], conversation: str, end: datetime) -> None:
    out.contacts += 1
    rules = policy.rules.get(tier) or policy.rules[policy.anonymous_tier]
    escalate = rng.random() < (ESCALATED.get(tier, GUEST_ESCALATED) if customer is not None else GUEST_ESCALATED)
    intent = rng.choice(INTENTS[:5] if escalate else INTENTS)
    for n in range(rng.randint(1, 3)):
        decision(session, conversation, at + timedelta(seconds=45 * n), tier, intent, customer_id=customer)
    if not escalate:
        return
    queue = policy.queue(rules.queue)
    staff = agents.get(rules.queue)
    if queue is None or not staff:
        return
    created = at + timedelta(seconds=100)
    mean_wait, mean_patience, mean_handle = QUEUE_TIMES.get(queue.name, (120.0, 600.0, 360.0))
    agent = rng.choice(staff)
    handle = max(60.0, rng.lognormvariate(math.log(mean_handle), 0.5))
    first_status, rating = Status.WAITING, None
    if not queue.business_hours.is_open(created):  # out of hours: a ticket or a callback, picked up later
        first_status = Status.CALLBACK_REQUESTED if queue.out_of_hours == "callback" else Status.TICKET
        later = rng.uniform(8, 16) * 3600
        steps = ([Step(later, Status.ASSIGNED, Kind.CLAIMED, agent), Step(later + 30, Status.ACTIVE, "reply", agent),
                  Step(later + handle, Status.RESOLVED, Kind.RESOLVED, agent)] if rng.random() < 0.85
                 else [Step(later, Status.ABANDONED, Kind.ABANDONED)])
    else:
        wait = rng.expovariate(1 / mean_wait)
        patience = rng.expovariate(1 / mean_patience)
        if patience < wait and patience < queue.escalation_timeout_seconds:
            steps = [Step(patience, Status.ABANDONED, Kind.ABANDONED)]
        elif wait > queue.escalation_timeout_seconds:
            t = queue.escalation_timeout_seconds
            back = t + rng.uniform(1, 4) * 3600
            steps = [Step(t, Status.EXPIRED, Kind.EXPIRED),
                     Step(t + 20, Status.CALLBACK_REQUESTED, Kind.CALLBACK_REQUESTED)]
            steps += ([Step(back, Status.ASSIGNED, Kind.CLAIMED, agent), Step(back + 30, Status.ACTIVE, "reply", agent),
                       Step(back + handle, Status.RESOLVED, Kind.RESOLVED, agent)] if rng.random() < 0.8
                      else [Step(back, Status.ABANDONED, Kind.ABANDONED)])
        else:
            end_kind = ((Status.RETURNED_TO_BOT, Kind.HANDED_BACK) if rng.random() < 0.12
                        else (Status.RESOLVED, Kind.RESOLVED))
            steps = [Step(max(wait - 8, 0), Status.ASSIGNED, Kind.CLAIMED, agent),
                     Step(wait, Status.ACTIVE, "reply", agent),
                     Step(wait + handle, *end_kind, agent)]
            if rng.random() < CSAT_SHARE:
                rating = max(1, min(5, round(rng.gauss(4.6 - wait / 240, 0.8))))
    if created + timedelta(seconds=max(step.seconds for step in steps)) >= end:
        return  # it would end in the future: the visit stays bot-only
    out.escalations += 1
    out.ratings += rating is not None
    escalation(session, conversation, created, tier, queue.name, intent, rules.first_response_sla_seconds, steps,
               first_status=first_status, customer_id=customer, csat=rating)
