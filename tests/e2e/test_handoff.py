"""The whole handoff over real processes: widget (socket.io) ↔ Rasa ↔ actions ↔ routing service ↔ agent API."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
from playwright.sync_api import Page, expect

from clock import utcnow
from launcher.settings import StackSettings
from tests.e2e.agents import AgentSession
from tests.e2e.browser import chromium, wait_until
from tests.e2e.customers import RestCustomer, conversation_tracker, shop_token

pytestmark = pytest.mark.clock  # about hours, SLAs, expiry or dates: CI runs it at other instants too

BOT_MESSAGES = ".cw-log [data-role=bot]"
AGENT_MESSAGES = ".cw-log [data-role=agent]"


def _open_chat(page: Page, stack: StackSettings, login: str) -> str:
    page.goto(f"{stack.routing_url}/shop")
    page.get_by_test_id("login-select").select_option(login)
    wait_until(page, "document.querySelector('[data-testid=chat-widget]')?.dataset.ready === 'true'"
                           " && sessionStorage.getItem('shop-login') !== null")
    page.get_by_test_id("chat-open").click()
    expect(page.get_by_test_id("chat-widget")).to_have_attribute("data-ready", "true", timeout=15000)
    return page.get_by_test_id("chat-widget").get_attribute("data-session-id") or ""


def _say(page: Page, text: str) -> None:
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("chat-send").click()


def _expect_bot(page: Page, count_before: int, contains: str, timeout: float = 15000) -> None:
    expect(page.locator(BOT_MESSAGES).nth(count_before)).to_be_visible(timeout=timeout)
    expect(page.locator(BOT_MESSAGES).last).to_contain_text(contains, timeout=timeout)


@pytest.mark.parametrize(
    ("login", "agent", "queue", "requests_needed"),
    [("demo-platinum", "alice", "vip", 1), ("demo-bronze", "carol", "general", 2)],
)
def test_customer_reaches_a_human_and_back(stack: StackSettings, login: str, agent: str, queue: str,
                                           requests_needed: int) -> None:
    support = AgentSession(stack.routing_url, agent)
    try:
        with chromium() as browser:
            page = browser.new_page()
            conversation = _open_chat(page, stack, login)

            # ask for a person: platinum gets one at once, bronze is offered self-service first
            for attempt in range(requests_needed):
                before = page.locator(BOT_MESSAGES).count()
                _say(page, "I want to talk to a human agent")
                expect(page.locator(BOT_MESSAGES)).not_to_have_count(before, timeout=15000)
                if attempt < requests_needed - 1:
                    expect(page.locator(BOT_MESSAGES).last).to_contain_text("human")
            expect(page.locator(BOT_MESSAGES).last).to_contain_text("connecting you", timeout=10000)

            packet = support.find(conversation)
            assert packet["queue"] == queue and packet["status"] == "waiting"
            assert packet["tier"] == login.removeprefix("demo-") and packet["tier_reason"]
            assert packet["intent"] == "contact_human_agent" and packet["reason"] and packet["rule"]
            assert any("talk to a human" in line["text"] for line in packet["transcript"])
            assert packet["summary"]

            # the agent takes it: the customer is told, then the agent's reply arrives in the widget
            support.post(f"/escalations/{packet['id']}/claim")
            expect(page.locator(AGENT_MESSAGES).first).to_contain_text("has joined the chat", timeout=5000)
            expect(page.locator(AGENT_MESSAGES).first).to_have_attribute("data-from", agent.capitalize())
            reply = f"Hello, this is {agent} {uuid.uuid4().hex[:4]}. How can I help?"
            sent_at = time.monotonic()
            support.post(f"/escalations/{packet['id']}/messages", {"text": reply})
            expect(page.locator(AGENT_MESSAGES).last).to_have_text(reply, timeout=5000)
            print(f"agent reply reached the widget in {time.monotonic() - sent_at:.3f}s")

            # the customer's next message goes to the agent and the bot says nothing
            bot_count = page.locator(BOT_MESSAGES).count()
            _say(page, "My parcel has not arrived")
            seconds = support.wait_for_customer_message(packet["id"], "My parcel has not arrived")
            print(f"customer message reached the agent in {seconds:.3f}s")
            page.wait_for_timeout(1500)
            assert page.locator(BOT_MESSAGES).count() == bot_count, "the bot talked over the agent"

            # hand back: the bot resumes in context, then answers normally again
            support.post(f"/escalations/{packet['id']}/handback", {"disposition": "info_provided"})
            _expect_bot(page, bot_count, "anything else", timeout=5000)
            before = page.locator(BOT_MESSAGES).count()
            _say(page, "which payment methods do you accept?")
            expect(page.locator(BOT_MESSAGES)).not_to_have_count(before, timeout=15000)

            # the whole conversation, human turns included, is in Rasa's tracker store
            events = conversation_tracker(stack, conversation)["events"]
            assert any(e["event"] == "bot" and e.get("text") == reply
                       and (e.get("metadata") or {}).get("source") == "human" for e in events)
            assert any(e["event"] == "user" and e.get("text") == "My parcel has not arrived" for e in events)
            assert support.detail(packet["id"])["status"] == "returned_to_bot"
    finally:
        support.close()


def test_forged_token_and_typed_email_never_grant_a_tier(stack: StackSettings) -> None:
    now = int(utcnow().timestamp())  # the stack's clock: the forgery must fail on its signature alone
    forged = jwt.encode({"sub": "demo-platinum", "iat": now, "exp": now + 600},
                        "not-the-shop-secret-but-long-enough-for-hs256", algorithm="HS256")
    customer = RestCustomer(stack, "forger", forged)

    customer.say("hello")
    customer.say("my email is platinum@example.com")
    replies = customer.say("I want to talk to a human agent")
    slots = customer.tracker()["slots"]
    assert slots["tier"] == "bronze" and slots["verified"] is False and slots["customer_id"] is None
    assert not slots["handoff_active"], "a forged platinum token got an immediate human"
    assert all("connecting you" not in r.get("text", "") for r in replies)

    # and the order of a platinum customer stays private
    replies = customer.say("where is my order C-100001")
    assert all("shipped on" not in r.get("text", "") and "Tracking" not in r.get("text", "") for r in replies)


def test_a_handoff_survives_a_new_session(stack: StackSettings) -> None:
    """Rasa starts a new session after session_expiration_time; the customer must stay with the agent."""
    customer = RestCustomer(stack, "session", shop_token(stack, "demo-gold"))
    support = AgentSession(stack.routing_url, "alice")
    try:
        assert any("connecting you" in r.get("text", "") for r in customer.say("can I speak to a person please"))
        packet = support.find(customer.sender)
        assert packet["tier"] == "gold"
        support.post(f"/escalations/{packet['id']}/claim")

        assert customer.say("/session_start") == []  # a new session starts while the agent holds the conversation
        assert customer.tracker()["slots"]["handoff_active"] is True
        assert customer.say("are you still there?") == [], "the bot answered during the handoff"
        support.wait_for_customer_message(packet["id"], "are you still there?")
        support.post(f"/escalations/{packet['id']}/resolve", {"disposition": "resolved"})
    finally:
        support.close()
