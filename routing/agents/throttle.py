"""Failed agent sign-ins are limited per login and per client address, before any password hash is computed.

Each attempt costs an argon2 hash, so unlimited guessing is both a brute-force risk and a CPU denial of service.
Beyond `per_login` failures for one login, or `per_address` failures from one address, within `window`, sign-in
answers 429 with Retry-After until the oldest failure leaves the window. Kept in the process (one routing replica
today; several replicas would keep it in Redis).
"""

from __future__ import annotations

import math
import threading
from collections import deque
from datetime import datetime, timedelta


class SignInThrottle:
    """Sliding-window counts of failed sign-ins."""

    def __init__(self, per_login: int = 5, per_address: int = 20, window: timedelta = timedelta(minutes=5)) -> None:
        self.per_login = per_login
        self.per_address = per_address
        self.window = window
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _wait(self, key: str, limit: int, now: datetime) -> int:
        recent = self._failures.get(key)
        if recent is None:
            return 0
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) < limit:
            return 0
        return max(1, math.ceil((recent[0] + self.window - now).total_seconds()))

    def retry_after(self, login: str, address: str, now: datetime) -> int:
        """Seconds until this login may be tried again from this address (0: now)."""
        with self._lock:
            return max(self._wait(f"login:{login.lower()}", self.per_login, now),
                       self._wait(f"address:{address}", self.per_address, now))

    def failed(self, login: str, address: str, now: datetime) -> None:
        """Count a failed attempt."""
        with self._lock:
            for key in (f"login:{login.lower()}", f"address:{address}"):
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, login: str) -> None:
        """A correct password clears the login's failures (not the address's)."""
        with self._lock:
            self._failures.pop(f"login:{login.lower()}", None)
