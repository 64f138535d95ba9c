"""How much each mode measures (bounded counts)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    """Counts and sizes of one benchmark mode."""

    mode: str
    concurrency_levels: tuple[int, ...]
    conversations: dict[int, int]  # measured conversations per concurrency level
    warmup_rounds: int  # warm-up conversations per concurrent sender (not counted)
    rounds: int  # the bare bot and Concierge are loaded in this many alternating rounds per level
    demo_customers: int
    lookup_customers: tuple[int, ...]
    train: bool
    nlu_limit: int | None
    claims_escalations: int | None  # None: the command's default
    expected_minutes: int
    lookup_on_postgres: bool = False  # tier look-ups in a kept PostgreSQL database (bench/fixture.py), not SQLite
    claims_replicas: tuple[int, ...] = (1,)  # routing-service processes the claims benchmark runs against
    profile: bool = False  # `--profile`: the bot section alone, with a round of Concierge under py-spy


QUICK = Plan("quick", (1, 10), {1: 6, 10: 40}, 1, 2, 2000, (10_000,), False, 300, 300, 4)
FULL = Plan("full", (1, 10), {1: 20, 10: 120}, 1, 4, 10_000, (10_000, 100_000), True, None, None, 10)
# `--cluster`: the production figures (bench/production.py), 1M-customer look-ups on PostgreSQL, claims on 1 and 2
# routing processes
CLUSTER = Plan("cluster", (10, 50), {10: 80, 50: 200}, 1, 2, 2000, (1_000_000,), False, None, None, 30,
               lookup_on_postgres=True, claims_replicas=(1, 2))
