"""The staffing plan on a hand-built history (SQLite and PostgreSQL): the forecast, handle time and patience worked
out by hand in the fixture's docstring, the agents needed from the Erlang functions tested against published
examples in test_capacity.py, the command's files, and the dashboard's endpoint with its access rules."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import clock
from routing.agents.models import Agent
from routing.agents.service import create_agent, set_role
from routing.analytics.history import Step, escalation
from routing.capacity.erlang import staff
from routing.capacity.erlang_a import staff_a
from routing.capacity.service import HourPlan, PlanOptions, QueuePlan, make_plan
from routing.policy.definition import Policy
from routing.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 30, 18, 0, tzinfo=timezone.utc)  # Monday 13:00 in New York (EST, UTC-5)
UTC = timezone.utc


def answered(agent: int, wait: float, held: float) -> list[Step]:
    return [Step(wait, "assigned", "claimed", agent), Step(wait + 10, "active", "reply", agent),
            Step(wait + held, "resolved", "resolved", agent)]


@pytest.fixture
def history(db: sessionmaker[Session]) -> sessionmaker[Session]:
    """Two weeks before NOW: 2026-11-16 18:00 to 2026-11-30 18:00 UTC, so every weekday and hour occurs twice.

    Roster: alice (vip, max_chats 2), bob (vip and priority, 4), carol (priority, 3): vip has 2 agents and
    max_chats median_low(2, 4) = 2, priority 2 agents and median_low(4, 3) = 3, general nobody (default 3).
    vip: Tuesday 10:xx New York (15:xx UTC) on 17 and 24 Nov, 1 + 3 contacts: 4 / 2 = 2.0 per hour; Friday 21:30
         New York (Saturday 02:30 UTC) once: 0.5 per hour. Each waits 30 s and is held 600 s: AHT 600 s; nobody
         abandons, so Erlang C. Not counted: a callback request at Tuesday 10:50 (never in the live queue) and a
         contact on 10 Nov (before the window).
    priority: Wednesday 25 Nov 11:xx New York (16:xx UTC): 5 leave after 100 s, 5 are answered after 50 s and held
         300 s: 10 / 2 = 5.0 per hour, AHT 300 s, patience (5 x 100 + 5 x 50) / 5 abandons = 150 s: Erlang A.
    """
    with db.begin() as s:
        alice = create_agent(s, "alice", "Alice", "pw-alice-123", ["vip"], max_chats=2).id
        bob = create_agent(s, "bob", "Bob", "pw-bob-12345", ["vip", "priority"], max_chats=4).id
        create_agent(s, "carol", "Carol", "pw-carol-123", ["priority"], max_chats=3)
        for n, at in enumerate([datetime(2026, 11, 17, 15, 10, tzinfo=UTC), datetime(2026, 11, 24, 15, 5, tzinfo=UTC),
                                datetime(2026, 11, 24, 15, 20, tzinfo=UTC), datetime(2026, 11, 24, 15, 40, tzinfo=UTC),
                                datetime(2026, 11, 28, 2, 30, tzinfo=UTC)]):
            escalation(s, f"vip-{n}", at, "platinum", "vip", "complaint", 60, answered(alice, 30, 600))
        escalation(s, "vip-callback", datetime(2026, 11, 24, 15, 50, tzinfo=UTC), "gold", "vip", "complaint", 180,
                   [], first_status="callback_requested")
        escalation(s, "vip-old", datetime(2026, 11, 10, 15, 10, tzinfo=UTC), "gold", "vip", "complaint", 180,
                   answered(alice, 30, 600))
        for n in range(10):
            at = datetime(2026, 11, 25, 16, 5 * n, tzinfo=UTC)
            steps = [Step(100, "abandoned", "abandoned")] if n % 2 else answered(bob, 50, 300)
            escalation(s, f"prio-{n}", at, "silver", "priority", "payment_issue", 900, steps)
    return db


def hour(plan: QueuePlan, weekday: int, at: int) -> HourPlan:
    return next(h for h in plan.hours if (h.weekday, h.hour) == (weekday, at))


def test_plan_of_a_hand_built_history(history: sessionmaker[Session], policy: Policy) -> None:
    with history() as s:
        plan = make_plan(s, policy, NOW, PlanOptions(weeks=2))
    assert (plan.since, plan.until) == (NOW - timedelta(days=14), NOW)
    vip, priority, general = (next(q for q in plan.queues if q.queue == n) for n in ("vip", "priority", "general"))

    assert (vip.method, vip.target_seconds, vip.aht_seconds, vip.aht_from_history) == ("Erlang C", 60, 600.0, True)
    assert (vip.offered, vip.abandoned, vip.roster, vip.max_chats, vip.patience_seconds) == (5, 0, 2, 2, None)
    tuesday_10 = hour(vip, 1, 10)
    assert tuesday_10.forecast_per_hour == 2.0
    assert tuesday_10.agents_needed == staff(2.0, 600, 0.8, 60, max_chats=2).agents
    assert tuesday_10.agents_staffed == 2 and tuesday_10.open
    assert hour(vip, 4, 21).forecast_per_hour == 0.5
    night = hour(vip, 1, 3)  # vip opens at 07:00 New York time
    assert (night.open, night.agents_needed, night.agents_staffed) == (False, 0, 0)
    assert sum(h.forecast_per_hour for h in vip.hours) == pytest.approx(2.5)

    assert (priority.method, priority.patience_seconds, priority.patience_from) == ("Erlang A", 150.0, "history")
    assert (priority.aht_seconds, priority.target_seconds, priority.max_chats) == (300.0, 900, 3)
    wednesday_11 = hour(priority, 2, 11)
    a, c = staff_a(5.0, 300, 0.8, 900, 150, max_chats=3), staff(5.0, 300, 0.8, 900, max_chats=3)
    assert wednesday_11.forecast_per_hour == 5.0
    assert wednesday_11.agents_needed == wednesday_11.agents_needed_erlang_a == a.agents
    assert wednesday_11.agents_needed_erlang_c == c.agents
    assert wednesday_11.abandon_rate == round(a.probability_abandon, 4)

    assert (general.offered, general.roster, general.aht_from_history, general.max_chats) == (0, 0, False, 3)
    assert all(h.agents_needed == 0 and h.agents_staffed == 0 for h in general.hours)

    with history() as s:
        forced = make_plan(s, policy, NOW, PlanOptions(weeks=2, method="erlang-c", shrinkage=0.5))
    forced_priority = next(q for q in forced.queues if q.queue == "priority")
    assert forced_priority.method == "Erlang C"
    assert hour(forced_priority, 2, 11).agents_needed == staff(
        5.0, 300, 0.8, 900, 3, 0.5).agents


@pytest.mark.parametrize("bad", [{"weeks": 0}, {"target_level": 80}, {"shrinkage": 1}, {"method": "erlang-x"},
                                 {"patience_seconds": -1}, {"max_chats": 0}, {"method": "erlang-a"}])
def test_bad_options_are_refused(history: sessionmaker[Session], policy: Policy, bad: dict[str, object]) -> None:
    """Erlang A for every queue needs a patience: general has no abandons."""
    with history() as s, pytest.raises(ValueError):
        make_plan(s, policy, NOW, PlanOptions(**{"weeks": 2, **bad}))  # type: ignore[arg-type]


def test_the_plan_command_writes_csv_json_and_heatmap(history: sessionmaker[Session], database_url: str,
                                                      tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "CONCIERGE_ENV": "development", "CONCIERGE_DATABASE_URL": database_url,
           "CONCIERGE_CLOCK_START": NOW.isoformat(), "CONCIERGE_VAR_DIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "-m", "routing.cli", "capacity", "plan", "--weeks", "2", "--out",
                          str(tmp_path / "plan"), "--shrinkage", "0.3"], cwd=ROOT, capture_output=True, text=True,
                         timeout=180, env=env)
    assert run.returncode == 0, run.stderr
    assert "priority   Erlang A" in run.stdout and "patience 150 s (history)" in run.stdout
    with (tmp_path / "plan" / "plan.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3 * 7 * 24
    row = next(r for r in rows if (r["queue"], r["weekday"], r["hour"]) == ("vip", "1", "10"))
    assert (row["day"], row["forecast_per_hour"], row["agents_staffed"]) == ("Tue", "2.0", "2")
    assert int(row["agents_needed"]) == staff(2.0, 600, 0.8, 60, max_chats=2, shrinkage=0.3).agents
    plan = json.loads((tmp_path / "plan" / "plan.json").read_text(encoding="utf-8"))
    assert plan["weeks"] == 2 and plan["until"] == NOW.isoformat()
    assert (tmp_path / "plan" / "plan_heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = subprocess.run([sys.executable, "-m", "routing.cli", "capacity", "plan", "--weeks", "2", "--method",
                          "erlang-a", "--out", str(tmp_path / "x")], cwd=ROOT, capture_output=True, text=True,
                         timeout=180, env=env)
    assert bad.returncode != 0 and "give --patience-seconds" in bad.stderr


def test_the_endpoint_is_for_leads(history: sessionmaker[Session], settings: Settings, policy: Policy) -> None:
    from routing.app import create_app

    with clock.use(clock.FixedClock(NOW)), TestClient(create_app(settings)) as client:
        assert client.get("/api/v1/capacity/plan").status_code == 401
        token = client.post("/api/v1/agent/login", json={"login": "alice", "password": "pw-alice-123"}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/capacity/plan", headers=auth).status_code == 403
        with history.begin() as s:  # alice becomes a lead
            set_role(s, s.scalars(select(Agent).where(Agent.login == "alice")).one(), "lead")
        assert client.get("/api/v1/capacity/plan?weeks=0", headers=auth).status_code == 422
        assert client.get("/api/v1/capacity/plan?weeks=x", headers=auth).status_code == 422
        answer = client.get("/api/v1/capacity/plan?weeks=2", headers=auth)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"weeks", "method", "queues"} and body["weeks"] == 2
    assert body["method"].startswith("seasonal average of the last 2 weeks")
    vip = next(q for q in body["queues"] if q["queue"] == "vip")
    assert (vip["target_level"], vip["target_seconds"], len(vip["hours"])) == (0.8, 60, 168)
    tuesday_10 = next(h for h in vip["hours"] if (h["weekday"], h["hour"]) == (1, 10))
    with history() as s:
        expected = next(q for q in make_plan(s, policy, NOW, PlanOptions(weeks=2)).queues if q.queue == "vip")
    assert tuesday_10 == {"weekday": 1, "hour": 10, "forecast_per_hour": 2.0,
                          "agents_needed": hour(expected, 1, 10).agents_needed,
                          "agents_staffed": 2}
