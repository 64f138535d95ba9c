"""The console tells the agent when a reply did not reach the customer: the routing service (real, over HTTP) cannot
reach Rasa, gives the reply up after its attempts, and the message is marked "Not delivered" live and after a
reload (rendered from an attribute by the stylesheet: the message's text stays text)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from launcher.in_thread import serve_in_thread
from launcher.settings import ALWAYS_OPEN, ROOT, write_policy_copy
from routing.agents.service import create_agent
from routing.app import create_app
from routing.db import upgrade
from routing.settings import Settings
from tests.e2e.agents import sign_in_console
from tests.e2e.browser import chromium, wait_until

TOKEN = "e2e-delivery-service-token"


@pytest.fixture
def routing_url(tmp_path: Path) -> Iterator[str]:
    """The routing service alone, relaying to a Rasa that is not there, giving a reply up after 2 attempts."""
    url = f"sqlite:///{tmp_path / 'routing.db'}"
    upgrade(url)
    policy = write_policy_copy(ROOT / "routing" / "policy.yml", tmp_path / "policy.yml", default=ALWAYS_OPEN)
    app = create_app(Settings(env="development", database_url=url, policy_file=policy, service_token=TOKEN,
                              rasa_url="http://127.0.0.1:9", outbox_max_attempts=2))
    with app.state.sessions.begin() as session:
        create_agent(session, "dora", "Dora", "a-long-password", ["general"])
    with serve_in_thread(app) as url:
        yield url
    app.state.engine.dispose()


def test_a_reply_that_never_arrived_is_marked_not_delivered(routing_url: str) -> None:
    packet = {"conversation_id": "unreachable", "idempotency_key": "unreachable", "tier": "bronze",
              "queue": "general", "summary": "Wants a person", "transcript": [{"role": "customer", "text": "hi"}]}
    created = httpx.post(f"{routing_url}/api/v1/escalations", json=packet, timeout=10,
                         headers={"Authorization": f"Bearer {TOKEN}"})
    created.raise_for_status()
    with chromium() as browser:
        page = browser.new_page()
        sign_in_console(page, routing_url, "dora", "a-long-password")
        page.locator(f"#escalations li[data-id='{created.json()['id']}']").get_by_role("button").click()
        page.get_by_test_id("take").click()
        expect(page.get_by_test_id("packet-status")).to_have_text("assigned", timeout=5000)
        page.get_by_test_id("reply-input").fill("<b>Are you still there?</b>")
        page.get_by_test_id("reply-send").click()

        reply = page.locator(".messages li[data-role=agent]").last
        expect(reply).to_have_text("<b>Are you still there?</b>", timeout=5000)  # text, never markup
        expect(reply).to_have_attribute("data-delivery", "failed", timeout=20000)  # live, without a reload
        shown = "window.getComputedStyle(document.querySelector('.messages li[data-role=agent]:last-child'), " \
                "'::after').content"
        wait_until(page, f"{shown}.includes('Not delivered')")
        assert reply.locator("b").count() == 0

        page.reload()  # the detail API says so too
        expect(page.get_by_test_id("console")).to_have_attribute("data-live", "true", timeout=10000)
        page.locator(f"#escalations li[data-id='{created.json()['id']}']").get_by_role("button").click()
        expect(page.locator(".messages li[data-role=agent]").last).to_have_attribute("data-delivery", "failed",
                                                                                      timeout=5000)
