"""A connection whose request comes late is still answered. Rasa opens a connection per action call, and under a
burst its event loop can stall for seconds between connecting and writing the call: Sanic's default closed such
connections after 5 s (the 200-conversation soak logged 12 action calls reset this way, each an apology to a
customer). Rasa's own server is held to the same (its --keep-alive-timeout, 120 s by default)."""

from __future__ import annotations

import socket
import time

import pytest

from launcher.settings import StackSettings

LATE = 8.0  # seconds: past Sanic's default keep-alive timeout (5 s) plus its check interval (2.5 s)


@pytest.mark.parametrize(("server", "path"), [("actions", "/health"), ("rasa", "/")])
def test_a_request_that_arrives_seconds_after_its_connection_is_answered(stack: StackSettings, server: str,
                                                                          path: str) -> None:
    port = stack.actions_port if server == "actions" else stack.rasa_port
    with socket.create_connection((stack.host, port), timeout=30) as conn:
        time.sleep(LATE)
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: {stack.host}\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := conn.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), (server, answer[:200])
