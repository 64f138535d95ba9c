"""Escalation state transitions are compare-and-sets: when two steps race (claim and callback, claim and expiry,
resolve and transfer, ...), exactly one applies, the other gets 409 and writes nothing, and the final state is
consistent (never assigned without an agent). SQLite and PostgreSQL, real threads and real HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest
from fastapi import FastAPI
from fixtures_human_support import BOT, add_agent, packet, serve
from sqlalchemy import Engine, event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from routing.agents.models import Agent
from routing.agents.service import create_agent
from routing.db import make_engine
from routing.errors import Conflict
from routing.escalations import claims, service
from routing.escalations.flows import ChangedMeanwhile
from routing.escalations.models import Escalation, EscalationEvent, OutboxItem
from routing.escalations.schemas import Contact, EscalationIn
from routing.policy.definition import Policy
from routing.policy.loader import load_policy

ROUNDS = 10
CONTACT = Contact(email="pat@example.com")


# ---- deterministic interleavings: the other step commits between this step's read and its write ----------------

@contextmanager
def just_before_update(engine: Engine, other: Callable[[], object]) -> Iterator[list[threading.Thread]]:
    """The first time `engine` is about to update an escalation, run `other` (a whole step in its own session,
    committed) in another thread and give it a second to finish: the interleaving that a race produces. (On
    PostgreSQL a row this step has locked makes `other` wait for our commit instead; it is joined afterwards.)"""
    started: list[threading.Thread] = []

    def hook(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not started and statement.lstrip().upper().startswith("UPDATE ESCALATIONS "):
            thread = threading.Thread(target=other)
            started.append(thread)
            thread.start()
            thread.join(1)

    event.listen(engine, "before_cursor_execute", hook)
    try:
        yield started
    finally:
        event.remove(engine, "before_cursor_execute", hook)


class Racers(NamedTuple):
    """This step's engine and sessions, the other step's sessions (another engine), the policy."""

    engine: Engine
    mine: sessionmaker[Session]
    theirs: sessionmaker[Session]
    policy: Policy


@pytest.fixture
def racers(hs_db_url: str, hs_policy: Path) -> Iterator[Racers]:
    mine, theirs = make_engine(hs_db_url), make_engine(hs_db_url)
    yield Racers(mine, sessionmaker(mine, expire_on_commit=False), sessionmaker(theirs, expire_on_commit=False),
                 load_policy(hs_policy))
    mine.dispose()
    theirs.dispose()


def _open(sessions: sessionmaker[Session], policy: Policy, name: str) -> tuple[int, int]:
    """A waiting escalation and an agent serving general and vip: (escalation id, agent id)."""
    with sessions.begin() as s:
        agent = create_agent(s, f"agent-{name}", "Carol", "pw", ["general", "vip"], max_chats=50)
        esc, _ = service.create(s, EscalationIn(conversation_id=name, idempotency_key=name, tier="gold",
                                                queue="general"), policy)
        return esc.id, agent.id


def _row(sessions: sessionmaker[Session], esc_id: int) -> tuple[Escalation, list[str]]:
    with sessions() as s:
        esc = s.get(Escalation, esc_id)
        assert esc is not None
        kinds = list(s.scalars(select(EscalationEvent.kind).where(EscalationEvent.escalation_id == esc_id)
                               .order_by(EscalationEvent.id)))
        return esc, kinds


def test_a_callback_read_before_a_claim_loses_with_409(racers: Racers) -> None:
    engine, mine, theirs, policy = racers
    esc_id, agent_id = _open(theirs, policy, "cb-vs-claim")

    def claim() -> None:
        with theirs() as s:
            assert claims.claim(s, agent_id, esc_id) is not None
            s.commit()

    with mine() as s, just_before_update(engine, claim) as other:
        with pytest.raises(ChangedMeanwhile, match="assigned now"):
            service.request_callback(s, esc_id, CONTACT)
        s.rollback()
    other[0].join(10)
    esc, kinds = _row(theirs, esc_id)
    assert (esc.status, esc.agent_id, esc.contact, kinds) == ("assigned", agent_id, None, ["created", "claimed"])


def test_an_expiry_never_overrides_a_claim_that_just_happened(racers: Racers) -> None:
    engine, mine, theirs, policy = racers
    esc_id, agent_id = _open(theirs, policy, "expiry-vs-claim")
    with theirs.begin() as s:
        s.execute(update(Escalation).where(Escalation.id == esc_id).values(expires_at=utcnow() - timedelta(seconds=1)))
    outcome: list[object] = []

    def claim() -> None:
        with theirs() as s:
            try:
                outcome.append(claims.claim(s, agent_id, esc_id))
                s.commit()
            except Conflict as exc:
                outcome.append(exc)

    with mine() as s, just_before_update(engine, claim) as other:
        expired = service.expire_due(s)
        s.commit()
    other[0].join(10)
    esc, kinds = _row(theirs, esc_id)
    if expired:  # PostgreSQL: the expiry locked the row first; the claim then finds it expired (409)
        assert isinstance(outcome[0], claims.NotClaimable)
        assert (esc.status, esc.agent_id, kinds) == ("expired", None, ["created", "expired"])
    else:  # SQLite (no row locks): the claim got there first; the expiry's compare-and-set leaves it alone
        assert isinstance(outcome[0], Escalation)
        assert (esc.status, esc.agent_id, kinds) == ("assigned", agent_id, ["created", "claimed"])
    with theirs() as s:  # an expiry that lost relays nothing
        assert s.scalar(select(func.count()).select_from(OutboxItem).where(OutboxItem.kind == "end_handoff")) \
            == expired


@pytest.mark.parametrize("first", ["transfer", "resolve"])
def test_a_resolve_and_a_transfer_from_the_same_state_never_both_apply(racers: Racers, first: str) -> None:
    engine, mine, theirs, policy = racers
    esc_id, agent_id = _open(theirs, policy, f"resolve-vs-transfer-{first}")
    with theirs() as s:
        claims.claim(s, agent_id, esc_id)
        s.commit()

    def step(session: Session, name: str) -> None:
        esc, agent = session.get(Escalation, esc_id), session.get(Agent, agent_id)
        assert esc is not None and agent is not None
        if name == "transfer":
            service.transfer(session, esc, agent, "vip", "needs a specialist", policy)
        else:
            service.resolve(session, esc, agent, "resolved", None, policy)

    second = "resolve" if first == "transfer" else "transfer"

    def other() -> None:
        with theirs() as s:
            step(s, first)
            s.commit()

    with mine() as s:
        s.get(Escalation, esc_id)  # read before the other step commits
        with just_before_update(engine, other) as started, pytest.raises(ChangedMeanwhile):
            step(s, second)
        s.rollback()
    started[0].join(10)
    esc, kinds = _row(theirs, esc_id)
    if first == "transfer":
        assert (esc.status, esc.queue, esc.agent_id, esc.closed_at) == ("waiting", "vip", None, None)
        assert kinds == ["created", "claimed", "transferred"]
    else:
        assert (esc.status, esc.queue, esc.agent_id) == ("resolved", "general", agent_id) and esc.closed_at
        assert kinds == ["created", "claimed", "resolved"]


def test_a_reply_never_lands_after_the_escalation_was_resolved(racers: Racers) -> None:
    engine, mine, theirs, policy = racers
    esc_id, agent_id = _open(theirs, policy, "reply-vs-resolve")
    with theirs() as s:
        claims.claim(s, agent_id, esc_id)
        s.commit()
    with theirs() as s:  # the first reply makes it active
        esc, agent = s.get(Escalation, esc_id), s.get(Agent, agent_id)
        assert esc is not None and agent is not None
        service.add_agent_message(s, esc, agent, "Hello!")
        s.commit()

    def resolve() -> None:
        with theirs() as s:
            esc, agent = s.get(Escalation, esc_id), s.get(Agent, agent_id)
            assert esc is not None and agent is not None
            service.resolve(s, esc, agent, "resolved", None, policy)
            s.commit()

    with mine() as s:
        esc, agent = s.get(Escalation, esc_id), s.get(Agent, agent_id)
        assert esc is not None and agent is not None and esc.status == "active"
        with just_before_update(engine, resolve) as started, pytest.raises(ChangedMeanwhile,
                                                                                      match="resolved now"):
            service.add_agent_message(s, esc, agent, "One more thing...")
        s.rollback()
    started[0].join(10)
    with theirs() as s:
        texts = [p["text"] for p in s.scalars(select(OutboxItem.payload).where(OutboxItem.kind == "agent_message"))]
        assert "One more thing..." not in texts and "Hello!" in texts


# ---- real races: two HTTP clients at once, many times -------------------------------------------------------------

def _race(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """Start every call at the same instant (one thread each) and return the answers."""
    barrier = threading.Barrier(len(calls))
    answers: list[httpx.Response | None] = [None] * len(calls)

    def run(i: int, call: Callable[[], httpx.Response]) -> None:
        barrier.wait()
        answers[i] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(a is not None for a in answers)
    return [a for a in answers if a is not None]


def _consistent(sessions: sessionmaker[Session]) -> None:
    """Never assigned or active without an agent; never called back or waiting with one."""
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Escalation).where(
            Escalation.status.in_(("assigned", "active")), Escalation.agent_id.is_(None))) == 0
        assert s.scalar(select(func.count()).select_from(Escalation).where(
            Escalation.status.in_(("waiting", "callback_requested", "expired")),
            Escalation.agent_id.is_not(None))) == 0


@pytest.fixture
def http(hs_app: FastAPI) -> Iterator[tuple[httpx.Client, httpx.Client, httpx.Client, int]]:
    """The app over real HTTP: the bot's client, two clients of one agent (two tabs), and the agent's id."""
    agent_id = add_agent(hs_app.state.sessions, "carol", ["general", "vip"], max_chats=100)
    with serve(hs_app) as base, httpx.Client(base_url=base, headers=BOT, timeout=30) as bot:
        token = bot.post("/api/v1/agent/login", json={"login": "carol", "password": "pw"}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=auth, timeout=30) as tab1, \
                httpx.Client(base_url=base, headers=auth, timeout=30) as tab2:
            yield bot, tab1, tab2, agent_id


def test_claim_and_callback_race_over_http(http: Any, hs_app: FastAPI) -> None:
    bot, agent, _, agent_id = http
    sessions = hs_app.state.sessions
    seen = set()
    for n in range(ROUNDS):
        esc_id = bot.post("/api/v1/escalations", json=packet(f"claim-cb-{n}")).json()["id"]
        claim, callback = _race(partial(agent.post, f"/api/v1/agent/escalations/{esc_id}/claim"),
                                partial(bot.post, f"/api/v1/escalations/{esc_id}/callback",
                                        json={"contact": {"email": "pat@example.com"}}))
        codes = (claim.status_code, callback.status_code)
        seen.add(codes)
        esc, kinds = _row(sessions, esc_id)
        if codes == (200, 409):  # the claim won; a callback of an assigned escalation is refused
            assert (esc.status, esc.agent_id, kinds) == ("assigned", agent_id, ["created", "claimed"])
        elif codes == (409, 200):  # the callback won between the claim's read and its write
            assert (esc.status, esc.agent_id, kinds) == ("callback_requested", None,
                                                         ["created", "callback_requested"])
        else:  # one after the other: the callback, then the agent took the callback request
            assert codes == (200, 200), (claim.text, callback.text)
            assert (esc.status, esc.agent_id, kinds) == ("assigned", agent_id,
                                                         ["created", "callback_requested", "claimed"])
            assert esc.contact is not None and esc.contact["email"] == "pat@example.com"
        for answer in (claim, callback):
            assert answer.status_code != 409 or answer.json()["detail"]
    _consistent(sessions)
    assert seen <= {(200, 409), (409, 200), (200, 200)}


def _expire(sessions: sessionmaker[Session], expired: list[int], after: float) -> httpx.Response:
    """The expiry worker's step, in its own transaction, `after` seconds late."""
    time.sleep(after)
    with sessions.begin() as s:
        expired.append(service.expire_due(s))
    return httpx.Response(200)


