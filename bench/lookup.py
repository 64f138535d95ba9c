"""Benchmark of customer/tier look-ups through the service layer (prints p50/p95/p99 in ms, then JSON).

python -m bench.lookup --customers 100000 [--database-url postgresql+psycopg://...] [--lookups 2000]
The shop comes from bench/fixture.py (COPY into PostgreSQL, kept between runs in a concierge_bench* database).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bench import fixture
from clock import utcnow
from routing.customers import service
from routing.customers.models import Customer
from routing.customers.schemas import CustomerOut
from routing.customers.service import CustomerWithTier
from routing.db import make_engine, upgrade
from routing.decisions.schemas import DecisionIn
from routing.decisions.service import make_decision
from routing.orders.models import Order
from routing.policy.definition import Policy
from routing.policy.loader import load_policy
from routing.settings import get_settings


def _percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50_ms": round(cuts[49], 3), "p95_ms": round(cuts[94], 3), "p99_ms": round(cuts[98], 3),
            "max_ms": round(max(samples), 3), "n": len(samples)}


def _time(session: Session, policy: Policy, finder: Callable[[Session, str], CustomerWithTier | None], keys: list[str]
          ) -> list[float]:
    samples = []
    for key in keys:
        start = time.perf_counter()
        found = finder(session, key)
        if found is None:
            raise RuntimeError(f"benchmark key not found: {key}")
        CustomerOut.build(policy, *found)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _time_decisions(session: Session, policy: Policy, customer_ids: list[int]) -> list[float]:
    """Policy decision + its audit record, committed: what POST /api/v1/decisions does besides HTTP."""
    intents = ["contact_human_agent", "complaint", "track_order", "get_refund", "payment_issue"]
    samples = []
    for i, customer_id in enumerate(customer_ids):
        request = DecisionIn(conversation_id=f"bench-{i}", customer_id=customer_id, intent=intents[i % len(intents)],
                             bot_failures=i % 3, human_requests=i % 2, facts={})
        start = time.perf_counter()
        make_decision(session, policy, request)
        session.commit()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _load(database_url: str, customers: int, seed: int, policy: Policy) -> tuple[float, bool]:
    """The shop of `customers` in the database with tiers computed: loaded now, or kept from an earlier run when
    PostgreSQL's label says it holds the same fixture. Returns (seconds the load took, whether it was reused)."""
    postgres = database_url.startswith("postgresql")
    wanted = fixture.fixture_label(customers, seed, fixture.schema_revision(database_url))
    if postgres:
        earlier = fixture.load_seconds_if_loaded(fixture.stored_label(database_url), wanted)
        if earlier is not None:
            return earlier, True
        fixture.recreate(database_url)
    started = time.perf_counter()
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            if session.scalar(select(func.count()).select_from(Customer)):
                raise SystemExit(f"bench-lookup needs an empty scratch database; {engine.url!r} has customers")
        fixture.load(engine, policy, customers, seed, utcnow())
        if postgres:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
    finally:
        engine.dispose()
    seconds = time.perf_counter() - started
    if postgres:
        fixture.write_label(database_url, fixture.loaded_label(wanted, seconds))
    return seconds, False


def _keys(session: Session, customers: int, lookups: int, seed: int) -> tuple[list[tuple[int, str, str]], list[str]]:
    """Random customers (id, external id, email) and order numbers to look up, read from the database."""
    rng = random.Random(seed)
    ids = rng.sample(range(1, customers + 1), min(lookups, customers))
    picked = [(int(i), str(x), str(e)) for i, x, e in session.execute(
        select(Customer.id, Customer.external_id, Customer.email).where(Customer.id.in_(ids))).all()]
    rng.shuffle(picked)
    last_order = session.scalar(select(func.max(Order.id))) or 0
    order_ids = rng.sample(range(1, last_order + 1), min(lookups, last_order))
    numbers = [str(n) for n in session.scalars(select(Order.number).where(Order.id.in_(order_ids)))]
    rng.shuffle(numbers)
    return picked, numbers


def run(database_url: str | None, customers: int, lookups: int, policy: Policy, seed: int = 7) -> dict[str, object]:
    """Load a shop of `customers` (no line items; a PostgreSQL scratch database is kept for the next run) and time
    look-ups by external id, email and order number, and decisions with their audit record."""
    tmp = None
    if database_url is None:
        tmp = tempfile.TemporaryDirectory(prefix="concierge-bench-")
        database_url = f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    load_seconds, reused = _load(database_url, customers, seed, policy)
    engine = make_engine(database_url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions() as session:
        picked, numbers = _keys(session, customers, lookups, seed)
        orders = session.scalar(select(func.count()).select_from(Order)) or 0
    result: dict[str, object] = {"backend": engine.dialect.name, "customers": customers, "orders": orders,
                                 "load_seconds": round(load_seconds, 2), "reused": reused,
                                 "load_average_1m": round(os.getloadavg()[0], 2)}  # a busy machine: slower
    with sessions() as session:
        _time(session, policy, service.get_by_external_id, [c[1] for c in picked[:50]])  # warm-up
        result["external_id"] = _percentiles(_time(session, policy, service.get_by_external_id,
                                                   [c[1] for c in picked]))
        result["email"] = _percentiles(_time(session, policy, service.get_by_email, [c[2] for c in picked]))
        result["order_number"] = _percentiles(_time(session, policy, service.get_by_order_number, numbers))
        result["decision"] = _percentiles(_time_decisions(session, policy, [c[0] for c in picked]))
    engine.dispose()
    if tmp is not None:
        tmp.cleanup()
    return result


def print_result(result: dict[str, object]) -> None:
    """A small table, then the JSON."""
    how = "kept from an earlier run, which loaded it in" if result["reused"] else "loaded in"
    print(f"lookup latency, {result['backend']}, {result['customers']:,} customers, {result['orders']:,} orders "
          f"({how} {result['load_seconds']} s)")
    print(f"{'key':<14}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for key in ("external_id", "email", "order_number", "decision"):
        r = cast(dict[str, float], result[key])
        print(f"{key:<14}{r['p50_ms']:>10.3f}{r['p95_ms']:>10.3f}{r['p99_ms']:>10.3f}{r['max_ms']:>10.3f}")
    print(json.dumps(result))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lookup", description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--database-url", default=None,
                        help="default: a temporary SQLite file. PostgreSQL: a scratch database named concierge_bench*, "
                             "re-created and loaded unless it already holds this fixture (then kept)")
    args = parser.parse_args(argv)
    print_result(run(args.database_url, args.customers, args.lookups, load_policy(get_settings().policy_file)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
