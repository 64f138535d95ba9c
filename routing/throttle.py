"""Failed attempts limited per key (a login, a client address, an order number, an email), in a sliding window,
checked before the expensive or sensitive work (an argon2 hash, an order + email look-up).

Beyond `limits[kind]` failures for one key of that kind within `window`, the caller answers 429 with Retry-After
until the oldest failure leaves the window. The counts live in the process (`FailureThrottle`), or, when
CONCIERGE_REDIS_URL is set, in Redis (`RedisFailureThrottle`), so that every replica of the routing service counts
the same failures: an attacker cannot spread guesses over replicas, and a restart forgets nothing. Times come from
the service's clock (`clock.utcnow`), not Redis's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import uuid
from collections import deque
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Protocol

import redis

from routing.errors import Unavailable

logger = logging.getLogger(__name__)


class Throttle(Protocol):
    """What the sign-in and order-check endpoints need from a throttle."""

    def retry_after(self, keys: Mapping[str, str], now: datetime) -> int:
        """Seconds until an attempt with these keys (kind -> key) may be made (0: now)."""

    def failed(self, keys: Mapping[str, str], now: datetime) -> None:
        """Count a failed attempt against each of its keys."""

    def succeeded(self, kind: str, key: str) -> None:
        """A success clears that key's failures."""

    def failures(self, kind: str, key: str, now: datetime) -> int:
        """The failures of that key within the window."""


class FailureThrottle:
    """Sliding-window counts of failed attempts, per (kind, key), in this process."""

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

    def failures(self, kind: str, key: str, now: datetime) -> int:
        """The failures of that key within the window."""
        with self._lock:
            return sum(1 for at in self._failures.get((kind, key), ()) if at > now - self.window)


class RedisFailureThrottle:
    """The same sliding-window counts in Redis: one sorted set of failure instants per (kind, key), which expires
    with the window. Keys are `<prefix>:<name>:<kind>:<sha256 of the key>` (no email or login in clear in Redis).

    Redis unreachable: `Unavailable` (503) rather than an unthrottled attempt.
    """

    def __init__(self, client: redis.Redis, prefix: str, limits: Mapping[str, int], window: timedelta) -> None:
        self.client = client
        self.prefix = prefix
        self.limits = dict(limits)
        self.window = window

    def _key(self, kind: str, key: str) -> str:
        return f"{self.prefix}:{kind}:{hashlib.sha256(key.encode()).hexdigest()}"

    def retry_after(self, keys: Mapping[str, str], now: datetime) -> int:
        start = (now - self.window).timestamp()
        try:
            with self.client.pipeline() as pipe:
                for kind, key in keys.items():
                    pipe.zremrangebyscore(self._key(kind, key), "-inf", start)
                    pipe.zcard(self._key(kind, key))
                    pipe.zrange(self._key(kind, key), 0, 0, withscores=True)
                answers = pipe.execute()
        except redis.RedisError as exc:
            raise self._unavailable(exc) from exc
        waits = [0]
        for index, kind in enumerate(keys):
            count, oldest = answers[3 * index + 1], answers[3 * index + 2]
            if count >= self.limits[kind] and oldest:
                waits.append(max(1, math.ceil(oldest[0][1] + self.window.total_seconds() - now.timestamp())))
        return max(waits)

    def failed(self, keys: Mapping[str, str], now: datetime) -> None:
        expiry = math.ceil(self.window.total_seconds())
        try:
            with self.client.pipeline() as pipe:
                for kind, key in keys.items():
                    pipe.zadd(self._key(kind, key), {uuid.uuid4().hex: now.timestamp()})
                    pipe.expire(self._key(kind, key), expiry)
                pipe.execute()
        except redis.RedisError as exc:
            raise self._unavailable(exc) from exc

    def succeeded(self, kind: str, key: str) -> None:
        try:
            self.client.delete(self._key(kind, key))
        except redis.RedisError as exc:
            raise self._unavailable(exc) from exc

    def failures(self, kind: str, key: str, now: datetime) -> int:
        try:
            return int(self.client.zcount(self._key(kind, key), f"({(now - self.window).timestamp()}", "+inf"))
        except redis.RedisError as exc:
            raise self._unavailable(exc) from exc

    @staticmethod
    def _unavailable(exc: redis.RedisError) -> Unavailable:
        logger.error("the throttle's Redis is unreachable: %s", exc)
        return Unavailable("This check is unavailable for a moment; please try again shortly.")


