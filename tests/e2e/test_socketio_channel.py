"""Rasa's socket.io channel (the widget's) against the running stack: only the shop's pages may open it or call Rasa
from a browser, and malformed events get a `refused` answer instead of an exception, while the next good message is
still answered."""

from __future__ import annotations

import json
import queue
import random
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import socketio
from playwright.sync_api import Page

from launcher.settings import StackSettings
from launcher.stack import Stack
from tests.e2e.browser import site, wait_until
from tests.e2e.customers import bot_messages

FOREIGN = "http://127.0.0.1:0"  # a page of another website: a new origin on a free port
PACKET_LIMIT = 64_000  # bot_runtime/socketio_channel.py MAX_PACKET_BYTES
WAIT = 20.0  # seconds an answer may take before the test fails (a bound, not a measurement)


class SocketCustomer:
    """A python-socketio client speaking the widget's protocol; every event the server sends lands in a queue."""

    def __init__(self, stack: StackSettings, origin: str) -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.client = socketio.Client(reconnection=False, handle_sigint=False,
                                      websocket_extra_options={"origin": origin})
        for name in ("session_confirm", "bot_uttered", "refused"):
            self.client.on(name, lambda data=None, name=name: self.events.put((name, data)))
        self.client.on("disconnect", lambda *_: self.events.put(("disconnect", None)))
        self.client.connect(stack.rasa_url, transports=["websocket"], wait_timeout=10)
        self.session_id = f"fuzz-{uuid.uuid4().hex}"

    def next(self, *names: str) -> tuple[str, Any]:
        """The next event among `names` (others are skipped)."""
        while True:
            try:
                name, data = self.events.get(timeout=WAIT)
            except queue.Empty:
                raise AssertionError(f"no {' or '.join(names)} within {WAIT} s") from None
            if name in names:
                return name, data

    def start(self) -> None:
        self.client.emit("session_request", {"session_id": self.session_id})
        assert self.next("session_confirm") == ("session_confirm", self.session_id)

    def say(self, text: str) -> list[str]:
        """Send a message; the texts of the bot's reply (every bubble, until the socket is quiet)."""
        self.client.emit("user_uttered", {"message": text, "session_id": self.session_id, "metadata": {}})
        replies = [self.next("bot_uttered", "refused")]
        while True:
            try:
                replies.append(self.events.get(timeout=1.5))  # more bubbles of the same reply, if any
            except queue.Empty:
                break
        assert all(name == "bot_uttered" for name, _ in replies), replies
        return [str(data.get("text", "")) for _, data in replies]

    def refused(self, event: str, *args: Any) -> str:
        """Emit `event` with these arguments; the server's `refused` reason."""
        self.client.emit(event, args if len(args) != 1 else args[0]) if args else self.client.emit(event)
        name, data = self.next("refused", "bot_uttered", "session_confirm")
        assert name == "refused", (event, args, name, data)
        return str(data["error"])

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture()
def customer(stack: StackSettings, shop_site: str) -> Iterator[SocketCustomer]:
    client = SocketCustomer(stack, shop_site)
    try:
        yield client
    finally:
        client.close()


def test_only_the_shops_origins_may_open_the_socket_or_call_rasa(stack: StackSettings, shop_site: str) -> None:
    handshake = f"{stack.rasa_url}/socket.io/?EIO=4&transport=polling"
    foreign = httpx.get(handshake, headers={"Origin": "http://attacker.example"}, timeout=10)
    assert foreign.status_code == 400 and "not an accepted origin" in foreign.text
    assert "access-control-allow-origin" not in foreign.headers
    own = httpx.get(handshake, headers={"Origin": shop_site}, timeout=10)
    assert own.status_code == 200
    assert own.headers.get_list("access-control-allow-origin") == [shop_site]  # once: socket.io alone answers CORS

    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    rest = f"{stack.rasa_url}/webhooks/rest/webhook"
    refused = httpx.options(rest, headers={"Origin": "http://attacker.example", **preflight}, timeout=10)
    assert "access-control-allow-origin" not in refused.headers
    allowed = httpx.options(rest, headers={"Origin": shop_site, **preflight}, timeout=10)
    assert allowed.headers.get_list("access-control-allow-origin") == [shop_site]


