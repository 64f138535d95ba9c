"""The chat widget in real Chromium against the real stack: Rasa's socket.io channel, the routing service, an agent."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from launcher.settings import StackSettings
from tests.e2e.agents import AgentSession
from tests.e2e.browser import site, wait_until
from tests.e2e.customers import conversation_tracker, shop_token

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "reports" / "screenshots"
BOT = ".cw-log [data-role=bot]"
AGENT = ".cw-log [data-role=agent]"
USER = ".cw-log [data-role=user]"
WIDGET_READY = "document.querySelector('[data-testid=chat-widget]')?.dataset.ready === 'true'"


def open_shop(page: Page, stack: StackSettings, login: str = "") -> None:
    """The demo shop, signed in as `login` (guest if empty), with the widget connected (the chat still closed)."""
    page.goto(f"{stack.routing_url}/shop")
    wait_until(page, WIDGET_READY)
    if login:
        page.get_by_test_id("login-select").select_option(login)
        wait_until(page, f"{WIDGET_READY} && sessionStorage.getItem('shop-login') === '{login}'")


def session_id(page: Page) -> str:
    return page.get_by_test_id("chat-widget").get_attribute("data-session-id") or ""


def say(page: Page, text: str) -> None:
    """Type a message and press Enter."""
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("chat-input").press("Enter")


def expect_reply(page: Page, bot_before: int, contains: str, timeout: float = 15000) -> None:
    expect(page.locator(BOT).nth(bot_before)).to_be_visible(timeout=timeout)
    expect(page.locator(BOT).filter(has_text=contains)).not_to_have_count(0, timeout=timeout)


def log_texts(page: Page) -> list[str]:
    return [t.strip() for t in page.locator(".cw-log > li").all_inner_texts()]


def test_guest_chats_with_typing_indicator_and_buttons(page: Page, stack: StackSettings) -> None:
    open_shop(page, stack)
    page.get_by_test_id("chat-open").click()
    expect(page.get_by_test_id("chat-input")).to_be_focused()
    # record what the typing indicator shows (the reply may come faster than any polling)
    page.evaluate("""() => {
        window.typingSeen = [];
        const node = document.querySelector('[data-testid=chat-typing]');
        new MutationObserver(() => window.typingSeen.push(node.textContent))
            .observe(node, {childList: true, characterData: true, subtree: true});
    }""")
    page.get_by_test_id("chat-input").fill("hello")
    page.get_by_test_id("chat-send").click()
    expect_reply(page, 0, "Concierge")
    assert page.locator(USER).first.inner_text() == "hello"
    assert "Concierge is typing…" in page.evaluate("window.typingSeen")
    expect(page.get_by_test_id("chat-typing")).to_have_text("")
    expect(page.get_by_test_id("chat-typing")).to_have_attribute("aria-live", "polite")

    # the greeting's payload buttons: the title is shown, the payload is sent
    buttons = page.locator(".cw-log .cw-buttons button")
    expect(buttons).to_have_text(["Where is my order?", "Delivery times"])
    bot_before = page.locator(BOT).count()
    buttons.filter(has_text="Delivery times").click()
    expect(page.locator(USER).last).to_have_text("Delivery times")
    expect_reply(page, bot_before, "business days")
    expect(page.locator(".cw-log .cw-buttons")).to_have_count(0)  # used up
    events = conversation_tracker(stack, session_id(page))["events"]
    assert any(e["event"] == "user" and e.get("text") == "/delivery_period" for e in events)


def test_a_reload_keeps_the_conversation_and_another_customer_does_not_see_it(page: Page,
                                                                             stack: StackSettings) -> None:
    open_shop(page, stack, "demo-silver")
    page.get_by_test_id("chat-open").click()
    say(page, "hello")
    expect_reply(page, 0, "Concierge")
    say(page, "what payment methods do you accept?")
    expect_reply(page, 1, "PayPal")
    before, conversation = log_texts(page), session_id(page)

    page.reload()
    wait_until(page, WIDGET_READY)
    assert session_id(page) == conversation
    expect(page.get_by_test_id("chat-input")).to_be_visible()  # still open
    assert log_texts(page) == before
    say(page, "how long does delivery take?")  # the same Rasa conversation goes on
    expect(page.locator(BOT).filter(has_text="business days")).to_have_count(1, timeout=15000)
    events = conversation_tracker(stack, conversation)["events"]
    assert [e["text"] for e in events if e["event"] == "user"][:2] == ["hello", "what payment methods do you accept?"]

    page.keyboard.press("Escape")
    page.reload()
    wait_until(page, WIDGET_READY)
    expect(page.get_by_test_id("chat-input")).to_be_hidden()  # closed stays closed

    # someone else signs in on this tab: a new conversation, and none of the previous customer's messages
    page.get_by_test_id("login-select").select_option("demo-gold")
    wait_until(page, f"{WIDGET_READY} && sessionStorage.getItem('shop-login') === 'demo-gold'")
    assert session_id(page) != conversation
    expect(page.locator(".cw-log > li")).to_have_count(0)
    assert "PayPal" not in page.content()


def test_links_and_images_from_the_bot_are_safe_elements(page: Page, stack: StackSettings) -> None:
    open_shop(page, stack)
    page.get_by_test_id("chat-open").click()
    say(page, "are you a bot?")
    image = page.locator(".cw-log [data-role=bot] img")
    expect(image).to_have_count(1, timeout=15000)
    assert image.get_attribute("src") == f"{stack.routing_url}/static/img/concierge.svg"  # relative to the widget
    assert image.get_attribute("alt")
    wait_until(page, "document.querySelector('.cw-log img').naturalWidth > 0")  # it really loaded

    say(page, "what is your refund policy?")
    link = page.locator(".cw-log [data-role=bot] a")
    expect(link).to_have_count(1, timeout=15000)
    expect(link).to_have_text("our returns page")
    assert link.get_attribute("href") == "https://shop.example.com/help/returns"
    assert link.get_attribute("target") == "_blank"
    assert link.get_attribute("rel") == "noopener noreferrer"
    assert "[our returns page]" not in page.locator(BOT).last.inner_text()


def test_what_the_customer_types_is_shown_as_text_and_never_runs(page: Page, stack: StackSettings) -> None:
    open_shop(page, stack)
    page.get_by_test_id("chat-open").click()
    typed = ['<img src=x onerror="window.pwned=1">', "<script>window.pwned=2</script>",
             "[click me](javascript:window.pwned=3) https://example.com/<b>x</b>"]
    for text in typed:
        say(page, text)
    expect(page.locator(USER)).to_have_text(typed)
    page.wait_for_timeout(1500)  # the bot answers too; nothing of it may run either
    assert page.locator(".cw-log img, .cw-log script, .cw-log b, .cw-log [data-role=user] a").count() == 0
    assert page.evaluate("window.pwned") is None


def test_keyboard_only(page: Page, stack: StackSettings) -> None:
    open_shop(page, stack)
    for _ in range(10):  # Tab from the top of the page to the chat button
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.testid") == "chat-open":
            break
    expect(page.get_by_test_id("chat-open")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("chat-input")).to_be_focused()
    expect(page.get_by_test_id("chat-open")).to_have_attribute("aria-expanded", "true")
    page.keyboard.type("hello")
    page.keyboard.press("Enter")
    expect_reply(page, 0, "Concierge")
    expect(page.locator(".cw-log .cw-buttons button")).to_have_count(2)

    page.keyboard.press("Shift+Tab")  # from the input back to the reply buttons
    focused = page.locator(".cw-log .cw-buttons button").last
    expect(focused).to_be_focused()
    outline = focused.evaluate("b => getComputedStyle(b).outlineStyle + ' ' + getComputedStyle(b).outlineWidth")
    assert not outline.startswith("none") and not outline.endswith(" 0px"), outline  # a visible focus ring
    bot_before = page.locator(BOT).count()
    page.keyboard.press("Enter")
    expect(page.locator(USER).last).to_have_text("Delivery times")
    expect_reply(page, bot_before, "business days")
    expect(page.get_by_test_id("chat-input")).to_be_focused()

    page.keyboard.press("Escape")
    expect(page.get_by_test_id("chat-input")).to_be_hidden()
    expect(page.get_by_test_id("chat-open")).to_be_focused()
    expect(page.get_by_test_id("chat-open")).to_have_attribute("aria-expanded", "false")

    # what a screen reader is told
    page.keyboard.press("Enter")
    expect(page.get_by_role("log", name="Conversation")).to_have_attribute("aria-live", "polite")
    expect(page.get_by_role("textbox", name="Your message")).to_be_focused()
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    expect(page.get_by_role("button", name="Close chat")).to_be_visible()


def test_phone_sized_screen(browser: Browser, stack: StackSettings) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    try:
        page = context.new_page()
        open_shop(page, stack)
        page.get_by_test_id("chat-open").tap()
        for text in ("hello", "how long does delivery take?", "what payment methods do you accept?"):
            count = page.locator(BOT).count()
            say(page, text)
            expect(page.locator(BOT).nth(count)).to_be_visible(timeout=15000)
        panel = page.locator(".cw-panel").bounding_box()
        assert panel == {"x": 0, "y": 0, "width": 375, "height": 667}, panel  # fills the screen
        for control in ("chat-input", "chat-send", "chat-close"):
            box = page.get_by_test_id(control).bounding_box()
            assert box and box["x"] >= 0 and box["y"] >= 0, control
            assert box["x"] + box["width"] <= 375 and box["y"] + box["height"] <= 667, (control, box)
        expect(page.locator(BOT).last).to_be_in_viewport()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "widget-phone.png"))
    finally:
        context.close()


def test_one_script_tag_embeds_it_on_the_shops_own_site(page: Page, stack: StackSettings, shop_site: str) -> None:
    token = shop_token(stack, "demo-gold")
    html = f"""<!doctype html><html lang="en"><head><title>Another shop</title></head><body>
      <h1>Another shop</h1>
      <script>window.ConciergeConfig = {{rasaUrl: "{stack.rasa_url}", customerToken: "{token}"}};</script>
      <script src="{stack.routing_url}/static/widget.js" async></script></body></html>"""
    with site(html, shop_site) as url:  # the shop's website, one of CONCIERGE_CHAT_ORIGINS
        page.goto(url)
        wait_until(page, WIDGET_READY)
        assert page.locator(".cw").evaluate("n => getComputedStyle(n).position") == "fixed"  # its CSS came along
        page.get_by_test_id("chat-open").click()
        say(page, "hello")
        expect_reply(page, 0, "Concierge")
    slots = conversation_tracker(stack, session_id(page))["slots"]
    assert slots["verified"] is True and slots["tier"] == "gold"  # the shop's token travelled with the message


def test_waiting_agent_and_back_to_the_bot(page: Page, stack: StackSettings) -> None:
    support = AgentSession(stack.routing_url, "alice")
    try:
        open_shop(page, stack, "demo-platinum")
        page.get_by_test_id("chat-open").click()
        say(page, "hello")
        expect_reply(page, 0, "Concierge")
        say(page, "I want to talk to a human agent")
        expect(page.get_by_test_id("chat-title")).to_have_text("Waiting for a person", timeout=15000)
        expect(page.get_by_test_id("chat-status")).to_contain_text(re.compile(r"number \d+ in line"))
        packet = support.find(session_id(page))

        support.post(f"/escalations/{packet['id']}/claim")
        expect(page.get_by_test_id("chat-title")).to_have_text("You're chatting with Alice", timeout=5000)
        expect(page.locator(AGENT).first).to_contain_text("has joined the chat")
        reply = "I can see your order: it's with the carrier, tracking at https://track.example.com/C-100001."
        support.post(f"/escalations/{packet['id']}/messages", {"text": reply})
        expect(page.locator(AGENT).last).to_have_text(reply, timeout=5000)
        expect(page.locator(AGENT).last).to_have_attribute("data-from", "Alice")
        link = page.locator(AGENT).last.locator("a")
        assert link.get_attribute("href") == "https://track.example.com/C-100001"  # the final "." stays text
        assert link.get_attribute("rel") == "noopener noreferrer"

        # the customer writes to the agent: no bot typing indicator while a person holds the chat
        say(page, "Thanks! When will it arrive?")
        support.wait_for_customer_message(packet["id"], "Thanks! When will it arrive?")
        expect(page.get_by_test_id("chat-typing")).to_have_text("")
        support.post(f"/escalations/{packet['id']}/messages", {"text": "Tomorrow before noon."})
        expect(page.locator(AGENT).last).to_have_text("Tomorrow before noon.", timeout=5000)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "widget.png"))

        # an agent's text is text too: only http(s)/mailto links become links
        sneaky = "Don't click [this](javascript:window.pwned=1) or javascript:window.pwned=2 <b>bold</b>"
        support.post(f"/escalations/{packet['id']}/messages", {"text": sneaky})
        expect(page.locator(AGENT).last).to_have_text(sneaky, timeout=5000)
        assert page.locator(AGENT).last.locator("a, b").count() == 0

        # a reload in the middle keeps who the customer is talking to
        page.reload()
        wait_until(page, WIDGET_READY)
        expect(page.get_by_test_id("chat-title")).to_have_text("You're chatting with Alice")
        expect(page.locator(AGENT).last).to_have_attribute("data-from", "Alice")

        support.post(f"/escalations/{packet['id']}/handback", {"disposition": "info_provided"})
        notice = page.locator(".cw-log [data-role=notice]")
        expect(notice).to_have_text("You're back with the Concierge assistant", timeout=5000)
        expect(page.get_by_test_id("chat-title")).to_have_text("Concierge")
        assert page.evaluate("window.pwned") is None
        page.screenshot(path=str(SCREENSHOTS / "widget-back-to-bot.png"))
    finally:
        support.close()
