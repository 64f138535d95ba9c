"""The live stream over a real uvicorn server: a new escalation reaches an agent's SSE stream within a second,
and only agents serving its queue see it."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fixtures_human_support import BOT, add_agent, packet

from launcher.in_thread import serve_in_thread
from routing.live import LiveEvent


@pytest.fixture
def hs_server(hs_app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free port."""
    with serve_in_thread(hs_app) as url:
        yield url


def _listen(base: str, token: str, events: queue.Queue[tuple[str, dict, float]], ready: threading.Event) -> None:
    with httpx.Client(timeout=httpx.Timeout(5, read=None)) as client:
        with client.stream("GET", f"{base}/api/v1/agent/stream",
                           headers={"Authorization": f"Bearer {token}"}) as response:
            response.raise_for_status()
            kind = ""
            for line in response.iter_lines():
                if line.startswith(": connected"):
                    ready.set()
                elif line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    events.put((kind, json.loads(line.removeprefix("data: ")), time.monotonic()))
                    if kind == "stop":
                        return


def test_new_escalation_is_on_the_stream_within_a_second(hs_server: str, hs_app: FastAPI) -> None:
    add_agent(hs_app.state.sessions, "carol", ["general"])
    with httpx.Client(base_url=hs_server, timeout=10) as client:
        token = client.post("/api/v1/agent/login", json={"login": "carol", "password": "pw"}).json()["token"]
        assert client.get("/api/v1/agent/stream", headers={"Authorization": "Bearer forged"}).status_code == 401
        assert client.get("/api/v1/agent/stream", cookies={"concierge_agent": "forged"}).status_code == 401

        events: queue.Queue[tuple[str, dict, float]] = queue.Queue()
        ready = threading.Event()
        listener = threading.Thread(target=_listen, args=(hs_server, token, events, ready), daemon=True)
        listener.start()
        assert ready.wait(5)

        client.post("/api/v1/escalations", json=packet("vip-secret", queue="vip"), headers=BOT).raise_for_status()
        sent_at = time.monotonic()
        created = client.post("/api/v1/escalations", json=packet("conv-sse"), headers=BOT).json()
        kind, data, seen_at = events.get(timeout=1)
        assert kind == "escalation.created" and data["escalation"]["id"] == created["id"]
        assert seen_at - sent_at < 1.0
        assert data["escalation"]["conversation_id"] == "conv-sse"  # the vip one never reached carol

        client.post(f"/api/v1/escalations/{created['id']}/customer-messages",
                    json={"text": "still there?", "idempotency_key": "k"}, headers=BOT).raise_for_status()
        kind, data, _ = events.get(timeout=1)
        assert kind == "message.created" and data["message"]["text"] == "still there?"
        assert data["message"]["sender"] == "customer"

        hs_app.state.live.publish(LiveEvent("stop", frozenset({"general"}), {}))
        listener.join(5)
        assert events.get(timeout=1)[0] == "stop" and events.empty()


def _signed_in_stream(console: httpx.Client) -> tuple[str, queue.Queue[str | None]]:
    """Sign carol in with the console's cookie and open her live stream; its lines arrive in the queue, then None
    when the server ends the stream. Returns the session's CSRF token and the queue."""
    login = console.post("/api/v1/agent/login", json={"login": "carol", "password": "pw", "session": "cookie"})
    csrf = login.json()["csrf_token"]
    lines: queue.Queue[str | None] = queue.Queue()

    def listen() -> None:
        with console.stream("GET", "/api/v1/agent/stream", timeout=httpx.Timeout(5, read=None)) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                lines.put(line)
        lines.put(None)  # the server ended the stream

    threading.Thread(target=listen, daemon=True).start()
    assert lines.get(timeout=5) == ": connected"
    return csrf, lines


def test_console_cookie_opens_the_stream_and_sign_out_ends_it(hs_server: str, hs_app: FastAPI) -> None:
    add_agent(hs_app.state.sessions, "carol", ["general"])
    hs_app.state.sse_heartbeat = 0.2  # the session is re-checked at every heartbeat
    with httpx.Client(base_url=hs_server, timeout=10) as console:
        csrf, lines = _signed_in_stream(console)
        console.post("/api/v1/agent/logout", headers={"X-CSRF-Token": csrf}).raise_for_status()
        signed_out_at = time.monotonic()
        while (line := lines.get(timeout=5)) is not None:
            assert not line.startswith("event:")
        assert time.monotonic() - signed_out_at < 2.0


def test_sign_out_ends_the_stream_of_a_busy_queue_too(hs_server: str, hs_app: FastAPI) -> None:
    """Events arriving faster than the heartbeat must not keep a signed-out session's stream alive."""
    add_agent(hs_app.state.sessions, "carol", ["general"])
    hs_app.state.sse_heartbeat = 0.5
    busy = threading.Event()

    def keep_busy() -> None:
        while not busy.is_set():
            hs_app.state.live.publish(LiveEvent("tick", frozenset({"general"}), {}))
            time.sleep(0.05)

    with httpx.Client(base_url=hs_server, timeout=10) as console:
        csrf, lines = _signed_in_stream(console)
        threading.Thread(target=keep_busy, daemon=True).start()
        try:
            while lines.get(timeout=5) != "event: tick":
                pass
            console.post("/api/v1/agent/logout", headers={"X-CSRF-Token": csrf}).raise_for_status()
            deadline, ended = time.monotonic() + 2.0, False
            while not ended and time.monotonic() < deadline:
                ended = lines.get(timeout=5) is None
            assert ended, "the stream outlived the session on a busy queue"
        finally:
            busy.set()