PROBES = """async (rasa) => {
  const out = {};
  try {
    await fetch(rasa + "/webhooks/rest/webhook", {method: "POST", headers: {"Content-Type": "application/json"},
                body: JSON.stringify({sender: "cors-probe-" + Date.now(), message: "hello"})});
    out.rest = "answered";
  } catch (e) { out.rest = "blocked"; }
  try {
    const answer = await fetch(rasa + "/socket.io/?EIO=4&transport=polling");
    out.polling = "answered " + answer.status;
  } catch (e) { out.polling = "blocked"; }
  out.websocket = await new Promise((resolve) => {
    const ws = new WebSocket(rasa.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket");
    ws.onopen = () => { ws.close(); resolve("open"); };
    ws.onerror = () => resolve("refused");
  });
  out.socketio = await new Promise((resolve) => {
    const socket = io(rasa, {transports: ["websocket", "polling"], reconnection: false});
    socket.on("connect", () => { socket.disconnect(); resolve("connected"); });
    socket.on("connect_error", () => resolve("refused"));
  });
  return out;
}"""


def _page(stack: StackSettings, with_widget: bool) -> str:
    widget = (f'<script>window.ConciergeConfig = {{rasaUrl: "{stack.rasa_url}"}};</script>'
              f'<script src="{stack.routing_url}/static/widget.js" async></script>') if with_widget else ""
    return f"""<!doctype html><html lang="en"><head><title>A shop</title>
      <script src="{stack.routing_url}/static/vendor/socket.io.min.js"></script></head>
      <body><h1>A shop</h1>{widget}</body></html>"""


def test_a_foreign_page_cannot_reach_rasa_while_the_shops_page_chats(page: Page, stack: StackSettings,
                                                                     shop_site: str) -> None:
    with site(_page(stack, with_widget=False), FOREIGN) as url:
        page.goto(url)
        assert page.evaluate(PROBES, stack.rasa_url) == {"rest": "blocked", "polling": "blocked",
                                                         "websocket": "refused", "socketio": "refused"}

    with site(_page(stack, with_widget=True), shop_site) as url:
        page.goto(url)
        assert page.evaluate(PROBES, stack.rasa_url) == {"rest": "answered", "polling": "answered 200",
                                                         "websocket": "open", "socketio": "connected"}
        wait_until(page, "document.querySelector('[data-testid=chat-widget]')?.dataset.ready === 'true'")
        page.get_by_test_id("chat-open").click()
        page.get_by_test_id("chat-input").fill("hello")
        page.get_by_test_id("chat-input").press("Enter")
        page.locator(".cw-log [data-role=bot]").filter(has_text="Concierge").first.wait_for(timeout=20000)


BAD_SESSION_IDS: list[Any] = [5, ["a"], {"x": 1}, "", "a?b", "a#b", "../x", "a/b", "a\nb", "s" * 65, "\ud800", "é",
                              ".", ".."]


def test_malformed_session_requests_are_refused(customer: SocketCustomer, running_stack: Stack) -> None:
    rasa = running_stack.pids()["rasa"]
    for body in ([1, 2], "hello", 5, True, *({"session_id": bad} for bad in BAD_SESSION_IDS)):
        assert "session" in customer.refused("session_request", body), body
    assert "one object" in customer.refused("session_request", {"session_id": "a"}, {"session_id": "b"})
    customer.start()
    assert customer.say("hello")  # the same socket chats afterwards
    assert running_stack.pids()["rasa"] == rasa  # the same Rasa process served throughout: it never died


