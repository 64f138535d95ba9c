"""The agent console in a real browser against the real routing service: live list, claim, reply, notes, resolve."""

from __future__ import annotations

import uuid

import httpx
from playwright.sync_api import Page, expect

from launcher.settings import StackSettings
from tests.e2e.browser import chromium


def _escalate(stack: StackSettings, queue: str, summary: str) -> dict:
    packet = {
        "conversation_id": f"console-{uuid.uuid4().hex[:10]}", "idempotency_key": uuid.uuid4().hex,
        "customer_id": None, "tier": "bronze", "tier_reason": "Guest: not signed in", "queue": queue,
        "priority": 10, "sla_seconds": 600, "reason": "Asked twice for a person", "rule": "fairness.repeated_request",
        "intent": "contact_human_agent", "facts": {"order_number": "C-100001"}, "summary": summary,
        "transcript": [{"role": "customer", "text": "I want a person"}, {"role": "bot", "text": "Let me help."}],
    }
    response = httpx.post(f"{stack.routing_url}/api/v1/escalations", json=packet, timeout=10,
                          headers={"Authorization": f"Bearer {stack.service_token}"})
    response.raise_for_status()
    return response.json()


def _sign_in(page: Page, stack: StackSettings, login: str) -> None:
    page.goto(f"{stack.routing_url}/console")
    page.get_by_test_id("login-name").fill(login)
    page.get_by_test_id("login-password").fill("demo")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("console")).to_have_attribute("data-live", "true", timeout=10000)


def test_wrong_password_is_refused(stack: StackSettings) -> None:
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{stack.routing_url}/console")
        page.get_by_test_id("login-name").fill("carol")
        page.get_by_test_id("login-password").fill("nope")
        page.get_by_test_id("login-submit").click()
        expect(page.get_by_test_id("login-error")).not_to_be_empty()
        expect(page.get_by_test_id("console")).to_be_hidden()


def test_agent_takes_replies_notes_and_resolves(stack: StackSettings) -> None:
    with chromium() as browser:
        page = browser.new_page()
        _sign_in(page, stack, "carol")
        summary = f"Guest wants a person {uuid.uuid4().hex[:6]}"
        created = _escalate(stack, "general", summary)  # after sign-in: must arrive over the live stream
        item = page.locator(f"#escalations li[data-id='{created['id']}']")
        expect(item).to_be_visible(timeout=5000)

        item.click()
        expect(page.get_by_test_id("packet-reason")).to_have_text("Asked twice for a person")
        expect(page.get_by_test_id("packet-tier")).to_have_text("bronze")
        expect(page.get_by_test_id("messages")).to_contain_text("I want a person")

        page.get_by_test_id("take").click()
        expect(page.get_by_test_id("packet-status")).to_have_text("assigned", timeout=5000)

        page.get_by_test_id("reply-input").fill("Hello, I'm Carol. Let me look at your order.")
        page.get_by_test_id("reply-send").click()
        expect(page.locator(".messages li[data-role=agent]").last).to_have_text(
            "Hello, I'm Carol. Let me look at your order.", timeout=5000)
        page.get_by_test_id("note-input").fill("Customer sounded in a hurry")
        page.get_by_test_id("note-send").click()
        expect(page.get_by_test_id("notes")).to_contain_text("Customer sounded in a hurry")

        # the customer's side never sees the note
        status = httpx.get(f"{stack.routing_url}/api/v1/escalations/{created['id']}", timeout=10,
                           headers={"Authorization": f"Bearer {stack.service_token}"}).json()
        assert "hurry" not in str(status)

        page.get_by_test_id("disposition").select_option("info_provided")
        page.get_by_test_id("resolve").click()
        expect(page.get_by_test_id("packet-status")).to_have_text("resolved", timeout=5000)


def test_general_agent_cannot_see_vip(stack: StackSettings) -> None:
    vip = _escalate(stack, "vip", "VIP customer needs help")
    with chromium() as browser:
        page = browser.new_page()
        _sign_in(page, stack, "carol")
        expect(page.get_by_test_id("queues")).not_to_contain_text("VIP")
        expect(page.locator(f"#escalations li[data-id='{vip['id']}']")).to_have_count(0)
        status = page.evaluate(
            "async (id) => (await fetch(`/api/v1/agent/escalations/${id}`, "
            "{headers: {Authorization: 'Bearer ' + sessionStorage.getItem('agent-token')}})).status",
            vip["id"],
        )
        assert status == 404
