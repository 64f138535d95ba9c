"""The whole web journey in one browser: a customer on the demo shop (widget) and an agent in the console.

The customer gets a routine answer from the bot, is signed in as the platinum demo customer and asks for a person;
the agent's console shows the escalation within a second, the agent takes it, reads the packet, replies; the
customer sees the reply labelled with the agent's name; the agent hands back and the bot answers again.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from launcher.settings import ROOT, StackSettings
from tests.e2e.agents import sign_in_console
from tests.e2e.browser import chromium, wait_until

pytestmark = pytest.mark.clock  # about hours, SLAs, expiry or dates: CI runs it at other instants too

SCREENSHOTS = ROOT / "reports" / "screenshots"  # gitignored; docs/console.png is a copy of the console one
BOT = ".cw-log [data-role=bot]"
AGENT = ".cw-log [data-role=agent]"
ROUTINE_QUESTION = "what payment methods do you take?"
NEXT_ROUTINE_QUESTION = "which payment methods do you accept?"

# Epoch milliseconds (Date.now(), one clock for both pages of the browser) when something first shows on a page.
WATCH = """([selector, needle, key]) => {
  const seen = () => [...document.querySelectorAll(selector)].some((n) => n.textContent.includes(needle));
  if (seen()) { window[key] = Date.now(); return; }
  const observer = new MutationObserver(() => {
    if (seen()) { window[key] = window[key] || Date.now(); observer.disconnect(); }
  });
  observer.observe(document.body, {childList: true, subtree: true, characterData: true, attributes: true});
}"""


def _say(page: Page, text: str) -> int:
    """Send `text` from the widget; returns how many bot messages were shown before."""
    before = page.locator(BOT).count()
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("chat-send").click()
    return before


def _bot_answers(page: Page, before: int, contains: str, timeout: float = 15000) -> None:
    expect(page.locator(BOT).nth(before)).to_be_visible(timeout=timeout)
    expect(page.locator(BOT).last).to_contain_text(contains, timeout=timeout)


def _screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def test_customer_and_agent_web_journey(stack: StackSettings) -> None:
    with chromium() as browser:
        agent = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
        customer = browser.new_context(viewport={"width": 1100, "height": 860}).new_page()

        # the agent is signed in through the console's form (and online: someone staffs the VIP desk)
        sign_in_console(agent, stack.routing_url, "alice")
        expect(agent.get_by_test_id("presence")).to_have_text("● Online")

        # the customer signs in on the shop as the platinum demo customer and opens the chat
        customer.goto(f"{stack.routing_url}/shop")
        customer.get_by_test_id("login-select").select_option("demo-platinum")
        wait_until(customer, "document.querySelector('[data-testid=chat-widget]')?.dataset.ready === 'true'"
                                   " && sessionStorage.getItem('shop-login') === 'demo-platinum'")
        customer.get_by_test_id("chat-open").click()
        expect(customer.get_by_test_id("chat-widget")).to_have_attribute("data-ready", "true", timeout=15000)
        conversation = customer.get_by_test_id("chat-widget").get_attribute("data-session-id")
        assert conversation

        # a routine question: the bot answers it
        before = _say(customer, ROUTINE_QUESTION)
        _bot_answers(customer, before, "Visa")

        # asking for a person: measure from the widget's "connecting you" to the escalation in the console list
        customer.evaluate(WATCH, [BOT, "connecting you", "__connectingAt"])
        agent.evaluate(WATCH, [f"#escalations li[data-conversation='{conversation}']", "", "__listedAt"])
        asked_at = customer.evaluate("Date.now()")
        before = _say(customer, "I want to talk to a human agent")
        _bot_answers(customer, before, "connecting you")
        item = agent.locator(f"#escalations li[data-conversation='{conversation}']")
        expect(item).to_be_visible(timeout=5000)
        wait_until(agent, "window.__listedAt !== undefined")
        listed_after = (agent.evaluate("window.__listedAt") - customer.evaluate("window.__connectingAt")) / 1000
        print(f"escalation shown in the console {listed_after:.3f}s after the widget said 'connecting you' "
              f"({(agent.evaluate('window.__listedAt') - asked_at) / 1000:.3f}s after the customer asked)")
        assert listed_after < 1.0
        expect(item).to_have_attribute("data-queue", "vip")
        expect(item.get_by_test_id("sla-timer")).to_contain_text("SLA")

        # the agent opens it, reads the packet and takes it
        item.get_by_role("button").click()
        expect(agent.get_by_test_id("packet-tier")).to_have_text("platinum")
        expect(agent.get_by_test_id("packet-tier-reason")).not_to_be_empty()
        expect(agent.get_by_test_id("packet-tier-reason")).not_to_have_text("—")
        expect(agent.get_by_test_id("packet-reason")).not_to_have_text("—")
        expect(agent.get_by_test_id("packet-summary")).not_to_have_text("—")
        expect(agent.get_by_test_id("packet-customer")).not_to_have_text("Guest")
        expect(agent.get_by_test_id("packet-ltv")).to_contain_text("$")
        expect(agent.locator("[data-testid=recent-orders] tbody tr[data-order]").first).to_be_visible()
        transcript = agent.locator(".messages li[data-source=transcript]")
        expect(transcript.filter(has_text=ROUTINE_QUESTION)).to_have_count(1)
        expect(transcript.filter(has_text="Visa")).not_to_have_count(0)
        agent.get_by_test_id("take").click()
        expect(agent.get_by_test_id("packet-status")).to_have_text("assigned", timeout=5000)
        expect(customer.locator(AGENT).first).to_contain_text("has joined the chat", timeout=5000)

        # the agent replies from the console; the customer sees it labelled with the agent's name
        reply = f"Hello, this is Alice from the VIP desk ({uuid.uuid4().hex[:4]}). How can I help?"
        agent.get_by_test_id("reply-input").fill(reply)
        agent.get_by_test_id("reply-send").click()
        expect(customer.locator(AGENT).last).to_have_text(reply, timeout=5000)
        expect(customer.locator(AGENT).last).to_have_attribute("data-from", "Alice")

        # the customer answers; the agent sees it live, after the transcript
        customer_line = "Thanks Alice, it's about my last order."
        _say(customer, customer_line)
        expect(agent.locator(".messages li[data-role=customer]").last).to_have_text(customer_line, timeout=5000)
        expect(agent.get_by_test_id("packet-status")).to_have_text("active")

        customer_shot = _screenshot(customer, "web-journey-customer.png")
        console_shot = _screenshot(agent, "web-journey-console.png")
        assert customer_shot.stat().st_size > 10_000 and console_shot.stat().st_size > 10_000

        # the agent hands back; the bot picks up again and answers the next routine question
        bot_count = customer.locator(BOT).count()
        agent.get_by_test_id("disposition").select_option("info_provided")
        agent.get_by_test_id("handback").click()
        expect(agent.get_by_test_id("packet-status")).to_have_text("returned_to_bot", timeout=5000)
        _bot_answers(customer, bot_count, "anything else", timeout=10000)
        before = _say(customer, NEXT_ROUTINE_QUESTION)
        _bot_answers(customer, before, "Visa")
        _screenshot(customer, "web-journey-customer-after-handback.png")
