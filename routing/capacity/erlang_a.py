"""Erlang A (M/M/N+M, Palm's model): Erlang C's queue where every waiting contact gives up after an exponential
patience (mean `patience_seconds`). Abandonment shortens the line for those who stay, so Erlang A needs fewer agents
than Erlang C for the same target; Erlang C is the cautious figure, Erlang A the realistic one when customers do
leave (Garnett, Mandelbaum & Reiman, "Designing a call center with impatient customers", M&SOM 4(3), 2002).

Computed exactly from the birth-death chain of the number of contacts in the system (no approximation but the
truncation of its tail at a relative mass below 1e-17):

    pi_k  ~ A^k / k!                                   k <= N
    pi_k  = pi_N * prod_{j=1..k-N} lambda / (N mu + j theta)    k > N
    P(wait)    = sum_{k >= N} pi_k                     (an arrival sees the chain's steady state: PASTA)
    E[queue]   = sum_{k > N} (k - N) pi_k
    P(abandon) = theta * E[queue] / lambda
    mean wait  = E[queue] / lambda                     over every arrival, until answered or gone (Little)
    SL(T)      = P(answered within T): an arrival who finds m waiting is answered after the m ahead have left
                 (each phase at rate N mu + i theta) unless its own patience ends first; that absorption is
                 computed by uniformisation. Abandons count as missed, as in docs/operations.md.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from routing.capacity.erlang import MAX_SERVERS

if TYPE_CHECKING:  # numpy is imported when a figure is asked for, not with the service
    import numpy as np
    import numpy.typing as npt

TAIL = 40.0  # log-mass below the largest state at which the chain's tail is cut (e^-40 ~ 4e-18)
MAX_QUEUE = 200_000
STEP_RATE_TIME = 30.0  # uniformisation in chunks of at most this many expected jumps (no e^-x underflow)


@dataclass(frozen=True)
class Performance:
    """Steady-state figures of N servers under Erlang A."""

    probability_wait: float
    probability_abandon: float
    service_level: float
    mean_wait_seconds: float  # over every arrival, until answered or abandoned


def _states(servers: int, arrivals_per_second: float, aht_seconds: float, patience_seconds: float
            ) -> npt.NDArray[np.float64]:
    """Steady-state probabilities pi_0..pi_{N+M} of the number in the system."""
    import numpy as np

    lam, mu, theta = arrivals_per_second, 1 / aht_seconds, 1 / patience_seconds
    traffic = lam / mu
    k = np.arange(servers + 1, dtype=np.float64)
    below = k * math.log(traffic) - np.array([math.lgamma(x + 1) for x in k])
    above, peak = [float(below[-1])], float(below.max())
    j = 0
    while j < MAX_QUEUE:
        j += 1
        above.append(above[-1] + math.log(lam / (servers * mu + j * theta)))
        peak = max(peak, above[-1])
        if lam < servers * mu + j * theta and above[-1] < peak - TAIL:  # falling for good, and negligible
            break
    logw = np.concatenate([below, np.array(above[1:])])
    w = np.exp(logw - logw.max())
    return w / w.sum()  # type: ignore[no-any-return]


def performance(servers: int, arrivals_per_second: float, aht_seconds: float, patience_seconds: float,
                target_seconds: float) -> Performance:
    """P(wait), P(abandon), service level in `target_seconds` and mean wait of `servers` under Erlang A."""
    if arrivals_per_second <= 0:
        return Performance(0.0, 0.0, 1.0, 0.0)
    if servers <= 0:
        return Performance(1.0, 1.0, 0.0, patience_seconds)
    import numpy as np

    lam, mu, theta = arrivals_per_second, 1 / aht_seconds, 1 / patience_seconds
    pi = _states(servers, lam, aht_seconds, patience_seconds)
    waiting = pi[servers:]  # the arrival finds m = 0, 1, ... contacts already waiting
    queue = float(np.dot(np.arange(len(waiting)), waiting))
    return Performance(probability_wait=float(waiting.sum()), probability_abandon=theta * queue / lam,
                       service_level=float(pi[:servers].sum()) + _answered_within(waiting, servers * mu, theta,
                                                                                   target_seconds),
                       mean_wait_seconds=queue / lam)


def _answered_within(found: npt.NDArray[np.float64], service_rate: float, theta: float, seconds: float) -> float:
    """Mass of the arrivals who found m waiting (found[m]) and are answered within `seconds`: a pure-death chain on
    "i ahead" (rate N mu + i theta to i - 1; from 0 to answered at N mu) that every waiting contact leaves at its
    own rate theta (that mass is dropped). Solved by uniformisation, in chunks short enough for e^-x."""
    import numpy as np

    if seconds <= 0:
        return 0.0
    forward = service_rate + np.arange(len(found), dtype=np.float64) * theta  # "m ahead" -> "m - 1" (or answered)
    rate = float(forward[-1] + theta)  # the fastest total exit
    stay, move = 1 - (forward + theta) / rate, forward / rate
    p, answered, left = found.astype(np.float64), 0.0, seconds
    while left > 0:
        dt = min(left, STEP_RATE_TIME / rate)
        left -= dt
        mean = rate * dt
        weight = cdf = math.exp(-mean)  # Poisson(mean) probability of n jumps in the chunk
        q, q_answered = p, answered
        p, answered = weight * q, weight * q_answered
        n = 0
        while 1 - cdf > 1e-15 and n < 10 * mean + 100:
            q_answered += float(q[0] * move[0])
            nxt = stay * q
            nxt[:-1] += move[1:] * q[1:]
            q = nxt
            n += 1
            weight *= mean / n
            cdf += weight
            p = p + weight * q
            answered += weight * q_answered
    return answered


@dataclass(frozen=True)
class StaffingA:
    """The answer of the Erlang A planner for one interval."""

    agents: int  # to schedule, shrinkage included
    agents_online: int
    servers: int
    traffic_erlangs: float
    probability_wait: float
    probability_abandon: float
    service_level: float
    mean_wait_seconds: float
    occupancy: float  # of the chat slots: answered traffic / slots
    max_chats: int
    shrinkage: float
    patience_seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def staff_a(contacts_per_hour: float, aht_seconds: float, target_level: float, target_seconds: float,
            patience_seconds: float, max_chats: int = 1, shrinkage: float = 0.0) -> StaffingA:
    """The fewest agents whose chat slots answer `target_level` of the contacts within `target_seconds` (abandons
    count as missed) when waiting contacts give up after `patience_seconds` on average."""
    if contacts_per_hour < 0 or aht_seconds <= 0 or target_seconds < 0 or patience_seconds <= 0:
        raise ValueError("contacts per hour must be >= 0, AHT > 0, patience > 0 and the target seconds >= 0")
    if not 0 < target_level < 1:
        raise ValueError("the target service level is a share between 0 and 1 (0.8 for 80%)")
    if max_chats < 1 or not 0 <= shrinkage < 1:
        raise ValueError("max_chats must be >= 1 and shrinkage a share in [0, 1)")
    lam = contacts_per_hour / 3600
    traffic = lam * aht_seconds
    servers = 0
    if traffic > 0:
        servers = 1
        while performance(servers, lam, aht_seconds, patience_seconds, target_seconds).service_level < target_level:
            servers += 1
            if servers > MAX_SERVERS:
                raise ValueError("more than 100,000 chat slots needed: check the inputs")
    online = math.ceil(servers / max_chats)
    slots = online * max_chats
    perf = performance(slots, lam, aht_seconds, patience_seconds, target_seconds)
    return StaffingA(
        agents=math.ceil(online / (1 - shrinkage) - 1e-9), agents_online=online, servers=slots,
        traffic_erlangs=traffic, probability_wait=perf.probability_wait,
        probability_abandon=perf.probability_abandon, service_level=perf.service_level,
        mean_wait_seconds=perf.mean_wait_seconds,
        occupancy=traffic * (1 - perf.probability_abandon) / slots if slots else 0.0,
        max_chats=max_chats, shrinkage=shrinkage, patience_seconds=patience_seconds)