def test_malformed_messages_are_refused_and_the_next_good_one_is_answered(customer: SocketCustomer,
                                                                          running_stack: Stack) -> None:
    rasa = running_stack.pids()["rasa"]
    customer.start()
    good = customer.session_id
    bodies: list[Any] = [
        None, [1, 2], "hello", 5, {},
        *({"session_id": bad, "message": "hi"} for bad in BAD_SESSION_IDS),
        {"session_id": good}, {"session_id": good, "message": None}, {"session_id": good, "message": ["hi"]},
        {"session_id": good, "message": {"text": "hi"}}, {"session_id": good, "message": 7},
        {"session_id": good, "message": "hi", "metadata": "not an object"},
        {"session_id": good, "message": "hi", "metadata": [1]},
        {"session_id": good, "message": "a\x00b"}, {"session_id": good, "message": "lone \ud800 surrogate"},
        # metadata a store cannot keep once ended the Rasa process; values the bot reads must have their form
        *({"session_id": good, "message": "hi", "metadata": metadata} for metadata in (
            {"customer_token": "\ud800"}, {"timezone": "\udfff"}, {"message_id": "\ud800"}, {"x": ["\ud800"]},
            {"\ud800": 1}, {"customer_token": 5}, {"timezone": ["UTC"]}, {"message_id": ""},
            {"a": {"b": {"c": {"d": {"e": 1}}}}})),
    ]
    for body in bodies:
        customer.refused("user_uttered", body)
    customer.refused("user_uttered", {"session_id": good, "message": "hi"}, {"session_id": good, "message": "hi"})
    assert customer.say("hello")

    # generated junk: nested values of every JSON type, odd text, in random places (seeded, so repeatable)
    rng = random.Random(14)
    sent = 0
    while sent < 60:
        junk = _junk(rng, depth=3)
        payload = rng.choice([junk, {"session_id": good, "message": junk, "metadata": _junk(rng, depth=2)}])
        if _well_formed(payload):
            continue  # not what this loop is about
        customer.refused("user_uttered", payload)
        sent += 1
    assert customer.say("hello")
    assert running_stack.pids()["rasa"] == rasa  # the same Rasa process served throughout: it never died


def test_over_long_text_and_huge_packets(stack: StackSettings, shop_site: str, customer: SocketCustomer,
                                         running_stack: Stack) -> None:
    rasa = running_stack.pids()["rasa"]
    customer.start()
    too_long = bot_messages()["message_too_long"].format(limit="2,000")
    assert customer.say("where is my order " * 200) == [too_long]  # 3,600 characters: answered without NLU

    customer.client.emit("user_uttered", {"message": "a" * (PACKET_LIMIT + 1), "session_id": customer.session_id})
    assert customer.next("disconnect", "bot_uttered")[0] == "disconnect"  # that one connection is closed

    again = SocketCustomer(stack, shop_site)
    try:
        again.client.emit("user_uttered", {"message": "é" * 2_000_000, "session_id": again.session_id})
        assert again.next("disconnect", "bot_uttered")[0] == "disconnect"
    finally:
        again.close()
    fresh = SocketCustomer(stack, shop_site)
    try:
        fresh.session_id = customer.session_id  # the same conversation goes on over a new socket
        fresh.start()
        assert fresh.say("hello")
    finally:
        fresh.close()
    assert running_stack.pids()["rasa"] == rasa  # the same Rasa process served throughout: it never died


def _well_formed(payload: Any) -> bool:
    """The channel's contract for `user_uttered`: an object with a session id, text, and an object or no metadata."""
    if not isinstance(payload, dict):
        return False
    session_id, text, metadata = payload.get("session_id"), payload.get("message"), payload.get("metadata")
    return (isinstance(session_id, str) and re.fullmatch(r"[A-Za-z0-9_.:@-]{1,64}", session_id) is not None
            and isinstance(text, str) and "\x00" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)
            and (metadata is None or isinstance(metadata, dict)))


def _junk(rng: random.Random, depth: int) -> Any:
    kind = rng.randrange(8 if depth > 0 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False, 0, -1, 2**63, 1.5e308, -0.0])
    if kind == 2:
        return "".join(chr(rng.choice([0, 0x0A, 0x41, 0xE9, 0xD800, 0xDFFF, 0x1F600, 0x202E])) for _ in range(5))
    if kind == 3:
        return json.dumps({"session_id": "x"})  # JSON inside a string
    if kind == 4:
        return "x" * rng.choice([0, 1, 5000])
    if kind == 5:
        return rng.choice([[], {}, ""])
    if kind == 6:
        return [_junk(rng, depth - 1) for _ in range(rng.randrange(4))]
    return {rng.choice(["session_id", "message", "metadata", "customer_token", "x"]): _junk(rng, depth - 1)
            for _ in range(rng.randrange(4))}
