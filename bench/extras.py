"""Figures of the other benchmarks, each run as its own process: routing tier lookup (bench/lookup.py), claims
(bench/claims.py), outbox delivery beside failing deliveries (bench/outbox.py), NLU evaluation (scripts/eval_nlu.py)."""

from __future__ import annotations

import os
import subprocess
from typing import IO

from bench.commands import BOT_PY, ROUTING_PY, numeric_leaves, read_json, run_json
from bench.fixture import database_name
from bench.plan import Plan
from bench.report import Figure, Report
from bench.stats import ratio
from launcher.settings import ROOT

LOOKUP, CLAIMS, NLU = "Routing tier lookup", "Routing claims (PostgreSQL)", "NLU evaluation"
OUTBOX = "Agent messages beside failing deliveries"
NLU_SCRIPT = ROOT / "scripts" / "eval_nlu.py"
NLU_OUT = ROOT / "reports" / "bench-nlu"  # not reports/: a quick sample must not replace `make eval-nlu`'s report
NLU_KEYS = ("intents.examples", "intents.accuracy", "intents.accuracy_ignoring_fallback", "intents.macro_f1",
            "intents.rejected_share", "oos.examples", "oos.rejection_rate", "seconds")
LOOKUP_P99_TARGET_MS = 5.0  # SQLite, 100k customers
LOOKUP_P99_POSTGRES_TARGET_MS = 2.0  # PostgreSQL, 1M customers (issue #16)
PG_SERVER = os.environ.get("CONCIERGE_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")


def _add_numbers(report: Report, section: str, label: str, numbers: dict[str, float | int],
                 targets: dict[str, tuple[str, float]] | None = None) -> None:
    """One figure per number; `targets` maps a key suffix to (target text, exclusive upper bound)."""
    for key, value in numbers.items():
        target, met = "", None
        for suffix, (text, bound) in (targets or {}).items():
            if key.endswith(suffix):
                target, met = text, value < bound
        report.add(Figure(section, f"{label}{key}", value, target=target, met=met))


def routing_lookup(report: Report, plan: Plan, log: IO[str]) -> None:
    """`python -m bench.lookup --customers N` at each size of the plan (SQLite, or a kept PostgreSQL database),
    then the growth of p99."""
    p99: dict[int, dict[str, float]] = {}
    for n in plan.lookup_customers:
        argv = [str(ROUTING_PY), "-m", "bench.lookup", "--customers", str(n)]
        if plan.lookup_on_postgres:
            argv += ["--database-url", f"{PG_SERVER}/{database_name(n)}"]
        print(f"bench.lookup with {n:,} customers{' on PostgreSQL' if plan.lookup_on_postgres else ''}...",
              flush=True)
        _, data = run_json(argv, 3600, log)
        report.details.setdefault(LOOKUP, {})[str(n)] = data
        numbers = {k: v for k, v in numeric_leaves(data).items() if not k.endswith(("p95_ms", "max_ms", ".n"))}
        targets: dict[str, tuple[str, float]] | None
        if plan.lookup_on_postgres:  # the target is the look-up's; a decision also writes and commits its audit row
            targets = {f"{key}.p99_ms": ("< 2 ms", LOOKUP_P99_POSTGRES_TARGET_MS)
                       for key in ("external_id", "email", "order_number")}
        else:
            targets = {"p99_ms": ("< 5 ms", LOOKUP_P99_TARGET_MS)} if n >= 100_000 else None
        label = f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"
        _add_numbers(report, LOOKUP, f"{label} customers, {data.get('backend')}: ", numbers, targets)
        if data.get("reused"):
            report.add(Figure(LOOKUP, f"{label} customers: database", "kept from an earlier run "
                              "(load_seconds is that run's load time)"))
        p99[n] = {k.removesuffix(".p99_ms"): float(v) for k, v in numbers.items() if k.endswith(".p99_ms")}
    if len(p99) == 2:
        small, large = sorted(p99)
        for key in sorted(set(p99[small]) & set(p99[large])):
            report.add(Figure(LOOKUP, f"{key} p99 growth {small // 1000}k -> {large // 1000}k customers",
                              ratio(p99[large][key], p99[small][key]), "x"))


def routing_claims(report: Report, plan: Plan, log: IO[str]) -> None:
    """`python -m bench.claims`: 50 concurrent agents from this load generator against the routing service in its
    own processes (1 or more replicas) on PostgreSQL (fewer escalations in quick mode)."""
    for replicas in plan.claims_replicas:
        argv = [str(ROUTING_PY), "-m", "bench.claims", "--agents", "50", "--replicas", str(replicas)]
        if plan.claims_escalations:
            argv += ["--escalations", str(plan.claims_escalations)]
        print(f"bench.claims with 50 agents, {replicas} routing process(es)...", flush=True)
        _, data = run_json(argv, 3600, log)
        report.details.setdefault(CLAIMS, {})[f"replicas_{replicas}"] = data
        numbers = {k: v for k, v in numeric_leaves(data).items() if k not in ("agents", "replicas")}
        _add_numbers(report, CLAIMS, f"{replicas} routing process{'es' if replicas > 1 else ''}: ", numbers,
                     {"double_assignments": ("= 0", 1.0), "agents_over_capacity": ("= 0", 1.0)})


def outbox_delivery(report: Report, plan: Plan, log: IO[str]) -> None:
    """`python -m bench.outbox`: an agent's message to a healthy conversation, alone, behind 60 failing items of
    another conversation, and behind queue webhooks that never answer (commit to arrival at Rasa)."""
    print("bench.outbox...", flush=True)
    _, data = run_json([str(ROUTING_PY), "-m", "bench.outbox", "--messages", "20"], 600, log)
    report.details[OUTBOX] = data
    _add_numbers(report, OUTBOX, "", {k: v for k, v in numeric_leaves(data).items()
                                      if not k.endswith((".messages", ".deadline_s"))})


def nlu_eval(report: Report, plan: Plan, log: IO[str]) -> None:
    """`scripts/eval_nlu.py` (with --limit in quick mode), then the figures of reports/bench-nlu/nlu_eval.json."""
    argv = [str(BOT_PY), str(NLU_SCRIPT), "--out", str(NLU_OUT)]
    limited = plan.nlu_limit is not None
    if limited:
        argv += ["--limit", str(plan.nlu_limit)]
    print(f"{' '.join(argv[1:])}...", flush=True)
    log.write(f"$ {' '.join(argv)}\n")
    log.flush()
    subprocess.run(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=True, timeout=3600)
    data = read_json(NLU_OUT / "nlu_eval.json")
    report.details[NLU] = {k: v for k, v in data.items() if k in ("model", "sources", "intents", "oos", "seconds")}
    numbers = numeric_leaves(data)
    wanted = {k: numbers[k] for k in NLU_KEYS if k in numbers} or numbers
    _add_numbers(report, NLU, f"limit {plan.nlu_limit}: " if limited else "", wanted)
