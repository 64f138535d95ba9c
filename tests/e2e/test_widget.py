"""The demo shop's chat widget talks to the real Rasa server over socket.io, in a real browser."""

from __future__ import annotations

from playwright.sync_api import expect

from launcher.settings import StackSettings
from tests.e2e.browser import chromium


def test_guest_chats_through_the_widget(stack: StackSettings) -> None:
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{stack.routing_url}/shop")
        page.get_by_test_id("chat-open").click()
        expect(page.get_by_test_id("chat-widget")).to_have_attribute("data-ready", "true", timeout=15000)
        page.get_by_test_id("chat-input").fill("hello")
        page.get_by_test_id("chat-send").click()
        bot = page.locator(".cw-log [data-role=bot]")
        expect(bot.first).to_be_visible(timeout=15000)
        assert bot.first.inner_text().strip()
        assert page.locator(".cw-log [data-role=user]").first.inner_text() == "hello"
