"""The race: 50 concurrent claimers (threads, each with its own session) over 500 escalations on real PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest
from fixtures_human_support import hs_policy_file
from sqlalchemy import delete, func, select
from sqlalchemy.orm import sessionmaker

from routing.agents.service import create_agent
from routing.db import Base, make_engine
from routing.escalations import claims, service
from routing.escalations.models import Escalation, EscalationEvent
from routing.escalations.schemas import EscalationIn
from routing.policy.loader import load_policy

AGENTS, THREADS_PER_AGENT, CAPACITY, ESCALATIONS = 25, 2, 20, 500


@pytest.mark.postgres
def test_no_double_assignment_and_no_agent_over_capacity(hs_pg_url: str, tmp_path: Path) -> None:
    policy = load_policy(hs_policy_file(tmp_path))
    engine = make_engine(hs_pg_url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
    with sessions() as session:
        ids = [create_agent(session, f"a{n}", f"Agent {n}", "pw", ["general", "vip"], max_chats=CAPACITY).id
               for n in range(AGENTS)]
        session.commit()
        for n in range(ESCALATIONS):
            service.create(session, EscalationIn(
                conversation_id=f"race-{n}", idempotency_key=f"race-{n}", tier="bronze",
                queue="vip" if n % 3 == 0 else "general", priority=n % 7, sla_seconds=60 + n), policy)
        session.commit()  # the caller owns the transaction

    start, errors, claimed = threading.Barrier(AGENTS * THREADS_PER_AGENT), [], Counter()
    lock = threading.Lock()

    def claimer(agent_id: int) -> None:
        start.wait()
        with sessions() as session:
            while True:
                try:
                    esc = claims.claim_next(session, agent_id, policy)
                except service.AtCapacity:
                    return
                except Exception as exc:
                    errors.append(exc)
                    return
                if esc is None:
                    return
                session.commit()
                with lock:
                    claimed[esc.id] += 1

    threads = [threading.Thread(target=claimer, args=(agent_id,)) for agent_id in ids
               for _ in range(THREADS_PER_AGENT)]
    assert len(threads) >= 50
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)

    assert errors == []
    assert max(claimed.values()) == 1 and len(claimed) == ESCALATIONS  # every escalation claimed exactly once
    with sessions() as session:
        per_agent = dict(session.execute(select(Escalation.agent_id, func.count()).where(
            Escalation.status == "assigned").group_by(Escalation.agent_id)).all())
        assert sum(per_agent.values()) == ESCALATIONS and max(per_agent.values()) <= CAPACITY
        claim_events = session.execute(select(EscalationEvent.escalation_id, func.count()).where(
            EscalationEvent.kind == "claimed").group_by(EscalationEvent.escalation_id)).all()
        assert len(claim_events) == ESCALATIONS and {n for _, n in claim_events} == {1}
        assert session.scalar(select(func.count()).select_from(Escalation).where(Escalation.status == "waiting")) == 0
    engine.dispose()
