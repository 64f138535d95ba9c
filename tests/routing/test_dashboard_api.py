"""The dashboard's analytics API on a real database (SQLite and PostgreSQL): who sees which figures (a lead all, an
agent only their own, whatever they ask), the filters, the staffing table, and a clear 4xx for every bad input."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clock import FixedClock, use
from routing.agents.models import Agent
from routing.agents.service import create_agent
from routing.analytics.history import Step, decision, escalation
from routing.analytics.service import Filters, day_range, operations_figures
from routing.settings import Settings

OPS = "/api/v1/analytics/operations"
T0 = datetime(2026, 11, 2, 10, 0, tzinfo=timezone.utc)
RANGE = {"since": "2026-11-02", "until": "2026-11-03"}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def app_client(settings: Settings, db: sessionmaker[Session]) -> Iterator[TestClient]:
    """The app on an emptied database, on a clock standing at 4 Nov 2026 (no service token: agents sign in)."""
    from routing.app import create_app

    with use(FixedClock(datetime(2026, 11, 4, 9, 0, tzinfo=timezone.utc))), TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def history(db: sessionmaker[Session]) -> sessionmaker[Session]:
    """Two days; alice and bob are agents on vip (alice on priority too), lena is a lead serving no queue.

    2 Nov  c1 bronze, bot only                                  (no agent)
           c3 platinum vip complaint: alice answers after 30 s, holds 600 s, CSAT 5
           c4 gold vip get_refund: bob answers after 120 s, holds 600 s, CSAT 2
           c5 gold vip get_refund: leaves after 90 s            (abandoned, no agent)
    3 Nov  c6 silver priority payment_issue: alice answers after 40 s, holds 300 s
    """
    with db.begin() as s:
        alice = create_agent(s, "alice", "Alice", "pw-alice-1234", ["vip", "priority"]).id
        bob = create_agent(s, "bob", "Bob", "pw-bob-123456", ["vip"]).id
        create_agent(s, "lena", "Lena", "pw-lena-12345", [], role="lead")
        decision(s, "c1", at(0), "bronze", "track_order")
        escalation(s, "c3", at(10), "platinum", "vip", "complaint", 60, [
            Step(20, "assigned", "claimed", alice), Step(30, "active", "reply", alice),
            Step(630, "resolved", "resolved", alice)], csat=5)
        escalation(s, "c4", at(1000), "gold", "vip", "get_refund", 180, [
            Step(100, "assigned", "claimed", bob), Step(120, "active", "reply", bob),
            Step(720, "resolved", "resolved", bob)], csat=2)
        escalation(s, "c5", at(2000), "gold", "vip", "get_refund", 180, [Step(90, "abandoned", "abandoned")])
        escalation(s, "c6", at(86400), "silver", "priority", "payment_issue", 300, [
            Step(30, "assigned", "claimed", alice), Step(40, "active", "reply", alice),
            Step(340, "resolved", "resolved", alice)])
    return db


def signed_in(client: TestClient, login: str, password: str) -> dict[str, str]:
    response = client.post("/api/v1/agent/login", json={"login": login, "password": password})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def get(client: TestClient, headers: dict[str, str], **params: Any) -> Any:
    response = client.get(OPS, params={**RANGE, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_lead_sees_every_figure(app_client: TestClient, history: sessionmaker[Session]) -> None:
    lena = signed_in(app_client, "lena", "pw-lena-12345")
    body = get(app_client, lena)
    assert body["scope"] == "all" and body["filters"] == {}
    assert set(body["by_agent"]) == {"alice", "bob", "-"}
    assert set(body["by_tier"]) == {"bronze", "platinum", "gold", "silver"}
    assert list(body["daily_by_tier"]) == ["2026-11-02", "2026-11-03"]
    # c1 c3 c4 c5 c6; four escalations, three answered (30 s, 120 s, 40 s), one abandoned of four offered
    overall = body["overall"]
    assert (overall["contacts"], overall["escalations"], overall["answered"]) == (5, 4, 3)
    assert (overall["first_response_p50_seconds"], overall["abandonment_rate"]) == (40.0, 0.25)
    assert body["by_queue"]["vip"]["offered"] == 3 and body["by_agent"]["bob"]["csat_average"] == 2
    # the very figures of routing.analytics (one computation, not a second one in the API)
    with history() as s:
        direct = operations_figures(s, *day_range(date(2026, 11, 2), date(2026, 11, 3)))
    assert {k: body[k] for k in ("overall", "by_tier", "by_queue", "by_agent", "by_intent", "daily_by_tier")} == \
        {k: direct[k] for k in ("overall", "by_tier", "by_queue", "by_agent", "by_intent", "daily_by_tier")}


def test_an_agent_sees_only_their_own_figures(app_client: TestClient, history: sessionmaker[Session]) -> None:
    alice = signed_in(app_client, "alice", "pw-alice-1234")
    body = get(app_client, alice)
    assert body["scope"] == "own" and body["filters"] == {"agent": "alice"}
    assert set(body["by_agent"]) == {"alice"}  # nobody else's figures, not even the unanswered ones
    assert (body["overall"]["escalations"], body["overall"]["answered"]) == (2, 2)  # c3 and c6
    assert set(body["by_tier"]) == {"platinum", "silver"} and "bob" not in str(body)
    assert get(app_client, alice, agent="alice") == body  # naming oneself changes nothing
    for other in ("bob", "lena", "nobody"):  # asking for anyone else: refused, whoever it is
        refused = app_client.get(OPS, params={**RANGE, "agent": other}, headers=alice)
        assert refused.status_code == 403 and "own figures" in refused.json()["detail"]
    # filters still narrow an agent's own figures
    assert get(app_client, alice, tier="gold")["overall"]["escalations"] == 0
    assert get(app_client, alice, queue="priority")["overall"]["escalations"] == 1
    bob = signed_in(app_client, "bob", "pw-bob-123456")
    assert set(get(app_client, bob)["by_agent"]) == {"bob"}
    # team-wide staffing is a lead's
    assert app_client.get("/api/v1/analytics/staffing", headers=alice).status_code == 403
    options = app_client.get("/api/v1/analytics/options", headers=alice).json()
    assert options["role"] == "agent" and [a["name"] for a in options["agents"]] == ["alice"]


def test_filters_narrow_the_figures(app_client: TestClient, history: sessionmaker[Session]) -> None:
    lena = signed_in(app_client, "lena", "pw-lena-12345")
    gold = get(app_client, lena, tier="gold")
    assert set(gold["by_tier"]) == {"gold"} and gold["overall"]["escalations"] == 2  # c4, c5
    assert gold["overall"]["abandonment_rate"] == 0.5
    priority = get(app_client, lena, queue="priority")
    assert priority["overall"]["contacts"] == 1 and set(priority["by_queue"]) == {"priority"}
    bob = get(app_client, lena, agent="bob")
    assert bob["scope"] == "all" and set(bob["by_agent"]) == {"bob"} and bob["overall"]["escalations"] == 1
    complaint = get(app_client, lena, intent="complaint")
    assert set(complaint["by_intent"]) == {"complaint"} and complaint["overall"]["contacts"] == 1
    one_day = get(app_client, lena, since="2026-11-03", until="2026-11-03")
    assert list(one_day["daily_by_tier"]) == ["2026-11-03"] and one_day["overall"]["contacts"] == 1
    assert get(app_client, lena, threshold=35)["overall"]["service_level_at_threshold"] == 0.25  # 30 s of 4
    with history() as s:
        direct = operations_figures(s, *day_range(date(2026, 11, 2), date(2026, 11, 3)),
                                    Filters(tier="gold", queue="vip"))
    assert get(app_client, lena, tier="gold", queue="vip")["overall"] == direct["overall"]
    # without dates: the 28 days up to today on the service's clock (4 Nov 2026)
    default = app_client.get(OPS, headers=lena).json()
    assert (default["since"][:10], default["until"][:10]) == ("2026-10-08", "2026-11-05")
    assert default["overall"]["contacts"] == 5


@pytest.mark.parametrize("params, field", [
    ({"since": "2.11.2026"}, "since"), ({"until": "2026-13-01"}, "until"),
    ({"since": "2026-11-04", "until": "2026-11-02"}, "since"),
    ({"since": "2025-01-01", "until": "2026-11-02"}, "since"),
    ({"tier": "diamond"}, "tier"), ({"tier": "<b>"}, "tier"), ({"queue": "nope"}, "queue"),
    ({"agent": "nobody"}, "agent"), ({"intent": "x" * 129}, "intent"),
    ({"intent": "track_pizza"}, "intent"), ({"threshold": "0"}, "threshold"),
    ({"threshold": "soon"}, "threshold"),
])
def test_bad_input_is_a_clear_422(app_client: TestClient, history: sessionmaker[Session], params: dict[str, str],
                                  field: str) -> None:
    lena = signed_in(app_client, "lena", "pw-lena-12345")
    response = app_client.get(OPS, params=params, headers=lena)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", field]


def test_sign_in_is_needed_and_cookie_sessions_work(app_client: TestClient, history: sessionmaker[Session]) -> None:
    for path in (OPS, "/api/v1/analytics/staffing", "/api/v1/analytics/options"):
        assert app_client.get(path).status_code == 401
        assert app_client.get(path, headers={"Authorization": "Bearer forged"}).status_code == 401
    # the console's cookie session reads the figures (GET: no CSRF token needed)
    login = app_client.post("/api/v1/agent/login",
                            json={"login": "lena", "password": "pw-lena-12345", "session": "cookie"})
    assert login.status_code == 200 and login.json()["agent"]["role"] == "lead"
    assert app_client.get(OPS, params=RANGE).json()["scope"] == "all"
    staffing = app_client.get("/api/v1/analytics/staffing").json()
    assert [(q["queue"], q["agents"], q["online_agents"]) for q in staffing] == [
        ("vip", 2, 0), ("priority", 1, 0), ("general", 0, 0)]
    options = app_client.get("/api/v1/analytics/options").json()
    assert [a["name"] for a in options["agents"]] == ["alice", "bob", "lena"] and options["today"] == "2026-11-04"
    assert options["tiers"] == ["platinum", "gold", "silver", "bronze"]


def test_roles_from_the_command_line(app_client: TestClient, history: sessionmaker[Session], database_url: str,
                                     monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from routing.cli import main
    from routing.settings import get_settings

    monkeypatch.setenv("CONCIERGE_DATABASE_URL", database_url)
    monkeypatch.setenv("CONCIERGE_ENV", "development")
    get_settings.cache_clear()
    try:
        assert main(["agents", "role", "bob", "lead"]) == 0
        assert main(["agents", "role", "nobody", "lead"]) == 1
        with pytest.raises(SystemExit):
            main(["agents", "role", "bob", "boss"])  # argparse: not a role
        monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
        assert main(["agents", "add", "--login", "sam", "--name", "Sam", "--password-stdin", "--role", "admin"]) == 0
        monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
        assert main(["agents", "add", "--login", "tom", "--name", "Tom", "--password-stdin"]) == 2  # an agent serves
    finally:
        get_settings.cache_clear()
    with history() as s:
        assert dict(s.execute(select(Agent.login, Agent.role)).tuples().all()) == {
            "alice": "agent", "bob": "lead", "lena": "lead", "sam": "admin"}
    bob = signed_in(app_client, "bob", "pw-bob-123456")
    assert get(app_client, bob)["scope"] == "all"  # a lead now: every figure
    assert "bob is now lead" in capsys.readouterr().out