def test_claim_and_expiry_race(http: Any, hs_app: FastAPI) -> None:
    bot, agent, _, agent_id = http
    sessions: sessionmaker[Session] = hs_app.state.sessions
    for n in range(ROUNDS):
        esc_id = bot.post("/api/v1/escalations", json=packet(f"claim-exp-{n}")).json()["id"]
        with sessions.begin() as s:
            s.execute(update(Escalation).where(Escalation.id == esc_id)
                      .values(expires_at=utcnow() - timedelta(seconds=1)))
        expired: list[int] = []
        # vary who goes first (the claim's HTTP round trip takes a few milliseconds)
        claim, _ = _race(partial(agent.post, f"/api/v1/agent/escalations/{esc_id}/claim"),
                         partial(_expire, sessions, expired, 0.005 * (n % 3)))
        esc, kinds = _row(sessions, esc_id)
        if claim.status_code == 200:
            assert (esc.status, esc.agent_id, kinds) == ("assigned", agent_id, ["created", "claimed"])
            assert expired == [0]
        else:  # expired first (by this expiry, or by the service's own expiry worker)
            assert claim.status_code == 409 and "expired" in claim.json()["detail"]
            assert (esc.status, esc.agent_id, kinds) == ("expired", None, ["created", "expired"])
    _consistent(sessions)


