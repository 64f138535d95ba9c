"""A circuit breaker in front of the routing service: while it hangs, one call waits for its timeout, the others fail
at once.

A stopped or stuck routing service still accepts connections but never answers, so every call waited its full
timeout (3 s), one after the other: a first reply that needs several calls took 22.8 s. Now, when a call times out
and the service answered no call at all while it waited, the circuit opens: for `cooldown` seconds every call fails
at once (the caller gets RoutingUnavailable, as for a time-out). Then one call at a time goes out (half-open); the
first that gets any answer closes the circuit, a time-out opens it again. A slow service that still answers other
calls is never cut off, and a refused connection (a service restarting) fails fast by itself: neither opens it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)

State = Literal["closed", "open", "half-open"]


@dataclass(frozen=True)
class Ticket:
    """A call let through: when it started, and whether it is the one trial call of a half-open circuit."""

    started: float
    trial: bool


class Breaker:
    """The circuit of one routing service, shared by every call to it; `now` is a monotonic clock in seconds."""

    def __init__(self, cooldown: float = 5.0, now: Callable[[], float] = time.monotonic) -> None:
        self.cooldown = cooldown
        self._now = now
        self._lock = threading.Lock()
        self._answered_at = -math.inf  # when the service last answered a call
        self._open_until: float | None = None  # None: closed
        self._opened_at = 0.0
        self._trial_out = False

    @property
    def state(self) -> State:
        with self._lock:
            if self._open_until is None:
                return "closed"
            return "open" if self._now() < self._open_until or self._trial_out else "half-open"

    def admit(self) -> Ticket | None:
        """A ticket for a call that may go out, or None: the call must fail at once."""
        with self._lock:
            now = self._now()
            if self._open_until is None:
                return Ticket(now, trial=False)
            if now < self._open_until or self._trial_out:
                return None
            self._trial_out = True
            return Ticket(now, trial=True)

    def retry_in(self) -> float:
        """Seconds until a trial call may go out (0 when one may now, or one is out)."""
        with self._lock:
            return max(0.0, self._open_until - self._now()) if self._open_until is not None else 0.0

    def answered(self, ticket: Ticket) -> None:
        """The service answered the call (any status): it is there, the circuit closes."""
        with self._lock:
            now = self._now()
            self._answered_at = now
            if self._open_until is not None:
                log.warning("routing service answers again: calls go out again (the circuit was open %.1fs)",
                            now - self._opened_at)
            self._open_until = None
            self._trial_out = False

    def timed_out(self, ticket: Ticket) -> None:
        """The call got no answer in time; the circuit opens if no call was answered while this one waited."""
        with self._lock:
            now = self._now()
            if ticket.trial:
                self._trial_out = False
            if self._answered_at > ticket.started:
                return  # another call was answered meanwhile: a slow call, not a hung service
            if self._open_until is None:
                self._opened_at = now
                log.warning("routing service: no answer within %.1fs and none to any other call meanwhile; calls "
                            "fail at once for %gs, then one goes out to try", now - ticket.started, self.cooldown)
            self._open_until = now + self.cooldown

    def failed(self, ticket: Ticket) -> None:
        """The call ended without an answer but quickly (connection refused, cancelled): the next call may try."""
        if ticket.trial:
            with self._lock:
                self._trial_out = False


_breakers: dict[tuple[str, float], Breaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(routing_url: str, cooldown: float) -> Breaker:
    """The one breaker of the routing service at `routing_url` in this process."""
    with _breakers_lock:
        return _breakers.setdefault((routing_url, cooldown), Breaker(cooldown))
