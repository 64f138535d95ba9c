"""A waiting customer sees their place in line count down as agents take the customers ahead, and is told when
their team closes before an agent joins (real stack, Debian Chromium)."""

from __future__ import annotations

import subprocess
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from launcher.settings import ALWAYS_OPEN, ROOT, StackSettings, write_policy_copy
from tests.e2e.agents import AgentSession
from tests.e2e.browser import chromium, wait_until

pytestmark = pytest.mark.clock
ROUTING_PYTHON = ROOT / ".venv" / "routing" / "bin" / "python"
AHEAD = 3
STATUS = "[data-testid=chat-status]"


def _agent(stack: StackSettings) -> AgentSession:
    """A VIP-desk agent of this test's own (room for every claim), signed in and online."""
    login = f"queue-{uuid.uuid4().hex[:6]}"
    subprocess.run([str(ROUTING_PYTHON), "-m", "routing.cli", "agents", "add", "--login", login, "--name", "Quinn",
                    "--password-stdin", "--queues", "vip", "--max-chats", "10"],
                   cwd=ROOT, env=stack.child_env(), check=True, capture_output=True, input=b"queue-test-password\n")
    return AgentSession(stack.routing_url, login, "queue-test-password")


def _escalate_ahead(service: httpx.Client, n: int) -> int:
    """A VIP customer already waiting, with a priority no tier reaches (so they are ahead of the browser's)."""
    name = f"ahead-{uuid.uuid4().hex[:6]}-{n}"
    response = service.post("/escalations", json={
        "conversation_id": name, "idempotency_key": name, "tier": "platinum", "queue": "vip", "priority": 1000,
        "sla_seconds": 60, "reason": "test: waiting ahead", "rule": "test", "intent": "contact_human_agent"})
    response.raise_for_status()
    return int(response.json()["id"])


def test_the_place_in_line_counts_down_and_a_closing_is_announced(stack: StackSettings) -> None:
    service = httpx.Client(base_url=f"{stack.routing_url}/api/v1", timeout=10,
                           headers={"Authorization": f"Bearer {stack.service_token}"})
    agent = _agent(stack)
    ahead = [_escalate_ahead(service, n) for n in range(AHEAD)]
    with chromium() as browser:
        page = browser.new_context(viewport={"width": 1100, "height": 860}).new_page()
        page.goto(f"{stack.routing_url}/shop")
        page.get_by_test_id("login-select").select_option("demo-gold")
        wait_until(page, "document.querySelector('[data-testid=chat-widget]')?.dataset.ready === 'true'"
                               " && sessionStorage.getItem('shop-login') === 'demo-gold'")
        page.get_by_test_id("chat-open").click()
        page.get_by_test_id("chat-input").fill("I want to talk to a human agent")
        page.get_by_test_id("chat-send").click()
        expect(page.locator(".cw-log [data-role=bot]").last).to_contain_text("connecting you", timeout=15000)
        status = page.locator(STATUS)
        expect(status).to_contain_text("in line", timeout=5000)
        first = int(status.inner_text().split("number ")[1].split(" ")[0])
        assert first >= AHEAD + 1
        conversation = page.get_by_test_id("chat-widget").get_attribute("data-session-id")

        for claimed, escalation_id in enumerate(ahead, start=1):
            agent.post(f"/escalations/{escalation_id}/claim")
            expect(status).to_contain_text(f"you're number {first - claimed} in line", timeout=10000)
        (ROOT / "reports" / "screenshots").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ROOT / "reports" / "screenshots" / "widget-queue-position.png"))

        # the VIP desk closes while the customer still waits: the widget says so, and when it opens again
        closed = {"vip": {"timezone": "UTC", "days": ["mon"], "open": "00:00", "close": "00:01"}}
        try:
            write_policy_copy(ROOT / "routing" / "policy.yml", stack.policy_file, hours=closed, default=ALWAYS_OPEN)
            expect(page.locator(".cw-log [data-role=bot]").last).to_contain_text("has just closed", timeout=10000)
            expect(page.locator(".cw-log [data-role=bot]").last).to_contain_text("opens again", timeout=1000)
            expect(status).to_contain_text("closed now", timeout=5000)
        finally:
            write_policy_copy(ROOT / "routing" / "policy.yml", stack.policy_file, default=ALWAYS_OPEN)
    mine = service.get("/escalations/open", params={"conversation_id": conversation})
    if mine.status_code == 200:
        service.post(f"/escalations/{mine.json()['id']}/abandon", json={"reason": "test over"})
    agent.close()
    service.close()
