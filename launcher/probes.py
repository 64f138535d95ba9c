"""The launcher's probes of its children: one HTTP request each, with an explicit timeout, run on a worker thread so
that a hung child never holds up the supervising loop (which also notices deaths and restarts the dead).

Readiness: the child's health URL answers 200 (it has started and can serve). Liveness: the child's liveness URL
answers at all, whatever the status, within the timeout: a child that does not is stopped or stuck, and a restart is
the cure (a 503 because the database is down is an answer; restarting would not bring the database back).
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class Outcome:
    """What one probe of `url` got: an answer at all, a 200, and a few words for the log."""

    url: str
    answered: bool
    ready: bool
    detail: str


@dataclass
class Watch:
    """The probing of one child since its last start: ready yet, when it last answered, liveness probes failed in a
    row, the probe in flight, when the next one is due, and why the launcher killed it (for the exit's log line)."""

    ready: bool = False
    answered_at: float = 0.0  # time.monotonic() of its last answer to a probe
    failures: int = 0
    pending: Future[Outcome] | None = None
    next_at: float = 0.0
    killed_for: str = ""


def client() -> httpx.Client:
    """The probes' HTTP client, shared by the probe threads: a new connection per probe (a kept one could be closed
    by the child's keep-alive timeout just as a probe goes out, a failure that says nothing about the child)."""
    return httpx.Client(limits=httpx.Limits(max_keepalive_connections=0), follow_redirects=False)


def probe(http: httpx.Client, url: str, timeout: float) -> Outcome:
    """GET `url`, giving up after `timeout` seconds (connecting, sending and reading each)."""
    try:
        response = http.get(url, timeout=timeout)
    except httpx.TimeoutException:
        return Outcome(url, False, False, f"no answer within {timeout:g}s")
    except httpx.ConnectError as error:
        return Outcome(url, False, False, f"cannot connect ({error})")
    except httpx.HTTPError as error:
        return Outcome(url, False, False, f"{error.__class__.__name__}: {error}")
    return Outcome(url, True, response.status_code == 200, f"HTTP {response.status_code}")
