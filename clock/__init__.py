"""The one clock of every Concierge process (routing service, action server, scripts, tests).

Business hours, SLA timers, expiry, aging, token lifetimes and reports all ask `utcnow()`, never the system clock
directly, so that a test can say which instant it means (`use(FixedClock(...))`) and a whole stack can be moved in
time for development and tests: `CONCIERGE_CLOCK_START=2026-12-05T08:30:00Z` makes the clock read that instant
when the stack starts and run forward from there. The first process that reads the setting records the real
moment it did so in `CONCIERGE_CLOCK_ANCHOR`; child processes inherit it, so every process of one stack (and the
tests driving it) reads the same time. Refused unless CONCIERGE_ENV=development: a shop's clock is the real one.
Concierge schedules nothing with Rasa's reminders (they run on the system clock and live in memory): retries of kept
work are planned on this clock (actions/kept_work.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol

START_VARIABLE = "CONCIERGE_CLOCK_START"
ANCHOR_VARIABLE = "CONCIERGE_CLOCK_ANCHOR"
ENV_VARIABLE = "CONCIERGE_ENV"


class ClockError(ValueError):
    """CONCIERGE_CLOCK_START is malformed, or set outside development."""


class Clock(Protocol):
    """Anything that tells the current instant (timezone-aware, UTC)."""

    def now(self) -> datetime:
        """The current instant."""


@dataclass(frozen=True)
class SystemClock:
    """The system clock, optionally moved by a fixed offset (the stack clock of CONCIERGE_CLOCK_START)."""

    offset: timedelta = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset


@dataclass
class FixedClock:
    """A clock that stands still until a test moves it."""

    instant: datetime

    def __post_init__(self) -> None:
        if self.instant.tzinfo is None:
            raise ClockError("FixedClock needs a timezone-aware instant")

    def now(self) -> datetime:
        return self.instant

    def advance(self, seconds: float) -> None:
        """Move the clock forward by `seconds`."""
        self.instant += timedelta(seconds=seconds)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with its zone ("2026-12-05T08:30:00Z" or "...+01:00")."""
    try:
        instant = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ClockError(f"{START_VARIABLE}={text!r} is not an ISO 8601 instant such as 2026-12-05T08:30:00Z") from exc
    if instant.tzinfo is None:
        raise ClockError(f"{START_VARIABLE}={text!r} needs a timezone (end it with Z for UTC)")
    return instant.astimezone(timezone.utc)


def from_environment(env: Mapping[str, str] | None = None) -> SystemClock:
    """The process clock the environment asks for; records the anchor for child processes (see the module doc)."""
    values = os.environ if env is None else env
    start = values.get(START_VARIABLE, "").strip()
    if not start:
        return SystemClock()
    environment = values.get(ENV_VARIABLE, "").strip() or "production (unset)"
    if environment != "development":
        raise ClockError(f"{START_VARIABLE} is for development and tests only (CONCIERGE_ENV is {environment!r})")
    instant = parse_instant(start)
    raw_anchor = values.get(ANCHOR_VARIABLE, "").strip()
    try:
        anchor = float(raw_anchor) if raw_anchor else time.time()
    except ValueError as exc:
        raise ClockError(f"{ANCHOR_VARIABLE}={raw_anchor!r} is not a Unix time in seconds") from exc
    if env is None and not raw_anchor:
        os.environ[ANCHOR_VARIABLE] = repr(anchor)  # children (and later reads) share this process's clock
    return SystemClock(offset=instant - datetime.fromtimestamp(anchor, timezone.utc))


_current: Clock | None = None


def current() -> Clock:
    """The clock in use (read from the environment on first use)."""
    global _current
    if _current is None:
        _current = from_environment()
    return _current


def utcnow() -> datetime:
    """The current instant on the process clock, timezone-aware in UTC."""
    return current().now()


@contextmanager
def use(clock: Clock) -> Iterator[Clock]:
    """Run a block (a test) on `clock`, then restore the previous one."""
    global _current
    previous = _current
    _current = clock
    try:
        yield clock
    finally:
        _current = previous

