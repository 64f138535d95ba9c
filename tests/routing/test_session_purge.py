"""Expired agent sign-ins (console sessions, API tokens) are removed by a worker round, the live ones kept
(SQLite and PostgreSQL, the clock fixed and moved by the test)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from fixtures_human_support import add_agent
from sqlalchemy import func, select

import clock
from routing.agents.models import AgentToken
from routing.agents.service import TOKEN_TTL, purge_expired

pytestmark = pytest.mark.clock
START = datetime(2026, 11, 3, 8, 0, tzinfo=timezone.utc)


def _tokens(app: FastAPI) -> int:
    with app.state.sessions() as session:
        return session.scalar(select(func.count()).select_from(AgentToken)) or 0


def test_expired_sign_ins_are_purged_and_live_ones_kept(hs_app: FastAPI) -> None:
    add_agent(hs_app.state.sessions, "carol", ["general"])
    with clock.use(clock.FixedClock(START)) as fixed:
        def sign_in(**extra: str) -> TestClient:
            console = TestClient(hs_app)  # requests only: the workers start below
            console.post("/api/v1/agent/login", json={"login": "carol", "password": "pw", **extra}).raise_for_status()
            return console

        old_console, _ = sign_in(session="cookie"), sign_in()  # a console session and a bearer token
        fixed.advance(TOKEN_TTL.total_seconds() - 60)
        recent = sign_in(session="cookie")
        assert _tokens(hs_app) == 3
        fixed.advance(61)  # the first two are past their 12 hours

        with hs_app.state.sessions.begin() as session:
            assert purge_expired(session) == 2
        assert _tokens(hs_app) == 1
        assert recent.get("/api/v1/agent/me").status_code == 200  # the live session is untouched
        assert old_console.get("/api/v1/agent/me").status_code == 401

        # the workers do it on their own: a round runs at start-up, then every SESSION_PURGE_SECONDS
        fixed.advance(TOKEN_TTL.total_seconds())
        with TestClient(hs_app):
            deadline = time.monotonic() + 20
            while _tokens(hs_app) and time.monotonic() < deadline:
                time.sleep(0.05)
        assert _tokens(hs_app) == 0
