"""Fixtures of the human-support tests (queues, agents, escalations): real SQLite files and the real PostgreSQL
(database concierge_test_routing2), migrated with Alembic; a real HTTP server recording what the relay sends."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pg import drop_database, fresh_database
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session, sessionmaker

import routing.models  # noqa: F401  (every table on Base.metadata)
from launcher.in_thread import serve_in_thread
from launcher.settings import ALWAYS_OPEN, write_policy_copy
from routing.agents.service import create_agent
from routing.app import create_app
from routing.db import Base, make_engine, upgrade
from routing.settings import ROOT, Settings

HS_PG_DB = "concierge_test_routing2" + os.environ.get("CONCIERGE_TEST_DB_SUFFIX", "")
SERVICE_TOKEN = "test-service-token"
CSAT_SECRET = "test-csat-secret-of-32-bytes-or-more"


def hs_policy_file(directory: Path, closed: tuple[str, ...] = ()) -> Path:
    """The project's policy with every queue open around the clock, except `closed` queues (never open)."""
    never = {name: {**ALWAYS_OPEN, "days": []} for name in closed}
    return write_policy_copy(ROOT / "routing" / "policy.yml", directory / f"policy-{'-'.join(closed) or 'open'}.yml",
                             hours=never, default=ALWAYS_OPEN)


@pytest.fixture(scope="session")
def hs_pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database migrated to head (once per test session)."""
    name, url = fresh_database(HS_PG_DB)
    upgrade(url)
    yield url
    drop_database(name)


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hs_database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database per backend: a SQLite file, then the real PostgreSQL (concierge_test_routing2)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('hs-db') / 'routing.db'}"
        upgrade(url)
        return url
    return request.getfixturevalue("hs_pg_url")


@pytest.fixture
def hs_db_url(hs_database_url: str) -> str:
    """`hs_database_url` with every table emptied."""
    engine = make_engine(hs_database_url)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
    engine.dispose()
    return hs_database_url


@pytest.fixture
def hs_policy(tmp_path: Path) -> Path:
    """Policy file whose queues are all open."""
    return hs_policy_file(tmp_path)


@dataclass
class Recorder:
    """A real HTTP server that records requests; answers 500 to the first `fail_first` of them and to those whose
    path contains one of `fail_paths`, and holds those whose path contains one of `hold_paths` (or for which
    `hold_if(path, body)` is true) open, without an answer, until `release` is set (`holding` is set when one
    arrives): a receiver that accepts and hangs."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_first: int = 0
    fail_paths: set[str] = field(default_factory=set)
    hold_paths: set[str] = field(default_factory=set)
    hold_if: Callable[[str, Any], bool] | None = None
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self, path_part: str) -> list[Any]:
        """JSON bodies of the successfully answered requests whose path contains `path_part`."""
        with self.lock:
            return [r["body"] for r in self.requests if path_part in r["path"] and r["status"] == 200]

    def received(self, path_part: str) -> list[dict[str, Any]]:
        """Every request whose path contains `path_part` (answered, failed or held), in arrival order."""
        with self.lock:
            return [r for r in self.requests if path_part in r["path"]]


@pytest.fixture
def hs_recorder() -> Iterator[Recorder]:
    """A recording HTTP server standing in for Rasa or a webhook receiver."""
    rec = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
            parts = urlsplit(self.path)
            held = any(p in parts.path for p in rec.hold_paths) or bool(rec.hold_if and rec.hold_if(parts.path, body))
            with rec.lock:
                failing = rec.fail_first > 0 or any(p in parts.path for p in rec.fail_paths)
                status = "held" if held else 500 if failing else 200
                rec.fail_first -= 1 if rec.fail_first > 0 and not held else 0
                rec.requests.append({"path": parts.path, "query": parse_qs(parts.query), "body": body,
                                     "status": status})
            if held:
                rec.holding.set()
                rec.release.wait(60)
                return  # the connection closes without an answer
            self.send_response(int(status))
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    rec.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rec
    rec.release.set()
    server.shutdown()
    server.server_close()


def hs_settings(db_url: str, policy: Path, rasa_url: str = "http://127.0.0.1:9") -> Settings:
    """Settings of a test app."""
    return Settings(env="development", database_url=db_url, policy_file=policy, service_token=SERVICE_TOKEN,
                    rasa_url=rasa_url, rasa_token="rasa-test-token", csat_secret=CSAT_SECRET)


@pytest.fixture
def hs_app(hs_db_url: str, hs_policy: Path, hs_recorder: Recorder) -> Iterator[FastAPI]:
    """The routing app on an emptied test database (SQLite, then PostgreSQL), relaying to the recorder."""
    app = create_app(hs_settings(hs_db_url, hs_policy, hs_recorder.url))
    yield app
    app.state.engine.dispose()


@pytest.fixture
def hs_client(hs_app: FastAPI) -> Iterator[TestClient]:
    """HTTP client of the app (startup/shutdown run, background tasks included)."""
    with TestClient(hs_app) as client:
        yield client


@pytest.fixture
def hs_sessions(hs_app: FastAPI) -> sessionmaker[Session]:
    """The app's session factory (for arranging data directly)."""
    return hs_app.state.sessions


def hs_engine(app: FastAPI) -> Engine:
    """The app's engine."""
    return app.state.engine


BOT = {"Authorization": f"Bearer {SERVICE_TOKEN}"}


def eventually(predicate: Callable[[], bool], seconds: float = 15.0) -> bool:
    """Whether `predicate` came true within `seconds`, polled every 50 ms: for what the background workers do."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def add_agent(sessions: sessionmaker[Session], login: str, queues: list[str], max_chats: int = 3,
              status: str = "online") -> int:
    """Create an agent (password "pw") and return its id."""
    with sessions() as session:
        agent = create_agent(session, login, login.title(), "pw", queues, max_chats=max_chats)
        agent.status = status
        session.commit()
        return agent.id


def agent_headers(client: TestClient, login: str) -> dict[str, str]:
    """Bearer header of a logged-in agent."""
    response = client.post("/api/v1/agent/login", json={"login": login, "password": "pw"})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def packet(conversation_id: str, queue: str = "general", priority: int = 10, sla_seconds: int | None = 3600,
           **extra: Any) -> dict[str, Any]:
    """A handoff packet as the bot sends it."""
    return {"conversation_id": conversation_id, "idempotency_key": f"esc-{conversation_id}", "customer_id": None,
            "tier": "bronze", "tier_reason": "new customer", "queue": queue, "priority": priority,
            "sla_seconds": sla_seconds, "reason": "asked for a human twice", "rule": "fairness.repeated_request",
            "intent": "human_handoff", "facts": {"order_number": "C-100001"}, "summary": "Parcel is late.",
            "transcript": [{"role": "customer", "text": "where is my parcel", "at": "2026-11-23T10:00:00Z"},
                           {"role": "bot", "text": "It shipped yesterday.", "at": "2026-11-23T10:00:01Z"}],
            "contact": {"email": "pat@example.com", "phone": None, "name": "Pat"}, **extra}


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """The app served by a real uvicorn server on a free port (its workers running); yields the base URL."""
    with serve_in_thread(app) as url:
        yield url
