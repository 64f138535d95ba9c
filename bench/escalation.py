"""Escalation latency on the running stack, through the real widget (Chromium) and the agent's live stream.

Per sample: a signed-in platinum customer asks for a person in the widget → time until the escalation arrives on
the agent's SSE stream; the agent takes it and replies over the agent API → time until the reply is shown in the
customer's widget (socket.io). Then the agent resolves it, so the agent's capacity never limits the run.
"""

from __future__ import annotations

import json
import threading
import time
import uuid

import httpx
from playwright.sync_api import Page, sync_playwright

from bench.report import Figure
from bench.stats import latency_summary_ms
from launcher.browser import CHROMIUM_ARGS, chromium_path
from launcher.settings import StackSettings

SECTION = "Escalation latency"
TARGET = "p95 < 1 s"


class StreamWatcher:
    """Reads an agent's SSE stream in a thread; remembers when each conversation's escalation arrived."""

    def __init__(self, routing_url: str, token: str) -> None:
        self.arrived: dict[str, float] = {}
        self._url = f"{routing_url}/api/v1/agent/stream"
        self._token = token
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> StreamWatcher:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the agent's live stream did not open")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self._token}"}
        with httpx.stream("GET", self._url, headers=headers, timeout=None) as response:
            response.raise_for_status()
            self._ready.set()
            event = ""
            for line in response.iter_lines():
                if self._stop.is_set():
                    return
                if line.startswith("event:"):
                    event = line.removeprefix("event:").strip()
                elif line.startswith("data:") and event == "escalation.created":
                    data = json.loads(line.removeprefix("data:"))
                    self.arrived.setdefault(data["escalation"]["conversation_id"], time.monotonic())

    def wait(self, conversation_id: str, timeout: float = 15.0) -> float:
        deadline = time.monotonic() + timeout
        while conversation_id not in self.arrived:
            if time.monotonic() > deadline:
                raise TimeoutError(f"escalation of {conversation_id} never reached the stream")
            time.sleep(0.005)
        return self.arrived[conversation_id]


def _open_chat(page: Page, routing_url: str) -> str:
    page.goto(f"{routing_url}/shop")
    page.get_by_test_id("login-select").select_option("demo-platinum")
    page.wait_for_function("sessionStorage.getItem('shop-login') === 'demo-platinum'")
    page.get_by_test_id("chat-open").click()
    page.wait_for_selector("[data-testid=chat-widget][data-ready=true]", timeout=20000)
    return page.get_by_test_id("chat-widget").get_attribute("data-session-id") or ""


def _shown(page: Page, text: str, timeout_ms: int = 15000) -> None:
    page.wait_for_function(
        "(t) => [...document.querySelectorAll('.cw-log [data-role=agent]')].some(e => e.textContent === t)",
        arg=text, timeout=timeout_ms, polling="raf")


def measure(settings: StackSettings, quick: bool) -> list[Figure]:
    """p50/p95 of customer request → agent's stream, and agent reply → customer's widget."""
    chromium = chromium_path()
    if not chromium:
        return [Figure(SECTION, "customer asks for a person -> agent's live stream", "skipped (no chromium)")]
    samples = 5 if quick else 20
    agent = httpx.Client(base_url=f"{settings.routing_url}/api/v1/agent", timeout=15)
    login = agent.post("/login", json={"login": "alice", "password": "demo"})
    login.raise_for_status()
    token = login.json()["token"]
    agent.headers["Authorization"] = f"Bearer {token}"
    agent.post("/status", json={"status": "online"}).raise_for_status()
    to_stream: list[float] = []
    to_customer: list[float] = []
    with StreamWatcher(settings.routing_url, token) as watcher, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        for _ in range(samples):
            context = browser.new_context()
            page = context.new_page()
            conversation = _open_chat(page, settings.routing_url)
            page.get_by_test_id("chat-input").fill("I want to talk to a human agent")
            sent = time.monotonic()
            page.get_by_test_id("chat-send").click()
            to_stream.append(watcher.wait(conversation) - sent)

            listed = agent.get("/escalations", params={"queue": "vip"})
            listed.raise_for_status()
            escalation = next(e for e in listed.json() if e["conversation_id"] == conversation)
            agent.post(f"/escalations/{escalation['id']}/claim").raise_for_status()
            reply = f"Hello, Alice here ({uuid.uuid4().hex[:6]})."
            sent = time.monotonic()
            agent.post(f"/escalations/{escalation['id']}/messages", json={"text": reply}).raise_for_status()
            _shown(page, reply)
            to_customer.append(time.monotonic() - sent)
            agent.post(f"/escalations/{escalation['id']}/resolve", json={"disposition": "info_provided"}
                       ).raise_for_status()
            context.close()
        browser.close()
    agent.post("/status", json={"status": "offline"})
    agent.close()
    figures = []
    for name, values in (("customer asks for a person -> agent's live stream", to_stream),
                         ("agent reply -> customer's widget (socket.io)", to_customer)):
        summary = latency_summary_ms(values)
        figures.append(Figure(SECTION, f"{name}, p50", summary["p50_ms"], "ms"))
        figures.append(Figure(SECTION, f"{name}, p95 ({len(values)} samples)", summary["p95_ms"], "ms",
                              target=TARGET, met=summary["p95_ms"] < 1000))
    return figures
