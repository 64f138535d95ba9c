"""Migration 0004 on a database that already holds work (SQLite and PostgreSQL): outbox items get their lane and
state, escalations a version; it downgrades and upgrades again."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from pg import drop_database, fresh_database
from sqlalchemy import text

from routing.db import alembic_config, make_engine

NOW = "2026-11-30 12:00:00"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'routing.db'}"
        return
    name, url = fresh_database("concierge_test_migrations" + os.environ.get("CONCIERGE_TEST_DB_SUFFIX", ""))
    yield url
    drop_database(name)


def test_0004_keeps_the_outbox_and_escalations(empty_url: str) -> None:
    cfg = alembic_config(empty_url)
    command.upgrade(cfg, "0003")
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        for kind, conversation, sent in [("agent_message", "c1", NOW), ("agent_message", "c1", None),
                                         ("webhook", "c1", None), ("end_handoff", "c2", None)]:
            conn.execute(text(
                "INSERT INTO escalation_outbox (kind, conversation_id, payload, attempts, next_attempt_at, created_at,"
                " sent_at) VALUES (:kind, :conv, '{}', 1, :now, :now, :sent)"),
                {"kind": kind, "conv": conversation, "now": NOW, "sent": sent})
        conn.execute(text(
            "INSERT INTO escalations (conversation_id, idempotency_key, tier, tier_reason, queue, priority, "
            "enqueued_epoch, reason, rule, intent, facts, summary, transcript, status, created_at, updated_at) "
            "VALUES ('c1', 'k1', 'gold', '', 'general', 0, 0, '', '', '', '{}', '', '[]', 'waiting', :now, :now)"),
            {"now": NOW})
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT lane, state, message_id, dead_at FROM escalation_outbox ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [("chat:c1", "sent", None, None), ("chat:c1", "pending", None, None),
                                            ("webhook:c1", "pending", None, None), ("chat:c2", "pending", None, None)]
        assert conn.execute(text("SELECT version FROM escalations")).scalar_one() == 1
    command.downgrade(cfg, "0003")
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM escalation_outbox WHERE state = 'sent'")).scalar_one() == 1
    engine.dispose()


def test_0006_gives_existing_agents_the_agent_role(empty_url: str) -> None:
    cfg = alembic_config(empty_url)
    command.upgrade(cfg, "0005")
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO agents (login, name, password_hash, status, max_chats, created_at, "
                          "status_changed_at) VALUES ('ann', 'Ann', 'x', 'offline', 3, :now, :now)"), {"now": NOW})
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT role FROM agents")).scalar_one() == "agent"  # own figures only
    command.downgrade(cfg, "0005")
    command.upgrade(cfg, "head")
    engine.dispose()
