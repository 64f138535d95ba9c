"""Bounded live streams over a real uvicorn server (SQLite and PostgreSQL): open streams are limited per agent (429)
and per server (503) with Retry-After, slots come back when streams end, and a reader that stops reading is told to
reload and its stream ends instead of silently missing events."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI
from fixtures_human_support import add_agent, hs_settings, serve

from routing.app import create_app
from routing.live import LiveEvent
from routing.live_limits import StreamLimits


def _open_stream(base: str, token: str, receive_buffer: int | None = None) -> socket.socket:
    """A raw HTTP/1.1 connection reading the agent's stream up to its ": connected" line (refusals fail here)."""
    url = urlsplit(base)
    sock = socket.socket()
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect((url.hostname, url.port))
    sock.settimeout(30)
    sock.sendall(f"GET /api/v1/agent/stream HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: Bearer {token}\r\n\r\n"
                 .encode())
    head = b""
    while b": connected" not in head:
        chunk = sock.recv(4096)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    return sock


def _until(predicate: Callable[[], bool], seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()


def _login(client: httpx.Client, login: str) -> str:
    return str(client.post("/api/v1/agent/login", json={"login": login, "password": "pw"}).json()["token"])


def test_streams_are_limited_per_agent_and_per_server(hs_app: FastAPI) -> None:
    ids = {name: add_agent(hs_app.state.sessions, name, ["general"]) for name in ("carol", "dave", "erin")}
    limits = hs_app.state.live_limits = StreamLimits(per_agent=2, total=3)
    with serve(hs_app) as base, httpx.Client(base_url=base, timeout=30) as client:
        tokens = {name: _login(client, name) for name in ids}
        opened = [_open_stream(base, tokens["carol"]), _open_stream(base, tokens["carol"])]
        try:
            third = client.get("/api/v1/agent/stream", headers={"Authorization": f"Bearer {tokens['carol']}"})
            assert third.status_code == 429 and third.headers["Retry-After"] == "30"
            assert "2 live streams open" in third.json()["detail"]

            opened.append(_open_stream(base, tokens["dave"]))  # the server's third and last
            full = client.get("/api/v1/agent/stream", headers={"Authorization": f"Bearer {tokens['erin']}"})
            assert full.status_code == 503 and full.headers["Retry-After"] == "15"
            assert limits.open_streams() == 3 and limits.open_streams(ids["carol"]) == 2

            opened.pop(0).close()  # carol closes a tab: her slot comes back when the server sees her go
            assert _until(lambda: limits.open_streams(ids["carol"]) == 1)
            opened.append(_open_stream(base, tokens["carol"]))
            unauthenticated = client.get("/api/v1/agent/stream", headers={"Authorization": "Bearer forged"})
            assert unauthenticated.status_code == 401  # refused before any slot is counted
        finally:
            for sock in opened:
                sock.close()
        assert _until(lambda: limits.open_streams() == 0)


def test_limits_come_from_the_settings(hs_db_url: str, hs_policy: Path) -> None:
    settings = hs_settings(hs_db_url, hs_policy).model_copy(
        update={"live_streams_per_agent": 7, "live_streams_total": 70, "live_stream_buffer": 50})
    app = create_app(settings)
    try:
        assert (app.state.live_limits.per_agent, app.state.live_limits.total, app.state.live.buffer) == (7, 70, 50)
    finally:
        app.state.engine.dispose()


def test_a_reader_that_falls_behind_is_told_to_reload_and_its_stream_ends(hs_app: FastAPI) -> None:
    add_agent(hs_app.state.sessions, "carol", ["general"])
    hs_app.state.live.buffer = 20  # events held for one reader
    with serve(hs_app) as base, httpx.Client(base_url=base, timeout=30) as client:
        token = _login(client, "carol")
        slow = _open_stream(base, token, receive_buffer=4096)  # ... and then it reads nothing for a while
        try:
            # 400 events of 20 kB: more than every buffer between the server and the reader can hold (the kernel's
            # send buffer peaks at 4 MB here, ~210 events) plus the 20 the hub holds for it
            # (in batches of 10, each followed by a request: its answer comes after the batch ran on the server's
            # loop, so that the stream takes what it can between batches, as it does with real traffic)
            pad = "x" * 20_000
            for n in range(400):
                hs_app.state.live.publish(LiveEvent("tick", frozenset({"general"}), {"n": n, "pad": pad}))
                if n % 10 == 9:
                    assert client.get("/api/v1/agent/me", headers={"Authorization": f"Bearer {token}"}).is_success

            received = b""
            while not received.endswith(b"\r\n0\r\n\r\n"):  # the last chunk of the (chunked) stream
                chunk = slow.recv(1 << 16)
                assert chunk, "the connection closed before the stream's end"
                received += chunk
        finally:
            slow.close()
    text = re.sub(rb"\r\n[0-9a-f]+\r\n", b"", received).decode()  # chunk sizes out
    ticks = [int(n) for n in re.findall(r'event: tick\ndata: \{"n": (\d+)', text)]
    assert 0 < len(ticks) < 400
    assert ticks == list(range(len(ticks)))  # what arrived is every event up to the gap, in order
    assert text.rstrip().endswith("event: reload\ndata: " + '{"reason": "this console fell behind; read everything '
                                  'again"}')
    assert _until(lambda: hs_app.state.live_limits.open_streams() == 0)
