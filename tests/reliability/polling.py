"""Waiting in drills: poll a condition until it holds or a bound passes, and ask a health URL."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx


def wait_for(condition: Callable[[], bool], what: str, bound: float = 60.0, every: float = 0.2) -> float:
    """Seconds until `condition` held, checked every `every` seconds; fails the test after `bound` seconds."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < bound, f"not within {bound:.0f}s: {what}"
        time.sleep(every)
    return time.monotonic() - started


def healthy(url: str, timeout: float = 2.0) -> bool:
    """Whether `url` answers 200 within `timeout` seconds (a refused or slow server is not healthy)."""
    try:
        return httpx.get(url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False