def test_resolve_and_transfer_race_over_http(http: Any, hs_app: FastAPI) -> None:
    bot, tab1, tab2, agent_id = http
    sessions = hs_app.state.sessions
    for n in range(ROUNDS):
        esc_id = bot.post("/api/v1/escalations", json=packet(f"res-tr-{n}")).json()["id"]
        url = f"/api/v1/agent/escalations/{esc_id}"
        assert tab1.post(f"{url}/claim").status_code == 200
        resolve, transfer = _race(partial(tab1.post, f"{url}/resolve", json={"disposition": "resolved"}),
                                  partial(tab2.post, f"{url}/transfer", json={"queue": "vip", "reason": "specialist"}))
        assert sorted((resolve.status_code, transfer.status_code)) == [200, 409], (resolve.text, transfer.text)
        esc, kinds = _row(sessions, esc_id)
        with sessions() as s:
            ends = s.scalar(select(func.count()).select_from(OutboxItem).where(
                OutboxItem.kind == "end_handoff", OutboxItem.conversation_id == f"res-tr-{n}"))
        if resolve.status_code == 200:
            assert (esc.status, esc.agent_id, kinds[-1], ends) == ("resolved", agent_id, "resolved", 1)
        else:
            assert (esc.status, esc.queue, esc.agent_id, kinds[-1], ends) == ("waiting", "vip", None, "transferred", 0)
        assert kinds[:2] == ["created", "claimed"] and len(kinds) == 3
    _consistent(sessions)
