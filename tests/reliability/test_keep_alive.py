"""A 500 does not poison the next request on the same keep-alive connection (real uvicorn, real sockets)."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from launcher.settings import ROOT
from tests.reliability.failing_app import FAILING_PATH
from tests.reliability.routing_service import BOT, init_database, routing_service

POLICY = ROOT / "routing" / "policy.yml"


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    """One HTTP/1.1 response with a Content-Length body; (0, b"") when the server closed the connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return 0, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return 0, head
        body += chunk
    return int(lines[0].split()[1]), body


def test_the_connection_stays_usable_after_a_500(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'routing.db'}"
    init_database(url, POLICY)
    log_path = tmp_path / "service.log"
    with routing_service(url, POLICY, log_path, factory="tests.reliability.failing_app:create") as service:
        parts = urlsplit(service.url)
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
            for path, expected in ((FAILING_PATH, 500), ("/health", 200), (FAILING_PATH, 500), ("/health", 200)):
                sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
                status, body = read_response(sock)
                assert status == expected, f"GET {path} on the reused connection: {status or 'closed'} {body!r}"

        # the same with the HTTP client the action server uses, limited to one connection that is reused
        with httpx.Client(base_url=service.url, headers=BOT, timeout=10,
                          limits=httpx.Limits(max_connections=1)) as client:
            ports = set()
            for path, expected in ((FAILING_PATH, 500), ("/api/v1/policy", 200)) * 3:
                with client.stream("GET", path) as response:
                    ports.add(response.extensions["network_stream"].get_extra_info("socket").getsockname()[1])
                    response.read()
                assert response.status_code == expected
            assert len(ports) == 1, "one connection served all six requests"
    log = log_path.read_text()
    assert log.count(f"GET {FAILING_PATH} failed with an unexpected error (answered 500)") == 5
    assert "RuntimeError: drill: an unexpected error" in log  # with its traceback