SIGN_IN_LIMITS = {"login_address": 5, "address": 20, "login": 30}
SIGN_IN_WINDOW = timedelta(minutes=5)
ORDER_CHECK_LIMITS, ORDER_CHECK_WINDOW = {"order": 5, "email": 10}, timedelta(minutes=15)


class SignInThrottle:
    """Agent sign-in: brute force is slowed, and nobody can lock an agent out by knowing their login.

    A lock-out counted per login alone (5 failures) let anyone who knows a login keep its agent out for good, five
    wrong passwords every five minutes. So, within 5 minutes (each attempt costs an argon2 hash):
    - 5 failures for one login from one client address lock that login for that address only: the agent, signing
      in from their own address, is not affected;
    - 20 failures from one address, whatever the logins, lock that address (one address guessing many logins);
    - 30 failures for one login from all addresses together (guesses spread over many addresses) lock that login
      only for the addresses that have failed on it already. An address without a failure on it still has its
      password checked, so the agent with the right password gets in, while each further guessing address gets
      one guess in place of five.
    A success clears its (login, address) failures only; the counts of the address and of the login stay, so that
    the agent signing in does not reset an attacker's count. `counts` keeps the failures (in the process or in
    Redis, shared by the replicas); the client address is the connection's peer, or what a trusted proxy says it
    is (routing/proxies.py).
    """

    def __init__(self, counts: Throttle) -> None:
        self.counts = counts

    @staticmethod
    def _keys(login: str, address: str) -> dict[str, str]:
        login = login.lower()
        return {"login_address": json.dumps([login, address]), "address": address, "login": login}

    def retry_after(self, login: str, address: str, now: datetime) -> int:
        """Seconds until `login` may be tried from `address` (0: now)."""
        keys = self._keys(login, address)
        own = {"login_address": keys["login_address"], "address": keys["address"]}
        wait = self.counts.retry_after(own, now)
        if wait or not self.counts.failures("login_address", keys["login_address"], now):
            return wait
        return self.counts.retry_after({"login": keys["login"]}, now)

    def failed(self, login: str, address: str, now: datetime) -> None:
        """Count a failed sign-in against the pair, the address and the login."""
        self.counts.failed(self._keys(login, address), now)

    def succeeded(self, login: str, address: str) -> None:
        """A success clears the failures of this login from this address."""
        self.counts.succeeded("login_address", self._keys(login, address)["login_address"])


def agent_sign_in_throttle(client: redis.Redis | None = None, prefix: str = "concierge") -> SignInThrottle:
    """The sign-in throttle (SignInThrottle), counting in the process or, given a client, in Redis."""
    if client is None:
        return SignInThrottle(FailureThrottle(SIGN_IN_LIMITS, SIGN_IN_WINDOW))
    return SignInThrottle(RedisFailureThrottle(client, f"{prefix}:throttle:sign-in", SIGN_IN_LIMITS, SIGN_IN_WINDOW))


def order_verification_throttle(client: redis.Redis | None = None, prefix: str = "concierge") -> Throttle:
    """5 failed order + email checks per order number, 10 per email, in 15 minutes (order numbers are guessable)."""
    if client is None:
        return FailureThrottle(ORDER_CHECK_LIMITS, ORDER_CHECK_WINDOW)
    return RedisFailureThrottle(client, f"{prefix}:throttle:order-check", ORDER_CHECK_LIMITS, ORDER_CHECK_WINDOW)
