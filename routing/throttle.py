"""Failed attempts limited per key (a login, a client address, an order number, an email), in a sliding window,
checked before the expensive or sensitive work (an argon2 hash, an order + email look-up).

Beyond `limits[kind]` failures for one key of that kind within `window`, the caller answers 429 with Retry-After
until the oldest failure leaves the window. Kept in the process (one routing replica today; several replicas would
keep the counts in Redis).
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Mapping
from datetime import datetime, timedelta


class FailureThrottle:
    """Sliding-window counts of failed attempts, per (kind, key)."""

    def __init__(self, limits: Mapping[str, int], window: timedelta) -> None:
        self.limits = dict(limits)
        self.window = window
        self._failures: dict[tuple[str, str], deque[datetime]] = {}
        self._lock = threading.Lock()

    def _wait(self, kind: str, key: str, now: datetime) -> int:
        recent = self._failures.get((kind, key))
        if recent is None:
            return 0
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) < self.limits[kind]:
            return 0
        return max(1, math.ceil((recent[0] + self.window - now).total_seconds()))

    def retry_after(self, keys: Mapping[str, str], now: datetime) -> int:
        """Seconds until an attempt with these keys (kind -> key) may be made (0: now)."""
        with self._lock:
            return max((self._wait(kind, key, now) for kind, key in keys.items()), default=0)

    def failed(self, keys: Mapping[str, str], now: datetime) -> None:
        """Count a failed attempt against each of its keys."""
        with self._lock:
            for kind, key in keys.items():
                self._failures.setdefault((kind, key), deque()).append(now)

    def succeeded(self, kind: str, key: str) -> None:
        """A success clears that key's failures."""
        with self._lock:
            self._failures.pop((kind, key), None)


def agent_sign_in_throttle() -> FailureThrottle:
    """5 failed sign-ins per login, 20 per client address, in 5 minutes (each attempt costs an argon2 hash)."""
    return FailureThrottle({"login": 5, "address": 20}, timedelta(minutes=5))


def order_verification_throttle() -> FailureThrottle:
    """5 failed order + email checks per order number, 10 per email, in 15 minutes (order numbers are guessable)."""
    return FailureThrottle({"order": 5, "email": 10}, timedelta(minutes=15))
