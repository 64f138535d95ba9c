"""The agent console in a real browser against the real routing service: cookie session and CSRF, live list with
counts and SLA timers, claim, customer panel, escaped text, canned replies, notes, transfer, resolve, presence."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from launcher.settings import StackSettings
from tests.e2e.agents import sign_in_console
from tests.e2e.browser import chromium

XSS_SCRIPT = "<script>window.__xss = 'script'; alert(1)</script>"
XSS_IMG = "<img src=x onerror=\"window.__xss = 'img'; alert(2)\">"
XSS_FACT = "<img/src=x/onerror=\"window.__xss='fact'\">@example.com"  # an email the routing service's facts accept


def _escalate(stack: StackSettings, queue: str, summary: str, **extra: Any) -> dict[str, Any]:
    packet = {
        "conversation_id": f"console-{uuid.uuid4().hex[:10]}", "idempotency_key": uuid.uuid4().hex,
        "customer_id": None, "tier": "bronze", "tier_reason": "Guest: not signed in", "queue": queue,
        "priority": 10, "sla_seconds": 600, "reason": "Asked twice for a person", "rule": "fairness.repeated_request",
        "intent": "contact_human_agent", "facts": {"order_number": "C-100001"}, "summary": summary,
        "transcript": [{"role": "customer", "text": "I want a person"}, {"role": "bot", "text": "Let me help."}],
        **extra,
    }
    response = httpx.post(f"{stack.routing_url}/api/v1/escalations", json=packet, timeout=10,
                          headers={"Authorization": f"Bearer {stack.service_token}"})
    response.raise_for_status()
    return dict(response.json())


def _customer_says(stack: StackSettings, escalation_id: int, text: str) -> None:
    httpx.post(f"{stack.routing_url}/api/v1/escalations/{escalation_id}/customer-messages", timeout=10,
               json={"text": text, "idempotency_key": uuid.uuid4().hex},
               headers={"Authorization": f"Bearer {stack.service_token}"}).raise_for_status()


def _fetch_status(page: Page, path: str, method: str = "GET", csrf: bool = False) -> int:
    """Status of a same-origin request from the page (its session cookie goes along; the token is not readable)."""
    return int(page.evaluate(
        """async ([path, method, csrf]) => {
             const headers = {"Content-Type": "application/json"};
             if (csrf) headers["X-CSRF-Token"] = (await (await fetch("/api/v1/agent/me")).json()).csrf_token;
             const init = {method, headers};
             if (method !== "GET") init.body = JSON.stringify({status: "away"});
             return (await fetch(path, init)).status;
           }""", [path, method, csrf]))


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
        sign_in_console(page, stack.routing_url, "carol")
        expect(page.get_by_test_id("presence")).to_have_text("● Online")
        waiting_before = int(page.locator("#queues li[data-queue=general]").get_attribute("data-waiting") or 0)
        summary = f"Guest wants a person {uuid.uuid4().hex[:6]}"
        created = _escalate(stack, "general", summary)  # after sign-in: must arrive over the live stream
        item = page.locator(f"#escalations li[data-id='{created['id']}']")
        expect(item).to_be_visible(timeout=5000)
        expect(page.locator("#queues li[data-queue=general]")).to_have_attribute(
            "data-waiting", str(waiting_before + 1))
        expect(item.get_by_test_id("sla-timer")).to_contain_text("left")

        item.get_by_role("button").click()
        expect(page.get_by_test_id("packet-reason")).to_have_text("Asked twice for a person")
        expect(page.get_by_test_id("packet-tier")).to_have_text("bronze")
        expect(page.get_by_test_id("messages")).to_contain_text("I want a person")
        expect(page.get_by_test_id("recent-orders")).to_contain_text("No orders on record.")

        page.get_by_test_id("take").click()
        expect(page.get_by_test_id("packet-status")).to_have_text("assigned", timeout=5000)

        # a canned reply, picked with the keyboard only, fills in the names
        page.get_by_test_id("canned-select").focus()
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Tab")
        expect(page.get_by_test_id("canned-insert")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("reply-input")).to_be_focused()
        expect(page.get_by_test_id("reply-input")).to_have_value(
            "Hi there, this is Carol. I have your conversation in front of me; give me a moment.")
        page.keyboard.press("Enter")
        expect(page.locator(".messages li[data-role=agent]").last).to_have_text(
            "Hi there, this is Carol. I have your conversation in front of me; give me a moment.", timeout=5000)

        page.get_by_test_id("reply-input").fill("Hello, I'm Carol. Let me look at your order.")
        page.get_by_test_id("reply-send").click()
        expect(page.locator(".messages li[data-role=agent]").last).to_have_text(
            "Hello, I'm Carol. Let me look at your order.", timeout=5000)
        expect(page.get_by_test_id("packet-sla")).to_have_text("SLA met", timeout=5000)
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
        expect(item).to_have_count(0)  # closed work leaves the list

        # presence is shown and changes on the server
        page.get_by_test_id("agent-status").select_option("away")
        expect(page.get_by_test_id("presence")).to_have_text("● Away")
        page.get_by_test_id("agent-status").select_option("online")
        expect(page.get_by_test_id("presence")).to_have_text("● Online")


def test_customer_text_is_shown_as_text(stack: StackSettings) -> None:
    created = _escalate(stack, "general", f"Summary {XSS_IMG}", reason=f"Reason {XSS_SCRIPT}",
                        tier_reason=XSS_IMG, facts={"email": XSS_FACT},
                        transcript=[{"role": "customer", "text": XSS_SCRIPT}, {"role": "bot", "text": XSS_IMG}])
    dialogs: list[str] = []
    with chromium() as browser:
        page = browser.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        sign_in_console(page, stack.routing_url, "carol")
        page.locator(f"#escalations li[data-id='{created['id']}'] button").click()
        page.get_by_test_id("take").click()
        expect(page.get_by_test_id("packet-status")).to_have_text("assigned", timeout=5000)
        _customer_says(stack, created["id"], XSS_IMG)  # arrives live over the stream
        messages = page.locator(".messages li[data-role=customer]")
        expect(messages.last).to_have_text(XSS_IMG, timeout=5000)
        expect(messages.first).to_have_text(XSS_SCRIPT)
        expect(page.get_by_test_id("packet-summary")).to_have_text(f"Summary {XSS_IMG}")
        expect(page.get_by_test_id("packet-reason")).to_have_text(f"Reason {XSS_SCRIPT}")
        expect(page.get_by_test_id("packet-tier-reason")).to_have_text(XSS_IMG)
        expect(page.get_by_test_id("packet-facts")).to_have_text(f"email: {XSS_FACT}")
        page.wait_for_timeout(500)
        assert page.locator("#detail img, #detail script").count() == 0
        assert page.evaluate("window.__xss === undefined") and dialogs == []
        page.get_by_test_id("disposition").select_option("resolved")
        page.get_by_test_id("resolve").click()
        expect(page.get_by_test_id("packet-status")).to_have_text("resolved", timeout=5000)


@pytest.mark.clock  # the console's SLA timer counts on the service's clock
def test_sla_timer_turns_overdue_and_transfer_takes_a_reason(stack: StackSettings) -> None:
    with chromium() as browser:
        page = browser.new_page()
        sign_in_console(page, stack.routing_url, "bob")  # bob serves priority and general
        created = _escalate(stack, "general", "Short SLA", sla_seconds=4)
        item = page.locator(f"#escalations li[data-id='{created['id']}']")
        timer = item.get_by_test_id("sla-timer")
        expect(timer).to_contain_text("left", timeout=5000)
        expect(timer).to_have_attribute("data-overdue", "true", timeout=8000)  # ticks without any reload
        expect(timer).to_contain_text("SLA overdue by")
        expect(timer).to_have_class("sla overdue")
        expect(page.locator("#queues li[data-queue=general]").get_by_test_id("queue-oldest")).to_contain_text(
            "oldest waits")

        item.get_by_role("button").click()
        page.get_by_test_id("take").click()
        expect(page.get_by_test_id("packet-status")).to_have_text("assigned", timeout=5000)
        page.get_by_test_id("transfer-queue").select_option("priority")
        page.get_by_test_id("transfer-reason").fill("draft")
        # the first reply makes the panel re-render from a live update: what the agent chose and typed stays
        page.get_by_test_id("reply-input").fill("One moment, I'll pass you to a colleague.")
        page.get_by_test_id("reply-send").click()
        expect(page.get_by_test_id("packet-sla")).to_have_text("SLA missed", timeout=5000)
        expect(page.get_by_test_id("transfer-queue")).to_have_value("priority")
        expect(page.get_by_test_id("transfer-reason")).to_have_value("draft")
        page.get_by_test_id("transfer-reason").fill("")
        page.get_by_test_id("transfer").click()
        expect(page.get_by_test_id("detail-error")).to_have_text("Give a reason for the transfer.")
        expect(page.get_by_test_id("transfer-reason")).to_be_focused()
        page.get_by_test_id("transfer-reason").fill("needs a specialist")
        page.get_by_test_id("transfer").click()
        expect(item).to_have_attribute("data-queue", "priority", timeout=5000)
        expect(page.get_by_test_id("packet-status")).to_have_text("waiting")
        events = [e for e in page.evaluate(
            "async (id) => (await (await fetch(`/api/v1/agent/escalations/${id}`)).json()).events", created["id"])
            if e["kind"] == "transferred"]
        assert "needs a specialist" in events[0]["reason"]
        page.get_by_test_id("take").click()
        expect(page.get_by_test_id("packet-status")).to_have_text("assigned", timeout=5000)
        page.get_by_test_id("handback").click()
        expect(page.get_by_test_id("packet-status")).to_have_text("returned_to_bot", timeout=5000)


def test_session_cookie_csrf_and_sign_out(stack: StackSettings) -> None:
    vip = _escalate(stack, "vip", "VIP customer needs help")
    with chromium() as browser:
        context = browser.new_context()
        page = context.new_page()
        sign_in_console(page, stack.routing_url, "carol")

        # an agent sees only their queues, in the list and through the API
        expect(page.get_by_test_id("queues")).not_to_contain_text("VIP")
        expect(page.locator(f"#escalations li[data-id='{vip['id']}']")).to_have_count(0)
        assert _fetch_status(page, f"/api/v1/agent/escalations/{vip['id']}") == 404

        # the session is an HttpOnly, SameSite=Strict cookie the page's script cannot read; nothing in storage
        cookie = next(c for c in context.cookies() if c["name"] == "concierge_agent")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
        assert "concierge_agent" not in page.evaluate("document.cookie")
        assert page.evaluate("sessionStorage.length + localStorage.length") == 0

        # state changes need the CSRF token as well as the cookie
        assert _fetch_status(page, "/api/v1/agent/status", "POST") == 403
        assert _fetch_status(page, "/api/v1/agent/status", "POST", csrf=True) == 200

        # a reload keeps the session; signing out ends it for good
        page.reload()
        expect(page.get_by_test_id("console")).to_have_attribute("data-live", "true", timeout=10000)
        expect(page.get_by_test_id("presence")).to_have_text("● Away")
        page.get_by_test_id("logout").click()
        expect(page.get_by_test_id("login-view")).to_be_visible()
        assert all(c["name"] != "concierge_agent" for c in context.cookies())
        assert _fetch_status(page, "/api/v1/agent/me") == 401
        page.reload()
        expect(page.get_by_test_id("login-view")).to_be_visible()
        expect(page.get_by_test_id("console")).to_be_hidden()
        context.close()
