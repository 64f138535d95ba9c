"""Property-based test of the whole routing API (Schemathesis, from its own OpenAPI document): whatever a client sends,
every operation answers without a server error, on SQLite and on the real PostgreSQL. Bounded to fit in CI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy.orm import Session, sessionmaker

from launcher.in_thread import serve_in_thread
from routing.agents.service import create_agent, login
from routing.app import create_app
from routing.settings import Settings

EXAMPLES = 20
SKIPPED = ("/api/v1/agent/stream", "/api/v1/agent/logout")  # an endless stream; signing our own agent out


@pytest.fixture
def fuzzed_app(settings: Settings, demo_db: sessionmaker[Session]) -> Iterator[tuple[FastAPI, dict[str, str]]]:
    """The app on the demo shop, with an online lead who serves every queue (and their bearer token)."""
    app = create_app(settings)
    with app.state.sessions() as session:
        agent = create_agent(session, "fuzzer", "Fuzzer", "a-long-fuzz-password", ["vip", "priority", "general"],
                             max_chats=1000, role="lead")
        agent.status = "online"
        session.commit()
        signed_in = login(session, "fuzzer", "a-long-fuzz-password")
        assert signed_in is not None
        session.commit()
    yield app, {"service": settings.service_token, "agent": signed_in[1]}
    app.state.engine.dispose()


def _never_a_server_error(operation: Any, base_url: str, token: str) -> None:
    """Up to EXAMPLES generated requests of one operation; raises what Schemathesis found."""

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=base_url, headers={"Authorization": f"Bearer {token}"},
                               checks=[not_a_server_error])

    run()


def test_no_operation_answers_with_a_server_error(fuzzed_app: tuple[FastAPI, dict[str, str]]) -> None:
    app, tokens = fuzzed_app
    schema = schemathesis.openapi.from_dict(app.openapi())
    failures: dict[str, str] = {}
    operations = 0
    with serve_in_thread(app, log_level="error") as base_url:
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.path in SKIPPED:
                continue
            operations += 1
            token = tokens["agent" if operation.path.startswith(("/api/v1/agent/", "/api/v1/analytics/",
                                                             "/api/v1/capacity/")) else "service"]

            try:
                _never_a_server_error(operation, base_url, token)
            except KeyboardInterrupt:
                raise
            except BaseException as failure:  # every operation is tried; failures are reported together
                failures[f"{operation.method.upper()} {operation.path}"] = str(failure)[:1500]
    assert not failures, "\n\n".join(f"{name}:\n{text}" for name, text in failures.items())
    assert operations >= 35
