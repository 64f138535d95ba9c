"""Headless Debian Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

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


def wait_until(page: Page, expression: str, timeout: float = 15.0) -> None:
    """Wait until a JavaScript expression is true in the page.

    Playwright's `wait_for_function` polls with a function built from text, which the pages' Content-Security-Policy
    (no eval) refuses; `evaluate` runs through the DevTools protocol, outside the page's policy.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({expression})"):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(50)


@contextmanager
def site(html: str, origin: str = "http://127.0.0.1:0") -> Iterator[str]:
    """A page of some website serving `html` on `origin` (port 0: a new origin on a free port); yields its URL."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    parts = urlsplit(origin)
    server = ThreadingHTTPServer((parts.hostname or "127.0.0.1", parts.port or 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
