"""Erlang C (M/M/N: Poisson arrivals, exponential handle times, nobody gives up) staffing, adjusted for agents who
hold several chats at once (`max_chats`) and for shrinkage. The formulas, as in every workforce-management text:

    A  = arrivals per second x AHT                          traffic in Erlangs
    Pw = Erlang C(N, A)                                     probability that a contact waits
    SL = 1 - Pw * exp(-(N - A) * T / AHT)                   share answered within T seconds
    ASA = Pw * AHT / (N - A)                                average speed of answer
    occupancy = A / N

Erlang C is computed through the Erlang B recursion (no factorials, so no overflow at hundreds of agents).
Concurrent chats: an agent with `max_chats` K is taken as K servers (so AHT is the handle time of one chat while the
agent handles others, which is what the routing database measures); the servers needed are then shared out, K per
agent. Shrinkage (breaks, training, absence) scales the agents to schedule: scheduled = ceil(online / (1 - s)).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

MAX_SERVERS = 100_000


def erlang_b(servers: int, traffic: float) -> float:
    """Blocking probability of `servers` with `traffic` Erlangs (recursive form)."""
    b = 1.0
    for k in range(1, servers + 1):
        b = traffic * b / (k + traffic * b)
    return b


def erlang_c(servers: int, traffic: float) -> float:
    """Probability that a contact has to wait; 1 when the servers cannot keep up (servers <= traffic)."""
    if traffic <= 0:
        return 0.0
    if servers <= traffic:
        return 1.0
    b = erlang_b(servers, traffic)
    return servers * b / (servers - traffic * (1 - b))


def service_level(servers: int, traffic: float, aht_seconds: float, target_seconds: float) -> float:
    """Share of contacts answered within `target_seconds`."""
    if traffic <= 0:
        return 1.0
    if servers <= traffic:
        return 0.0
    return 1 - erlang_c(servers, traffic) * math.exp(-(servers - traffic) * target_seconds / aht_seconds)


def asa_seconds(servers: int, traffic: float, aht_seconds: float) -> float:
    """Average speed of answer (mean wait over all contacts, answered at once included)."""
    if traffic <= 0:
        return 0.0
    if servers <= traffic:
        return math.inf
    return erlang_c(servers, traffic) * aht_seconds / (servers - traffic)


@dataclass(frozen=True)
class Staffing:
    """The answer of the planner for one interval."""

    agents: int  # to schedule, shrinkage included
    agents_online: int  # needed on chat at the same time
    servers: int  # chat slots (agents_online x max_chats, at least what Erlang C needs)
    traffic_erlangs: float
    probability_wait: float
    service_level: float
    asa_seconds: float
    occupancy: float  # of the chat slots
    max_chats: int
    shrinkage: float

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def staff(contacts_per_hour: float, aht_seconds: float, target_level: float, target_seconds: float,
          max_chats: int = 1, shrinkage: float = 0.0) -> Staffing:
    """The fewest agents whose chat slots answer `target_level` of the contacts within `target_seconds`."""
    if contacts_per_hour < 0 or aht_seconds <= 0 or target_seconds < 0:
        raise ValueError("contacts per hour must be >= 0, AHT > 0 and the target seconds >= 0")
    if not 0 < target_level < 1:
        raise ValueError("the target service level is a share between 0 and 1 (0.8 for 80%)")
    if max_chats < 1 or not 0 <= shrinkage < 1:
        raise ValueError("max_chats must be >= 1 and shrinkage a share in [0, 1)")
    traffic = contacts_per_hour * aht_seconds / 3600
    servers = max(math.floor(traffic) + 1, 1) if traffic > 0 else 0
    while traffic > 0 and service_level(servers, traffic, aht_seconds, target_seconds) < target_level:
        servers += 1
        if servers > MAX_SERVERS:
            raise ValueError("more than 100,000 chat slots needed: check the inputs")
    online = math.ceil(servers / max_chats)
    slots = online * max_chats  # whole agents bring all their slots
    return Staffing(
        agents=math.ceil(online / (1 - shrinkage) - 1e-9), agents_online=online, servers=slots,
        traffic_erlangs=traffic, probability_wait=erlang_c(slots, traffic),
        service_level=service_level(slots, traffic, aht_seconds, target_seconds),
        asa_seconds=asa_seconds(slots, traffic, aht_seconds), occupancy=traffic / slots if slots else 0.0,
        max_chats=max_chats, shrinkage=shrinkage)
