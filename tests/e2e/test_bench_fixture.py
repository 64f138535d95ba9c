"""The look-up benchmark's PostgreSQL fixture: loaded by COPY with every tier, labelled, reused by the next run."""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from bench import fixture, lookup
from routing.policy.loader import load_policy
from routing.settings import ROOT

NAME = f"concierge_bench_test{os.environ.get('CONCIERGE_TEST_DB_SUFFIX', '')}_{os.getpid()}"
URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{NAME}"


def _drop() -> None:
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(NAME)))


@pytest.fixture()
def scratch() -> Iterator[str]:
    _drop()
    yield URL
    _drop()


def test_loads_once_then_reuses_the_labelled_database(scratch: str) -> None:
    policy = load_policy(ROOT / "routing" / "policy.yml")
    first = lookup.run(scratch, customers=300, lookups=50, policy=policy)
    assert first["backend"] == "postgresql" and first["customers"] == 300 and first["reused"] is False
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={NAME}") as conn:
        counts = conn.execute("SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM customer_tiers), "
                              "(SELECT count(*) FROM orders)").fetchone()
    assert counts is not None and counts[0] == counts[1] == 300 and counts[2] == first["orders"]
    label = fixture.stored_label(scratch)
    assert label is not None and label.startswith(fixture.fixture_label(300, 7, fixture.schema_revision(scratch)))

    second = lookup.run(scratch, customers=300, lookups=50, policy=policy)
    assert second["reused"] is True and second["load_seconds"] == pytest.approx(first["load_seconds"], abs=0.1)
    assert second["orders"] == first["orders"]

    third = lookup.run(scratch, customers=200, lookups=50, policy=policy)  # another size: loaded again
    assert third["reused"] is False and third["customers"] == 200


def test_refuses_to_drop_a_database_not_named_for_benchmarks() -> None:
    with pytest.raises(SystemExit, match="refusing to drop"):
        fixture.recreate("postgresql+psycopg://postgres@127.0.0.1:5432/concierge_cluster")
