"""CSAT in real Chromium: after a person hands the chat back, the widget asks one question; the answer is stored
with the escalation, and the question never stands in the way of chatting on. The rating key the routing service
sent through Rasa is what lets the widget rate: without it, or with a changed answer, the service refuses."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from launcher.settings import StackSettings
from routing.analytics.models import CsatRating
from routing.db import make_engine
from tests.e2e.agents import AgentSession
from tests.e2e.browser import wait_until
from tests.e2e.test_widget import BOT, SCREENSHOTS, WIDGET_READY, expect_reply, open_shop, say, session_id


def ratings(stack: StackSettings, conversation_id: str) -> list[tuple[int, str | None]]:
    engine = make_engine(stack.database_url)
    try:
        with Session(engine) as s:
            return [(r.rating, r.comment) for r in s.scalars(
                select(CsatRating).where(CsatRating.conversation_id == conversation_id))]
    finally:
        engine.dispose()


def rating_key_of(page: Page) -> str | None:
    """The rating key the widget keeps with its question (in the tab's sessionStorage)."""
    key: str | None = page.evaluate("""() => {
        for (let i = 0; i < sessionStorage.length; i++) {
            const name = sessionStorage.key(i);
            if (!name.startsWith("concierge-chat:")) continue;  // the widget's STORE_PREFIX
            const state = JSON.parse(sessionStorage.getItem(name) || "{}");
            for (const entry of state.entries || []) if (entry.csat) return entry.csat.key;
        }
        return null;
    }""")
    return key


def rating_key_in_tracker(stack: StackSettings, conversation: str) -> str | None:
    """The `rating_key` entity of the conversation's EXTERNAL_handoff_ended in Rasa's tracker."""
    tracker = httpx.get(f"{stack.rasa_url}/conversations/{conversation}/tracker",
                        params={"token": stack.rasa_token}, timeout=10).json()
    keys = [entity["value"] for event in tracker["events"] if event["event"] == "user"
            for entity in (event.get("parse_data") or {}).get("entities", []) if entity["entity"] == "rating_key"]
    return keys[-1] if keys else None


def handoff_and_back(page: Page, stack: StackSettings, support: AgentSession, login: str) -> str:
    """Sign in as `login`, reach a person, get one answer, and let the agent resolve the chat."""
    open_shop(page, stack, login)
    page.get_by_test_id("chat-open").click()
    say(page, "hello")
    expect_reply(page, 0, "Concierge")
    say(page, "I want to talk to a human agent")
    expect(page.get_by_test_id("chat-title")).to_have_text("Waiting for a person", timeout=15000)
    conversation = session_id(page)
    packet = support.find(conversation)
    support.post(f"/escalations/{packet['id']}/claim")
    support.post(f"/escalations/{packet['id']}/messages", {"text": "Your refund left today."})
    expect(page.get_by_test_id("chat-title")).to_have_text("You're chatting with Alice", timeout=5000)
    support.post(f"/escalations/{packet['id']}/resolve", {"disposition": "info_provided"})
    expect(page.get_by_test_id("chat-title")).to_have_text("Concierge", timeout=5000)
    return conversation


def test_the_customer_rates_the_chat_after_the_handoff(page: Page, stack: StackSettings) -> None:
    support = AgentSession(stack.routing_url, "alice")
    try:
        conversation = handoff_and_back(page, stack, support, "demo-platinum")
        card = page.get_by_test_id("csat")
        expect(card).to_contain_text("How was your chat with Alice?", timeout=5000)
        expect(page.get_by_test_id("csat-send")).to_be_disabled()

        # the question does not block the chat: the customer talks to the bot first
        bot_replies = page.locator(BOT).count()
        say(page, "hello")
        expect(page.locator(BOT)).to_have_count(bot_replies + 1, timeout=15000)
        expect(card).to_be_visible()

        page.get_by_test_id("csat-4").click()
        expect(page.get_by_test_id("csat-4")).to_have_attribute("aria-pressed", "true")
        page.get_by_test_id("csat-comment").fill("Quick, thanks")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "widget-csat.png"))
        key = rating_key_of(page)
        assert key and key == rating_key_in_tracker(stack, conversation)  # from the routing service, through Rasa
        page.get_by_test_id("csat-send").click()
        expect(page.locator(".cw-log [data-role=notice]").last).to_have_text("Thank you for your feedback")
        expect(card).to_have_count(0)
        for _ in range(50):  # the widget does not wait for the answer: poll the database for a moment
            if ratings(stack, conversation):
                break
            page.wait_for_timeout(100)
        assert ratings(stack, conversation) == [(4, "Quick, thanks")]

        # what the widget sent is accepted again as it is; without the key, or changed, it is refused
        csat = f"{stack.routing_url}/api/v1/csat"
        sent = {"conversation_id": conversation, "rating": 4, "comment": "Quick, thanks", "rating_key": key}
        assert httpx.post(csat, json=sent, timeout=10).status_code == 201
        assert httpx.post(csat, json={**sent, "rating": 1}, timeout=10).status_code == 409
        no_key = {k: v for k, v in sent.items() if k != "rating_key"}
        assert httpx.post(csat, json={**no_key, "rating": 1}, timeout=10).status_code == 403
        assert ratings(stack, conversation) == [(4, "Quick, thanks")]

        # a reload keeps the thanks, not the question
        page.reload()
        wait_until(page, WIDGET_READY)
        expect(page.get_by_test_id("csat")).to_have_count(0)
    finally:
        support.close()


def test_no_thanks_removes_the_question_and_stores_nothing(page: Page, stack: StackSettings) -> None:
    support = AgentSession(stack.routing_url, "alice")
    try:
        conversation = handoff_and_back(page, stack, support, "demo-gold")
        expect(page.get_by_test_id("csat")).to_be_visible(timeout=5000)
        page.get_by_test_id("csat-skip").click()
        expect(page.get_by_test_id("csat")).to_have_count(0)
        assert ratings(stack, conversation) == []
    finally:
        support.close()
