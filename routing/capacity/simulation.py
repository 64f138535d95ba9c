"""A discrete-event simulation (SimPy) of one live queue as the routing service runs it, to check the closed forms.

What it models, as `routing/escalations/claims.py` and `routing/queues/service.py` do:
- Poisson arrivals per tier, each with the tier's base priority and first-response SLA;
- claim order: priority aged by waiting time (+1 per `seconds_per_point`, at most `max_bonus`), then SLA due time,
  then arrival;
- agents with `max_chats` slots each; a free slot takes the first waiting contact in claim order at once (an agent
  who keeps *Take next customer* going: the real console waits for the agent's click);
- handle time per chat, exponential (Erlang's assumption) or log-normal with the same mean (what the history shows);
- abandonment: every waiting contact leaves after its own patience (exponential), and the queue's
  `escalation_timeout_seconds` ends the wait of anyone still waiting (expiry: counted as not answered).

Not modelled: a chat that takes longer while the agent holds others, the agent's click before the claim and the
first reply after it, agents serving several queues, and arrivals that vary within the hour.
Deterministic for a seed (one random.Random draws everything)."""

from __future__ import annotations

import math
import random
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import simpy


@dataclass(frozen=True)
class TierLoad:
    """One tier's arrivals into the queue."""

    name: str
    contacts_per_hour: float
    priority: int = 0
    sla_seconds: float | None = None


@dataclass(frozen=True)
class Scenario:
    """One queue: its tiers, agents and their slots, handle time, patience and claim rules."""

    tiers: tuple[TierLoad, ...]
    agents: int
    aht_seconds: float
    max_chats: int = 1
    patience_seconds: float | None = None  # None: nobody gives up (Erlang C)
    timeout_seconds: float | None = None  # the queue's escalation_timeout_seconds
    handle: str = "exponential"  # or "lognormal" (sigma 0.5, same mean)
    aging_seconds_per_point: int = 30
    aging_max_bonus: int = 120
    hours: float = 400.0  # simulated after the warm-up
    warmup_hours: float = 2.0
    seed: int = 1


@dataclass
class Outcome:
    """What happened to the contacts that arrived after the warm-up (all or one tier)."""

    arrivals: int = 0
    waited: int = 0  # found no free slot
    answered: int = 0
    answered_in_target: int = 0
    abandoned: int = 0
    expired: int = 0
    wait_total: float = 0.0  # until answered, abandoned or expired

    @property
    def probability_wait(self) -> float:
        return self.waited / self.arrivals if self.arrivals else 0.0

    @property
    def service_level(self) -> float:
        return self.answered_in_target / self.arrivals if self.arrivals else 1.0

    @property
    def abandon_rate(self) -> float:
        return (self.abandoned + self.expired) / self.arrivals if self.arrivals else 0.0

    @property
    def mean_wait_seconds(self) -> float:
        return self.wait_total / self.arrivals if self.arrivals else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"arrivals": self.arrivals, "probability_wait": round(self.probability_wait, 4),
                "service_level": round(self.service_level, 4), "abandon_rate": round(self.abandon_rate, 4),
                "mean_wait_seconds": round(self.mean_wait_seconds, 2)}


@dataclass
class Result:
    """Overall and per-tier outcomes, with the service level of each of `batches` equal stretches of time (the
    spread of those batch means is the simulation's own error)."""

    overall: Outcome
    by_tier: dict[str, Outcome]
    batch_service_levels: list[float] = field(default_factory=list)

    @property
    def service_level_halfwidth(self) -> float:
        """95 % confidence half-width of the service level, from the batch means (Student t, 19 d.o.f.)."""
        b = self.batch_service_levels
        if len(b) < 2:
            return math.inf
        mean = sum(b) / len(b)
        sd = math.sqrt(sum((x - mean) ** 2 for x in b) / (len(b) - 1))
        return 2.093 * sd / math.sqrt(len(b))


@dataclass
class _Contact:
    id: int
    tier: TierLoad
    arrived: float
    claimed: simpy.Event
    done: bool = False


BATCHES = 20


def simulate(scenario: Scenario, target_seconds: float) -> Result:
    """Run `scenario`; a contact counts as answered in target when claimed within `target_seconds` of arriving."""
    rng = random.Random(scenario.seed)
    env = simpy.Environment()
    waiting: list[_Contact] = []
    free = [scenario.agents * scenario.max_chats]
    start = scenario.warmup_hours * 3600
    length = scenario.hours * 3600
    overall, by_tier = Outcome(), {t.name: Outcome() for t in scenario.tiers}
    batches = [Outcome() for _ in range(BATCHES)]
    sigma = 0.5

    def handle_time() -> float:
        if scenario.handle == "lognormal":
            return rng.lognormvariate(math.log(scenario.aht_seconds) - sigma ** 2 / 2, sigma)
        return rng.expovariate(1 / scenario.aht_seconds)

    def order(c: _Contact) -> tuple[float, float, int]:
        waited = int(env.now - c.arrived)
        aged = c.tier.priority + min(waited // scenario.aging_seconds_per_point, scenario.aging_max_bonus)
        due = c.arrived + c.tier.sla_seconds if c.tier.sla_seconds is not None else math.inf
        return (-aged, due, c.id)

    def dispatch() -> None:
        while free[0] > 0 and waiting:
            best = min(waiting, key=order)
            waiting.remove(best)
            free[0] -= 1
            best.claimed.succeed()

    def record(c: _Contact, waited: bool, outcome: str) -> None:
        if c.arrived < start:
            return
        wait = env.now - c.arrived
        batch = batches[min(int((c.arrived - start) / length * BATCHES), BATCHES - 1)]
        for o in (overall, by_tier[c.tier.name], batch):
            o.arrivals += 1
            o.waited += waited
            o.wait_total += wait
            if outcome == "answered":
                o.answered += 1
                o.answered_in_target += wait <= target_seconds
            elif outcome == "abandoned":
                o.abandoned += 1
            else:
                o.expired += 1

    def contact(c: _Contact) -> Generator[simpy.Event, Any, None]:
        found_free = free[0] > 0 and not waiting
        waiting.append(c)
        dispatch()
        limits = [x for x in (rng.expovariate(1 / scenario.patience_seconds) if scenario.patience_seconds
                              else None, scenario.timeout_seconds) if x is not None]
        give_up = min(limits) if limits else None
        if give_up is not None and not c.claimed.triggered:
            yield c.claimed | env.timeout(give_up)
        else:
            yield c.claimed
        if not c.claimed.triggered:  # patience or the queue's timeout ran out first
            waiting.remove(c)
            timed_out = scenario.timeout_seconds is not None and give_up == scenario.timeout_seconds
            record(c, True, "expired" if timed_out else "abandoned")
            return
        record(c, not found_free, "answered")
        yield env.timeout(handle_time())
        free[0] += 1
        dispatch()

    def arrivals(tier: TierLoad) -> Generator[simpy.Event, Any, None]:
        rate = tier.contacts_per_hour / 3600
        while rate > 0:
            yield env.timeout(rng.expovariate(rate))
            counter[0] += 1
            env.process(contact(_Contact(counter[0], tier, env.now, env.event())))

    counter = [0]
    for tier in scenario.tiers:
        env.process(arrivals(tier))
    env.run(until=start + length)
    return Result(overall, by_tier, [b.service_level for b in batches])
