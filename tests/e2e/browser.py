"""Headless Debian Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, sync_playwright

from launcher.browser import CHROMIUM_ARGS, chromium_path


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium; skips the test with a clear message when Debian's chromium is missing."""
    path = chromium_path()
    if not path:
        pytest.skip("Debian chromium is not installed (make test installs it when it can)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
