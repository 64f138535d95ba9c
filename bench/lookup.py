"""Benchmark of customer/tier look-ups through the service layer (prints p50/p95/p99 in ms, then JSON).

python -m bench.lookup --customers 100000 [--database-url postgresql+psycopg://...] [--lookups 2000]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from routing.customers import service
from routing.customers.models import Customer
from routing.customers.schemas import CustomerOut
from routing.customers.service import CustomerWithTier
from routing.db import make_engine, upgrade
from routing.decisions.schemas import DecisionIn
from routing.decisions.service import make_decision
from routing.demo import generate, insert_shop
from routing.policy.definition import Policy
from routing.policy.loader import load_policy
from routing.settings import get_settings
from routing.tiers import service as tiers


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


def run(database_url: str | None, customers: int, lookups: int, policy: Policy, seed: int = 7) -> dict[str, object]:
    """Load a shop of `customers` (no line items) and time look-ups by external id, email and order number."""
    tmp = None
    if database_url is None:
        tmp = tempfile.TemporaryDirectory(prefix="concierge-bench-")
        database_url = f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    upgrade(database_url)
    engine = make_engine(database_url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    t0 = time.perf_counter()
    shop = generate(customers, seed)
    shop.items = []
    with sessions() as session:
        if session.scalar(select(func.count()).select_from(Customer)):
            raise SystemExit(f"bench-lookup needs an empty scratch database; {engine.url!r} has customers")
        insert_shop(session, shop)
        tiers.recompute_all(session, policy)
        session.commit()
        if engine.dialect.name == "postgresql":
            session.execute(text("ANALYZE"))
            session.commit()
    load_seconds = time.perf_counter() - t0
    rng = random.Random(seed)
    picked = rng.sample(shop.customers, min(lookups, len(shop.customers)))
    numbers = [str(o["number"]) for o in rng.sample(shop.orders, min(lookups, len(shop.orders)))]
    result: dict[str, object] = {"backend": engine.dialect.name, "customers": len(shop.customers),
                                 "orders": len(shop.orders), "load_seconds": round(load_seconds, 2)}
    with sessions() as session:
        _time(session, policy, service.get_by_external_id, [str(c["external_id"]) for c in picked[:50]])  # warm-up
        result["external_id"] = _percentiles(_time(session, policy, service.get_by_external_id,
                                                   [str(c["external_id"]) for c in picked]))
        result["email"] = _percentiles(_time(session, policy, service.get_by_email, [str(c["email"]) for c in picked]))
        result["order_number"] = _percentiles(_time(session, policy, service.get_by_order_number, numbers))
        result["decision"] = _percentiles(_time_decisions(session, policy, [cast(int, c["id"]) for c in picked]))
    engine.dispose()
    if tmp is not None:
        tmp.cleanup()
    return result


def print_result(result: dict[str, object]) -> None:
    """A small table, then the JSON."""
    print(f"lookup latency, {result['backend']}, {result['customers']:,} customers, {result['orders']:,} orders "
          f"(load {result['load_seconds']} s)")
    print(f"{'key':<14}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for key in ("external_id", "email", "order_number", "decision"):
        r = cast(dict[str, float], result[key])
        print(f"{key:<14}{r['p50_ms']:>10.3f}{r['p95_ms']:>10.3f}{r['p99_ms']:>10.3f}{r['max_ms']:>10.3f}")
    print(json.dumps(result))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lookup", description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--database-url", default=None, help="an empty scratch database (default: a temp SQLite file)")
    args = parser.parse_args(argv)
    print_result(run(args.database_url, args.customers, args.lookups, load_policy(get_settings().policy_file)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
