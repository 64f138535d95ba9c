"""Agent accounts: hashed passwords, tokens, status, demo agents and the `agents add` command."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from fixtures_human_support import BOT
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from routing.agents.demo import create_demo_agents
from routing.agents.models import Agent, AgentToken
from routing.cli import main


def test_demo_agents_login_and_status(hs_client: TestClient, hs_sessions: sessionmaker[Session]) -> None:
    with hs_sessions() as s:
        assert create_demo_agents(s) == 4 and create_demo_agents(s) == 0
        s.commit()
        alice = s.scalars(select(Agent).where(Agent.login == "alice")).one()
        assert alice.queues == ["priority", "vip"] and alice.password_hash.startswith("$argon2")
    login = hs_client.post("/api/v1/agent/login", json={"login": "alice", "password": "demo"})
    assert login.status_code == 200 and login.json()["agent"]["queues"] == ["priority", "vip"]
    with hs_sessions() as s:  # only a hash of the token is stored
        assert login.json()["token"] not in {t.token_hash for t in s.scalars(select(AgentToken))}
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    assert hs_client.get("/api/v1/queues/vip/availability", headers=BOT).json()["staffed"] is False
    online = hs_client.post("/api/v1/agent/status", json={"status": "online"}, headers=headers)
    assert online.json()["status"] == "online"
    assert hs_client.get("/api/v1/queues/vip/availability", headers=BOT).json()["online_agents"] == 1
    bad = hs_client.post("/api/v1/agent/status", json={"status": "asleep"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "status"]


def test_agents_add_command(hs_db_url: str, hs_policy: Path, hs_client: TestClient,
                            monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    env = {"CONCIERGE_DATABASE_URL": hs_db_url, "CONCIERGE_POLICY_FILE": str(hs_policy), "CONCIERGE_ENV": "development"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from routing.settings import get_settings

    def add(password: str, *argv: str) -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))  # the password is never an argument
        return main(["agents", "add", "--login", "dana", "--name", "Dana", "--password-stdin", *argv])

    get_settings.cache_clear()
    try:
        assert add("a-long-password", "--queues", "vip,nope") == 2
        assert add("short", "--queues", "vip,general") == 2  # under 12 characters
        assert add("a-long-password", "--queues", "vip,general", "--max-chats", "5") == 0
        assert add("a-long-password", "--queues", "vip") == 1
        assert main(["escalations", "expire"]) == 0
    finally:
        get_settings.cache_clear()
    signed_in = hs_client.post("/api/v1/agent/login", json={"login": "dana", "password": "a-long-password"})
    me = hs_client.get("/api/v1/agent/me", headers={"Authorization": f"Bearer {signed_in.json()['token']}"}).json()
    assert me["queues"] == ["general", "vip"] and me["max_chats"] == 5
    out = capsys.readouterr().out
    assert "unknown nope" in out and "at least 12 characters" in out


def test_failed_sign_ins_are_throttled_before_any_hash(hs_client: TestClient, hs_sessions: sessionmaker[Session]
                                                       ) -> None:
    with hs_sessions() as session:
        create_demo_agents(session)
        session.commit()
    for _ in range(5):
        assert hs_client.post("/api/v1/agent/login", json={"login": "alice", "password": "guess"}).status_code == 401
    blocked = hs_client.post("/api/v1/agent/login", json={"login": "alice", "password": "demo"})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0  # even the right password waits
    assert hs_client.post("/api/v1/agent/login", json={"login": "bob", "password": "demo"}).status_code == 200
    for n in range(15):  # one address guessing many logins: 5 + 15 failures from it
        assert hs_client.post("/api/v1/agent/login", json={"login": f"user{n}", "password": "guess"}).status_code == 401
    assert hs_client.post("/api/v1/agent/login", json={"login": "bob", "password": "demo"}).status_code == 429


def _from(client: TestClient, address: str) -> TestClient:
    """A client of the same app whose requests come from `address`."""
    return TestClient(client.app, client=(address, 40000))


def _sign_in(client: TestClient, password: str, login: str = "alice") -> int:
    return client.post("/api/v1/agent/login", json={"login": login, "password": password}).status_code


def test_a_stranger_cannot_lock_an_agent_out(hs_client: TestClient, hs_sessions: sessionmaker[Session]) -> None:
    """Failures lock a login for the address they come from, not for the agent signing in from elsewhere."""
    with hs_sessions() as session:
        create_demo_agents(session)
        session.commit()
    attacker, agent = _from(hs_client, "203.0.113.66"), _from(hs_client, "198.51.100.7")
    for _ in range(5):
        assert _sign_in(attacker, "guess") == 401
    for password in ("guess", "demo"):  # the attacker's address is locked for this login, right password or not
        blocked = attacker.post("/api/v1/agent/login", json={"login": "alice", "password": password})
        assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert _sign_in(agent, "demo") == 200  # the agent, from their own address, signs in
    assert _sign_in(attacker, "demo", "bob") == 200  # the address may still sign in to another login
    for n in range(15):  # and it is locked for every login after 20 failures (5 + 15)
        assert _sign_in(attacker, "guess", f"user{n}") == 401
    assert _sign_in(attacker, "demo", "bob") == 429
    assert _sign_in(agent, "demo") == 200


def test_guesses_spread_over_addresses_slow_down_but_the_agent_still_gets_in(
        hs_client: TestClient, hs_sessions: sessionmaker[Session]) -> None:
    """30 failures for one login from all addresses together hold back every address that has failed on it; an
    address without a failure still has its password checked."""
    with hs_sessions() as session:
        create_demo_agents(session)
        session.commit()
    guessers = [_from(hs_client, f"203.0.113.{n}") for n in range(10)]
    for guesser in guessers:
        for _ in range(3):  # under the 5 of one address
            assert _sign_in(guesser, "guess") == 401
    assert _sign_in(guessers[0], "demo") == 429  # 30 failures on the login: an address that failed waits
    fresh = _from(hs_client, "203.0.113.200")
    assert _sign_in(fresh, "guess") == 401  # a new address gets one guess, not five
    assert _sign_in(fresh, "guess") == 429
    assert _sign_in(_from(hs_client, "198.51.100.7"), "demo") == 200  # the agent's clean address gets in
