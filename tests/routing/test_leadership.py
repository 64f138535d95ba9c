"""One replica at a time runs the queue updates: a PostgreSQL advisory lock, released when its holder dies."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from pg import drop_database, fresh_database
from sqlalchemy import Engine, create_engine, text

from routing.leadership import Leadership


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    name, url = fresh_database("concierge_test_leadership")
    engine = create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        drop_database(name)


def test_one_holder_and_a_takeover_when_it_is_gone(pg_engine: Engine) -> None:
    key = uuid.uuid4().int % 2**31
    replica_a, replica_b = Leadership(pg_engine, key), Leadership(pg_engine, key)
    assert replica_a.held()
    assert not replica_b.held()
    assert replica_a.held(), "the holder keeps the lock round after round"

    # the holder's server connection ends (as when its process is killed): the other takes over
    with pg_engine.connect() as admin:
        # with a timeout, pg_terminate_backend waits until the backend is gone (and its locks with it)
        admin.execute(text("SELECT pg_terminate_backend(pid, 10000) FROM pg_locks WHERE locktype = 'advisory' "
                           "AND objid = :key"), {"key": key})
        admin.commit()
    assert replica_b.held()
    assert not replica_a.held()
    replica_b.close()
    assert replica_a.held()
    replica_a.close()


def test_sqlite_is_one_process_and_always_held() -> None:
    engine = create_engine("sqlite://")
    assert Leadership(engine, 1).held()
