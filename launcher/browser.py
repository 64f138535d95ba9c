"""Headless Debian Chromium for Playwright (tests and benchmarks): never a downloaded browser."""

from __future__ import annotations

import shutil

# Without the background-networking flags Chromium keeps trying hosts this machine's closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str | None:
    """Debian's chromium, if installed."""
    return shutil.which("chromium")
