"""The one clock: CONCIERGE_CLOCK_START moves every process (and only in development); code reads `clock.utcnow`."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import clock
from clock import ClockError, FixedClock, from_environment
from routing.identity.service import IdentityError, issue_token, verify_token

pytestmark = pytest.mark.clock  # about hours, SLAs, expiry or dates: CI runs it at other instants too

ROOT = Path(__file__).resolve().parents[2]
SATURDAY_NIGHT = datetime(2026, 12, 5, 8, 30, tzinfo=timezone.utc)  # Saturday 03:30 New York: every queue closed
WEDNESDAY_MORNING = datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc)  # Wednesday 10:00 New York: all open


def test_the_start_setting_moves_the_clock_and_children_share_it() -> None:
    env = {"CONCIERGE_CLOCK_START": "2026-12-05T08:30:00Z", "CONCIERGE_CLOCK_ANCHOR": "1000.0",
           "CONCIERGE_ENV": "development"}
    moved = from_environment(env)
    offset = SATURDAY_NIGHT - datetime.fromtimestamp(1000.0, timezone.utc)
    assert moved.offset == offset  # every process given the same anchor reads the same time
    since_anchor = datetime.now(timezone.utc) - datetime.fromtimestamp(1000.0, timezone.utc)
    assert abs((moved.now() - SATURDAY_NIGHT) - since_anchor) < timedelta(seconds=5)
    assert from_environment({}).offset == timedelta(0)
    assert from_environment({"CONCIERGE_CLOCK_START": "2026-12-05T03:30:00-05:00", "CONCIERGE_ENV": "development"}
                            ).now() - SATURDAY_NIGHT \
        < timedelta(seconds=5)


@pytest.mark.parametrize("env, message", [
    ({"CONCIERGE_CLOCK_START": "tomorrow", "CONCIERGE_ENV": "development"}, "not an ISO 8601 instant"),
    ({"CONCIERGE_CLOCK_START": "2026-12-05T08:30:00", "CONCIERGE_ENV": "development"}, "needs a timezone"),
    ({"CONCIERGE_CLOCK_START": "2026-12-05T08:30:00Z", "CONCIERGE_ENV": "production"}, "development and tests only"),
    ({"CONCIERGE_CLOCK_START": "2026-12-05T08:30:00Z"}, "development and tests only"),  # no environment: production
    ({"CONCIERGE_CLOCK_START": "2026-12-05T08:30:00Z", "CONCIERGE_CLOCK_ANCHOR": "soon",
      "CONCIERGE_ENV": "development"}, "not a Unix time"),
])
def test_bad_or_production_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(ClockError, match=message):
        from_environment(env)


def test_a_process_started_with_the_setting_reads_that_instant() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCIERGE_CLOCK")}
    env.update(CONCIERGE_CLOCK_START="2026-12-02T15:00:00Z", CONCIERGE_ENV="development")
    out = subprocess.run([sys.executable, "-c", "import clock, os; print(clock.utcnow().isoformat()); "
                          "print(os.environ['CONCIERGE_CLOCK_ANCHOR'])"],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert WEDNESDAY_MORNING <= datetime.fromisoformat(out[0]) < WEDNESDAY_MORNING + timedelta(seconds=5)
    assert float(out[1]) > 0  # recorded for the process's children


def test_the_routing_service_refuses_a_moved_clock_in_production() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCIERGE_CLOCK")}
    env.update(CONCIERGE_CLOCK_START="2026-12-02T15:00:00Z", CONCIERGE_ENV="production",
               CONCIERGE_SERVICE_TOKEN="s" * 32, CONCIERGE_IDENTITY_SECRET="i" * 32, CONCIERGE_RASA_TOKEN="r" * 32,
               CONCIERGE_CSAT_SECRET="c" * 32, CONCIERGE_DATABASE_URL="sqlite://")
    done = subprocess.run([sys.executable, "-c", "from routing.app import create_app; create_app()"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "CONCIERGE_CLOCK_START is for development and tests only" in done.stderr


def test_sign_in_tokens_live_on_the_process_clock() -> None:
    secret = "test-identity-secret-of-32-bytes-or-more"
    with clock.use(FixedClock(datetime(2031, 1, 1, tzinfo=timezone.utc))) as fixed:  # far from the system clock
        token = issue_token(secret, "demo-gold", ttl=timedelta(minutes=10))
        assert verify_token(secret, token) == "demo-gold"
        fixed.advance(11 * 60)
        with pytest.raises(IdentityError, match="expired"):
            verify_token(secret, token)
    with clock.use(FixedClock(datetime(2030, 12, 31, tzinfo=timezone.utc))):
        with pytest.raises(IdentityError, match="not valid yet"):
            verify_token(secret, token)


@pytest.mark.parametrize("instant, open_", [(SATURDAY_NIGHT, False), (WEDNESDAY_MORNING, True)])
def test_availability_and_pages_follow_the_clock(client: TestClient, instant: datetime, open_: bool) -> None:
    with clock.use(FixedClock(instant)):
        vip = client.get("/api/v1/queues/availability", params={"tier": "platinum"}).json()
        config = client.get("/web/config").json()
    assert datetime.fromisoformat(config["now"]) == instant  # the console's SLA timers count on this clock
    assert vip["queue"] == "vip" and vip["open"] is open_ and vip["hours"]["timezone"] == "America/New_York"
    if open_:
        assert vip["closes_at"] == "2026-12-03T04:00:00Z" and vip["next_open_at"] is None  # 23:00 New York
    else:
        assert vip["next_open_at"] == "2026-12-05T12:00:00Z" and vip["closes_at"] is None  # 07:00 New York
    assert client.get("/api/v1/queues/availability", params={"tier": "diamond"}).status_code == 404
