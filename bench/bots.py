"""Bot throughput and latency on the REST channel: the bare `rasa init` bot, then the Concierge stack."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from bench import baseline_bot
from bench.dialogues import concierge_dialogue, demo_orders
from bench.memory import tree_rss_mb
from bench.plan import Plan
from launcher.ports import free_base_port
from bench.report import NOT_AVAILABLE, Figure, Report
from bench.rest_load import Dialogue, LoadResult, run_load
from bench.stats import ratio
from launcher.settings import StackSettings
from launcher.stack import Stack

OURS, BARE, VERSUS = "Bot REST (Concierge)", "Bot REST (bare rasa init)", "Bot REST (Concierge / bare)"
MEMORY_TARGET_MB = 2560.0


def _load_levels(
    report: Report, section: str, url: str, dialogue_for: Callable[[int], Dialogue], plan: Plan
) -> dict[int, LoadResult]:
    results: dict[int, LoadResult] = {}
    for level in plan.concurrency_levels:
        result = asyncio.run(run_load(url, dialogue_for, level, plan.conversations[level], level * plan.warmup_rounds))
        results[level] = result
        s = result.summary()
        report.details.setdefault(section, {})[f"concurrency_{level}"] = s  # type: ignore[index]
        report.add(Figure(section, f"{level} concurrent: messages/s", result.messages_per_s, "msg/s"))
        for p in ("p50", "p95", "p99"):
            report.add(Figure(section, f"{level} concurrent: {p} latency", float(s[f"{p}_ms"]), "ms"))  # type: ignore[arg-type]
        report.add(Figure(section, f"{level} concurrent: p50 latency by turn",
                          " / ".join(f"{ms:.0f}" for ms in s["p50_ms_by_turn"]) + " ms"))  # type: ignore[attr-defined]
        report.add(Figure(section, f"{level} concurrent: messages (errors, empty replies)",
                          f"{result.messages} ({result.errors}, {result.empty_replies})"))
    return results


def _record_conversations(report: Report, section: str, results: dict[int, LoadResult]) -> None:
    """Print the first measured conversation, keep it in the JSON details, and note turns left unanswered."""
    first = results[min(results)]
    report.details.setdefault(section, {})["sample_conversation"] = [  # type: ignore[index]
        {"user": text, "bot": replies} for text, replies in first.transcript]
    print(f"  sample conversation ({section}):")
    for text, replies in first.transcript:
        print(f"    > {text}")
        for reply in replies:
            print(f"      {reply[:110]}")
    for result in results.values():
        if result.empty_replies:
            report.notes.append(f"{section}: {result.empty_replies} of {result.messages} turns at "
                                f"{result.concurrency} concurrent got no reply (a failing action? see reports/bench.log)")


def measure_baseline(report: Report, plan: Plan, work: Path, log: IO[str]) -> dict[int, LoadResult]:
    """Create and train a bare `rasa init` bot (timed), serve it, load it, record its memory."""
    init_dir = work / "bare-bot"
    print("bare rasa init bot: creating and training...", flush=True)
    report.add(Figure(BARE, "rasa init + training time", baseline_bot.create(init_dir, log), "s"))
    with baseline_bot.BaselineServer(init_dir, log) as server:
        results = _load_levels(report, BARE, server.url, lambda i: baseline_bot.DIALOGUE, plan)
        assert server.proc is not None
        report.add(Figure(BARE, "resident memory after load", tree_rss_mb({"rasa": server.proc.pid})["rasa"], "MB"))
    _record_conversations(report, BARE, results)
    return results


def stack_settings(plan: Plan, work: Path) -> StackSettings:
    """The embedded stack (SQLite) on private ports and a private data folder."""
    customers = int(os.environ.get("CONCIERGE_DEMO_CUSTOMERS", plan.demo_customers))
    base = StackSettings(routing_database_url="", seed_demo=True, demo_customers=customers)
    return base.with_ports(free_base_port(), work / "stack-var")


def _escalation(report: Report, settings: StackSettings, plan: Plan) -> None:
    """Escalation latency: measured by bench/escalation.py `measure(settings, quick) -> list[Figure]` when it exists."""
    section = "Escalation latency"
    if importlib.util.find_spec("bench.escalation") is None:
        report.add(Figure(section, "customer asks for a person -> agent's live stream, p50/p95", NOT_AVAILABLE,
                          target="p95 < 1 s"))
        report.add(Figure(section, "agent reply -> customer's channel, p50/p95", NOT_AVAILABLE, target="p95 < 1 s"))
        return
    from bench import escalation  # type: ignore[attr-defined]

    for figure in escalation.measure(settings, plan.mode == "quick"):
        report.add(figure)


def measure_concierge(report: Report, plan: Plan, work: Path, log: IO[str]) -> dict[int, LoadResult]:
    """Start the whole embedded stack, load it, record every process's memory and the escalation figures."""
    settings = stack_settings(plan, work).always_open()
    print(f"Concierge stack: starting on ports {settings.rasa_port}-{settings.routing_port} "
          f"({settings.demo_customers} demo customers)...", flush=True)
    report.notes.append(
        f"Concierge: the embedded stack (Rasa with the SQLite tracker store, the action server, the routing service "
        f"on SQLite with {settings.demo_customers} demo customers); six-turn dialogue (greet, track an order through "
        "verify_order_form, email, delivery time, payment methods, goodbye), three turns run custom actions that call "
        "the routing service. Bare bot: `rasa init` defaults (in-memory tracker store, no action server), six turns "
        "of its own training examples.")
    stack = Stack(settings, log=log)
    started = time.perf_counter()
    stack.start(timeout=300)
    try:
        report.add(Figure(OURS, "stack start-up time (database seed + 3 processes healthy)",
                          time.perf_counter() - started, "s"))
        orders = demo_orders(settings.database_url)
        results = _load_levels(report, OURS, settings.rasa_url,
                               lambda i: concierge_dialogue(*orders[i % len(orders)]), plan)
        _record_conversations(report, OURS, results)
        rss = tree_rss_mb(stack.pids())
        report.details["memory_mb"] = rss
        for name, mb in rss.items():
            report.add(Figure("Memory (embedded stack, after load)", f"{name} (with children)", mb, "MB"))
        total = sum(rss.values())
        report.add(Figure("Memory (embedded stack, after load)", "total", total, "MB",
                          target="< 2.5 GB", met=total < MEMORY_TARGET_MB))
        _escalation(report, settings, plan)
    finally:
        stack.stop()
    return results


def compare(report: Report, ours: dict[int, LoadResult], bare: dict[int, LoadResult]) -> None:
    """Ratios Concierge / bare for messages/s and p50 at each concurrency level, against the targets."""
    for level in sorted(set(ours) & set(bare)):
        mps = ratio(ours[level].messages_per_s, bare[level].messages_per_s)
        p50 = ratio(float(ours[level].summary()["p50_ms"]), float(bare[level].summary()["p50_ms"]))  # type: ignore[arg-type]
        mps_target = ">= 1.5x" if level == 10 else ""
        report.add(Figure(VERSUS, f"{level} concurrent: messages/s ratio", mps, "x", target=mps_target,
                          met=(mps >= 1.5) if mps_target else None))
        report.add(Figure(VERSUS, f"{level} concurrent: p50 ratio", p50, "x", target="<= 1.0x", met=p50 <= 1.0))
