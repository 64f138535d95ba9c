"""Operations figures on a hand-built day of history (SQLite and PostgreSQL): every expected figure is worked out by
hand in the comments, from the definitions in docs/operations.md."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from routing.agents.demo import create_demo_agents
from routing.agents.service import create_agent
from routing.analytics.history import Step, decision, escalation
from routing.analytics.kpis import percentile
from routing.analytics.service import Filters, day_range, operations_figures
from routing.analytics.simulate import simulate
from routing.escalations.models import Escalation, EscalationEvent
from routing.policy.definition import Policy

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 2, 10, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def history(db: sessionmaker[Session]) -> sessionmaker[Session]:
    """Nine contacts on 2 Nov 2026 (and one on 3 Nov, outside the range):

    c1   bot only (two decisions 2 min apart), nobody comes back             -> contained
    c2   bot only at 11:00, same conversation again at 15:00 (gap > 60 min)   -> two contacts; the first is a
         re-contact within 24 h (not contained), the second is contained
    c3   platinum, vip (SLA 60 s): waits 30 s, alice holds it 610 s, CSAT 5
    c4   gold, vip (SLA 180 s): waits 120 s, bob holds it 620 s, CSAT 3
    c5   gold, vip (SLA 180 s): leaves the queue after 90 s                     -> abandoned
    c6   silver, priority (SLA 300 s): expires after 900 s, asks for a callback, carol calls back (held 300 s)
    c7   bronze, general: out of hours, a ticket (never offered to a live queue)
    c8   silver, priority (SLA 300 s): asks for a callback after 200 s; nobody has called back yet
    c9   3 Nov: outside the range
    """
    with db.begin() as s:
        alice = create_agent(s, "alice", "Alice", "pw-alice-1", ["vip"]).id
        bob = create_agent(s, "bob", "Bob", "pw-bob-123", ["vip"]).id
        carol = create_agent(s, "carol", "Carol", "pw-carol-1", ["priority"]).id
        decision(s, "c1", at(0), "bronze", "track_order")
        decision(s, "c1", at(120), "bronze", "track_order")
        decision(s, "c2", at(3600), "silver", "store_hours")
        decision(s, "c2", at(5 * 3600), "silver", "store_hours")
        decision(s, "c3", at(0), "platinum", "complaint", outcome="escalate", queue="vip")
        escalation(s, "c3", at(10), "platinum", "vip", "complaint", 60, [
            Step(20, "assigned", "claimed", alice), Step(30, "active", "reply", alice),
            Step(200, "active", "reply", alice), Step(630, "resolved", "resolved", alice)], csat=5)
        escalation(s, "c4", at(1000), "gold", "vip", "get_refund", 180, [
            Step(100, "assigned", "claimed", bob), Step(120, "active", "reply", bob),
            Step(720, "resolved", "resolved", bob)], csat=3)
        escalation(s, "c5", at(2000), "gold", "vip", "get_refund", 180, [Step(90, "abandoned", "abandoned")])
        escalation(s, "c6", at(3000), "silver", "priority", "payment_issue", 300, [
            Step(900, "expired", "expired"), Step(905, "callback_requested", "callback_requested"),
            Step(1000, "assigned", "claimed", carol), Step(1010, "active", "reply", carol),
            Step(1300, "returned_to_bot", "handed_back", carol)])
        escalation(s, "c7", at(4000), "bronze", "general", "complaint", 900, [], first_status="ticket")
        escalation(s, "c8", at(4800), "silver", "priority", "payment_issue", 300, [
            Step(200, "callback_requested", "callback_requested")])
        decision(s, "c9", at(86400), "bronze", "track_order")
    return db


def test_figures_of_a_hand_built_day(history: sessionmaker[Session]) -> None:
    start, end = day_range(date(2026, 11, 2), date(2026, 11, 2))
    with history() as s:
        got = operations_figures(s, start, end, threshold_seconds=60)
    o = got["overall"]
    # contacts: c1, c2 (x2), c3..c8 = 9; escalated c3..c8 = 6; contained c1 and c2's second visit = 2
    assert (o["contacts"], o["escalated"], o["contained"], o["recontacts_24h"]) == (9, 6, 2, 1)
    assert (o["escalation_rate"], o["containment_rate"], o["recontact_rate_24h"]) == (0.6667, 0.2222, 0.1111)
    # offered live: c3 c4 c5 c6 c8 (c7 was a ticket); answered from the queue: c3 (30 s), c4 (120 s)
    assert (o["offered"], o["answered"]) == (5, 2)
    # nearest rank of [30, 120]: p50 = 1st value, p90 = 2nd
    assert (o["first_response_p50_seconds"], o["first_response_p90_seconds"]) == (30, 120)
    # within own SLA: c3 (30 <= 60) and c4 (120 <= 180) of 5 offered; within 60 s: c3 only
    assert (o["service_level"], o["service_level_at_threshold"]) == (0.4, 0.2)
    assert (o["abandoned"], o["abandonment_rate"], o["expired"]) == (1, 0.2, 1)
    # held by agents: c3 610 s (claimed +20 .. resolved +630), c4 620 s, c6 300 s -> (610 + 620 + 300) / 3
    assert (o["handled"], o["average_handle_seconds"]) == (3, 510.0)
    # callbacks: c6 completed, c8 pending
    assert (o["callbacks_requested"], o["callbacks_completed"], o["callback_completion_rate"]) == (2, 1, 0.5)
    # ratings 5 and 3: one of two is a 4 or 5; mean 4
    assert (o["csat_responses"], o["csat_score"], o["csat_average"]) == (2, 0.5, 4.0)

    vip = got["by_queue"]["vip"]  # c3 c4 c5
    assert (vip["contacts"], vip["offered"], vip["answered"], vip["abandoned"]) == (3, 3, 2, 1)
    assert (vip["service_level"], vip["abandonment_rate"], vip["average_handle_seconds"]) == (0.6667, 0.3333, 615.0)
    assert got["by_queue"]["-"]["contacts"] == 3  # bot only: c1 and c2's two visits
    assert got["by_queue"]["-"]["containment_rate"] == 0.6667
    assert got["by_tier"]["gold"]["abandonment_rate"] == 0.5  # c4 answered, c5 abandoned
    assert got["by_tier"]["silver"]["callback_completion_rate"] == 0.5
    assert got["by_agent"]["carol"]["average_handle_seconds"] == 300.0
    assert got["by_agent"]["alice"]["csat_average"] == 5.0
    assert got["by_intent"]["get_refund"]["escalations"] == 2
    assert list(got["daily_by_tier"]) == ["2026-11-02"]


def test_filters_and_an_empty_range(history: sessionmaker[Session]) -> None:
    start, end = day_range(date(2026, 11, 2), date(2026, 11, 2))
    with history() as s:
        gold = operations_figures(s, start, end, Filters(tier="gold"))["overall"]
        bob = operations_figures(s, start, end, Filters(agent="bob"))["overall"]
        empty = operations_figures(s, *day_range(date(2026, 10, 1), date(2026, 10, 31)))["overall"]
    assert (gold["contacts"], gold["answered"], gold["abandoned"], gold["csat_average"]) == (2, 1, 1, 3.0)
    assert (bob["contacts"], bob["average_handle_seconds"], bob["first_response_p50_seconds"]) == (1, 620.0, 120)
    assert empty["contacts"] == 0 and empty["containment_rate"] is None and empty["first_response_p90_seconds"] is None


def test_nearest_rank_percentile() -> None:
    # NIST/Wikipedia nearest-rank example: [15, 20, 35, 40, 50] -> p30 = 20, p40 = 20, p50 = 35, p100 = 50
    values = [15.0, 20.0, 35.0, 40.0, 50.0]
    assert [percentile(values, p) for p in (0.3, 0.4, 0.5, 1.0)] == [20.0, 20.0, 35.0, 50.0]
    assert percentile([], 0.5) is None


def test_report_ops_writes_json_csv_and_charts(history: sessionmaker[Session], database_url: str,
                                               tmp_path: Path) -> None:
    out = tmp_path / "ops"
    env = {**os.environ, "CONCIERGE_ENV": "development", "CONCIERGE_DATABASE_URL": database_url}
    run = subprocess.run([sys.executable, "-m", "routing.cli", "report", "ops", "--since", "2026-11-02", "--until",
                          "2026-11-02", "--threshold", "60", "--out", str(out)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "queue:vip" in run.stdout
    figures = json.loads((out / "ops.json").read_text())
    assert figures["overall"]["service_level"] == 0.4 and figures["by_queue"]["vip"]["abandonment_rate"] == 0.3333
    rows = list(csv.DictReader((out / "ops.csv").open()))
    vip = next(r for r in rows if (r["group"], r["value"]) == ("queue", "vip"))
    assert (vip["contacts"], vip["service_level"], vip["average_handle_seconds"]) == ("3", "0.6667", "615.0")
    daily = list(csv.DictReader((out / "ops_daily.csv").open()))
    assert {(r["day"], r["tier"]) for r in daily} >= {("2026-11-02", "gold"), ("2026-11-02", "platinum")}
    for chart in ("ops_tiers_over_time.png", "ops_queues.png", "ops_first_response.png"):
        assert (out / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = subprocess.run([sys.executable, "-m", "routing.cli", "report", "ops", "--since", "2.11.2026"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "is not a date like 2026-11-02" in bad.stderr


def test_the_demo_history_is_closed_and_measurable(demo_db: sessionmaker[Session], policy: Policy) -> None:
    """`demo simulate` leaves nothing in a queue or a callback list (the console stays as it was) and gives
    figures in range for every tier and queue."""
    end = datetime(2026, 11, 30, tzinfo=timezone.utc)
    with demo_db.begin() as s:
        create_demo_agents(s)
        made = simulate(s, policy, end, weeks=1, seed=3)
    assert made.contacts > 100 and made.escalations > 10
    with demo_db() as s:
        statuses = set(s.scalars(select(Escalation.status).distinct()))
        latest = s.scalar(select(func.max(EscalationEvent.at)))
        got = operations_figures(s, end - timedelta(days=7), end)
    assert statuses <= {"resolved", "returned_to_bot", "abandoned"} and latest is not None and latest < end
    assert got["overall"]["escalations"] == made.escalations
    assert set(got["by_queue"]) == {"-", "vip", "priority", "general"}
    for group in [got["overall"], *got["by_tier"].values(), *got["by_queue"].values()]:
        for key, value in group.items():
            if key.endswith(("_rate", "service_level", "csat_score")) and value is not None:
                assert 0 <= value <= 1, (key, value)
