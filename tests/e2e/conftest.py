"""Fixtures that start the real Concierge processes (trained model, action server, routing service), and the
headless Chromium the browser tests drive."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from launcher.ports import free_base_port, free_port  # noqa: E402
from launcher.settings import StackSettings  # noqa: E402
from launcher.stack import Stack, running  # noqa: E402
from tests.e2e.browser import chromium  # noqa: E402


@pytest.fixture(scope="session")
def stack(running_stack: Stack) -> StackSettings:
    """The settings (ports, URLs, tokens) of the running embedded stack."""
    return running_stack.settings


@pytest.fixture(scope="session")
def shop_site() -> str:
    """The origin of a shop's own website that embeds the widget: a page on this origin may chat with Rasa
    (CONCIERGE_CHAT_ORIGINS lists it beside the demo shop); any other origin is a foreign site."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="session")
def running_stack(tmp_path_factory: pytest.TempPathFactory, shop_site: str) -> Iterator[Stack]:
    """The whole embedded stack on private ports and a private data folder; stopped afterwards."""
    model = ROOT / "models" / "concierge.tar.gz"
    if not model.exists():
        pytest.fail("no trained model: run scripts/train.sh (make test does it)")
    var_dir = tmp_path_factory.mktemp("stack-var")
    os.environ.setdefault("CONCIERGE_DEMO_CUSTOMERS", "400")
    settings = StackSettings().with_ports(free_base_port(18000, 19000), var_dir).always_open()
    settings = replace(settings, shop_origins=f"{settings.routing_url},{shop_site}")
    with running(settings, var_dir / "stack.log") as stack:
        yield stack


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test module."""
    with chromium() as b:
        yield b


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page in a context of its own (no cookies or storage from another test), 1100 x 800."""
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    try:
        yield context.new_page()
    finally:
        context.close()
