"""Bot throughput and latency on the REST channel: the bare `rasa init` bot and the Concierge stack, side by side."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bench import baseline_bot, escalation, profile
from bench.dialogues import concierge_dialogue, demo_orders
from bench.memory import ThreadCpu, TreeCpu, tree_rss_mb
from bench.plan import Plan
from bench.report import Figure, Report, Table
from bench.rest_load import CpuProbe, Dialogue, LoadResult, run_load
from bench.stats import ratio
from launcher.ports import free_base_port
from launcher.settings import StackSettings
from launcher.stack import Stack

OURS, BARE, VERSUS = "Bot REST (Concierge)", "Bot REST (bare rasa init)", "Bot REST (Concierge / bare)"
MEMORY_TARGET_MB = 2560.0
CPU_TARGET_MS = 20.0  # CPU per message of the embedded stack's processes at 10 concurrent (issue #27)
PROFILE_CONVERSATIONS = 60  # the profiled round: about 2,000 samples of the Rasa process


@dataclass
class Loaded:
    """What `alternating_load` measured: merged results per bot and level, each other bot's messages/s ratio to the
    baseline in each round, and the CPU seconds each bot's processes used during its measured rounds (per
    process)."""

    results: dict[str, dict[int, LoadResult]]
    round_ratios: dict[str, dict[int, list[float]]]
    cpu_seconds: dict[str, dict[int, dict[str, float]]]


def alternating_load(
    bots: dict[str, tuple[str, Callable[[int], Dialogue]]], plan: Plan, baseline: str = BARE,
    cpu: Mapping[str, CpuProbe] | None = None, turn_cpu: Mapping[str, CpuProbe] | None = None,
) -> Loaded:
    """Load every bot at each concurrency level in `plan.rounds` alternating rounds (the order flips each round),
    so that the machine's drift hits them alike. `cpu` gives, per bot, the CPU seconds each of its processes has
    used (read before and after each round); `turn_cpu` the same, read around every turn at 1 concurrent
    (`LoadResult.cpu_by_turn`)."""
    loaded = Loaded({name: {} for name in bots}, {name: {} for name in bots if name != baseline},
                    {name: {} for name in cpu or {}})
    for level in plan.concurrency_levels:
        per_round = max(level, plan.conversations[level] // plan.rounds)
        for url, dialogue_for in bots.values():  # warm-up, not counted
            asyncio.run(run_load(url, dialogue_for, level, 0, level * plan.warmup_rounds))
        for number in range(plan.rounds):
            names = list(bots) if number % 2 == 0 else list(reversed(bots))
            this_round: dict[str, LoadResult] = {}
            for name in names:
                url, dialogue_for = bots[name]
                print(f"  round {number + 1}/{plan.rounds}, {level} concurrent: {name}...", flush=True)
                probe = cpu.get(name) if cpu else None
                cpu_before = probe() if probe else {}
                this_round[name] = asyncio.run(run_load(url, dialogue_for, level, per_round, 0,
                                                        probe=turn_cpu.get(name) if turn_cpu else None))
                if probe:
                    used = loaded.cpu_seconds[name].setdefault(level, {})
                    for process, seconds in probe().items():
                        used[process] = used.get(process, 0.0) + seconds - cpu_before.get(process, seconds)
                if level in loaded.results[name]:
                    loaded.results[name][level].add(this_round[name])
                else:
                    loaded.results[name][level] = this_round[name]
            for name in loaded.round_ratios:
                loaded.round_ratios[name].setdefault(level, []).append(
                    ratio(this_round[name].messages_per_s, this_round[baseline].messages_per_s))
    return loaded


def record_levels(report: Report, section: str, results: dict[int, LoadResult]) -> None:
    """Throughput, latency percentiles and counts of one bot at each concurrency level."""
    for level, result in sorted(results.items()):
        s = result.summary()
        report.details.setdefault(section, {})[f"concurrency_{level}"] = s
        report.add(Figure(section, f"{level} concurrent: messages/s", result.messages_per_s, "msg/s"))
        for p in ("p50", "p95", "p99"):
            report.add(Figure(section, f"{level} concurrent: {p} latency", float(s[f"{p}_ms"]), "ms"))
        report.add(Figure(section, f"{level} concurrent: p50 latency by turn",
                          " / ".join(f"{ms:.0f}" for ms in s["p50_ms_by_turn"]) + " ms"))
        report.add(Figure(section, f"{level} concurrent: messages (errors, empty replies)",
                          f"{result.messages} ({result.errors}, {result.empty_replies})"))


def record_cpu(report: Report, section: str, cpu_seconds: dict[int, dict[str, float]],
               results: dict[int, LoadResult], target_ms: float | None = None) -> None:
    """CPU milliseconds per message of each process at each concurrency level (from /proc: utime + stime before
    and after each measured round), their sum against `target_ms` at 10 concurrent, and the table of CPU per turn
    measured at 1 concurrent (turns one at a time)."""
    for level, seconds in sorted(cpu_seconds.items()):
        messages = results[level].messages
        per_process = {name: used * 1000 / messages if messages else float("nan") for name, used in seconds.items()}
        report.details.setdefault(section, {})[f"concurrency_{level}"]["cpu_ms_per_message"] = per_process
        if len(per_process) > 1:
            report.add(Figure(section, f"{level} concurrent: CPU per message by process",
                              " / ".join(f"{name} {ms:.1f}" for name, ms in per_process.items()) + " ms"))
        total = sum(per_process.values())
        target = f"<= {target_ms:g} ms" if target_ms is not None and level == 10 else ""
        report.add(Figure(section, f"{level} concurrent: CPU per message", total, "ms", target=target,
                          met=(total <= target_ms) if target and target_ms is not None else None))
    probed = next((r for level, r in sorted(results.items()) if r.cpu_by_turn), None)
    if probed is None:
        return
    texts = [text for text, _ in probed.transcript]
    busiest = results[max(results)].summary()["p50_ms_by_turn"]
    names = list(next(iter(probed.cpu_by_turn.values())))
    rows = []
    for turn, per_process in probed.cpu_ms_by_turn().items():
        rows.append([str(turn + 1), texts[turn] if turn < len(texts) else "?",
                     *(f"{per_process.get(name, 0.0):.1f}" for name in names),
                     f"{sum(per_process.values()):.1f}",
                     f"{busiest[turn]:.0f}" if turn < len(busiest) else "-"])
    report.details[section][f"concurrency_{probed.concurrency}"]["cpu_ms_by_turn"] = probed.cpu_ms_by_turn()
    report.add_table(Table(
        f"{section}: CPU per turn (ms, mean of {len(probed.latencies_by_turn.get(0, []))} conversations answered one "
        "turn at a time)", ["turn", "message", *names, "total", f"p50 at {max(results)} concurrent (ms)"], rows,
        "CPU from /proc (each thread's run time in schedstat) read before and after each turn at 1 concurrent; "
        "the conversations' texts differ (order numbers, emails): the first conversation's are shown."))


def record_conversations(report: Report, section: str, results: dict[int, LoadResult]) -> None:
    """Print the first measured conversation, keep it in the JSON details, and note turns left unanswered."""
    first = results[min(results)]
    report.details.setdefault(section, {})["sample_conversation"] = [
        {"user": text, "bot": replies} for text, replies in first.transcript]
    print(f"  sample conversation ({section}):")
    for text, replies in first.transcript:
        print(f"    > {text}")
        for reply in replies:
            print(f"      {reply[:110]}")
    for result in results.values():
        if result.empty_replies:
            report.notes.append(f"{section}: {result.empty_replies} of {result.messages} turns at "
                                f"{result.concurrency} concurrent got no reply "
                                "(a failing action? see reports/bench.log)")


def stack_settings(plan: Plan, work: Path) -> StackSettings:
    """The embedded stack (SQLite) on private ports and a private data folder."""
    customers = int(os.environ.get("CONCIERGE_DEMO_CUSTOMERS", plan.demo_customers))
    base = StackSettings(routing_database_url="", seed_demo=True, demo_customers=customers)
    return base.with_ports(free_base_port(), work / "stack-var")


def _escalation(report: Report, settings: StackSettings, plan: Plan) -> None:
    """Escalation latency (bench/escalation.py): customer -> agent's live stream, agent -> customer's channel."""
    for figure in escalation.measure(settings, plan.mode == "quick"):
        report.add(figure)


def measure_bots(report: Report, plan: Plan, work: Path, log: IO[str], profile_dir: Path) -> None:
    """Create and train a bare `rasa init` bot (timed); serve it next to the whole Concierge stack; load both in
    alternating rounds; record CPU, memory, the escalation latencies and the ratios Concierge / bare; with
    `plan.profile`, one more round of Concierge under py-spy (bench/profile.py, files into `profile_dir`)."""
    init_dir = work / "bare-bot"
    print("bare rasa init bot: creating and training...", flush=True)
    report.add(Figure(BARE, "rasa init + training time", baseline_bot.create(init_dir, log), "s"))
    settings = stack_settings(plan, work).always_open()
    report.notes.append(
        f"Concierge: the embedded stack (Rasa with the SQLite tracker store, the action server, the routing service "
        f"on SQLite with {settings.demo_customers} demo customers); six-turn dialogue (greet, track an order through "
        "verify_order_form, email, delivery time, payment methods, goodbye), three turns run custom actions that call "
        "the routing service. Bare bot: `rasa init` defaults (in-memory tracker store, no action server), six turns "
        f"of its own training examples. Both run side by side and are loaded in {plan.rounds} alternating rounds per "
        "concurrency level (one at a time), so that the machine's drift hits both alike.")
    with baseline_bot.BaselineServer(init_dir, log) as server:
        print(f"Concierge stack: starting on ports {settings.rasa_port}-{settings.routing_port} "
              f"({settings.demo_customers} demo customers)...", flush=True)
        stack = Stack(settings, log=log)
        started = time.perf_counter()
        stack.start(timeout=300)
        try:
            report.add(Figure(OURS, "stack start-up time (database seed + 3 processes healthy)",
                              time.perf_counter() - started, "s"))
            orders = demo_orders(settings.database_url)
            bots: dict[str, tuple[str, Callable[[int], Dialogue]]] = {
                BARE: (server.url, lambda i: baseline_bot.DIALOGUE),
                OURS: (settings.rasa_url, lambda i: concierge_dialogue(*orders[i % len(orders)])),
            }
            assert server.proc is not None
            pids = {BARE: {"rasa": server.proc.pid}, OURS: stack.pids()}
            print(f"loading both bots in {plan.rounds} alternating rounds per level...", flush=True)
            loaded = alternating_load(bots, plan, cpu={name: TreeCpu(p) for name, p in pids.items()},
                                      turn_cpu={name: ThreadCpu(p) for name, p in pids.items()})
            results = loaded.results
            for section in (BARE, OURS):
                record_levels(report, section, results[section])
                record_cpu(report, section, loaded.cpu_seconds[section], results[section],
                           CPU_TARGET_MS if section == OURS else None)
                record_conversations(report, section, results[section])
            if plan.profile:
                level = max(plan.concurrency_levels)
                profile.profile_load(report, OURS, settings.rasa_url, bots[OURS][1], stack.pids(), level,
                                     max(plan.conversations[level], PROFILE_CONVERSATIONS), profile_dir, log)
            report.add(Figure(BARE, "resident memory after load", tree_rss_mb({"rasa": server.proc.pid})["rasa"],
                              "MB"))
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
    compare(report, results[OURS], results[BARE], loaded.round_ratios[OURS])


def compare(report: Report, ours: dict[int, LoadResult], bare: dict[int, LoadResult],
            round_ratios: dict[int, list[float]] | None = None) -> None:
    """Ratios Concierge / bare for messages/s and p50 at each concurrency level, against the targets (and the
    messages/s ratio of each alternating round, to show the spread)."""
    for level in sorted(set(ours) & set(bare)):
        mps = ratio(ours[level].messages_per_s, bare[level].messages_per_s)
        p50 = ratio(float(ours[level].summary()["p50_ms"]), float(bare[level].summary()["p50_ms"]))
        mps_target = ">= 1.5x" if level == 10 else ""
        report.add(Figure(VERSUS, f"{level} concurrent: messages/s ratio", mps, "x", target=mps_target,
                          met=(mps >= 1.5) if mps_target else None))
        if round_ratios and round_ratios.get(level):
            report.add(Figure(VERSUS, f"{level} concurrent: messages/s ratio of each round",
                              " / ".join(f"{r:.2f}" for r in round_ratios[level]) + " x"))
        report.add(Figure(VERSUS, f"{level} concurrent: p50 ratio", p50, "x", target="<= 1.0x", met=p50 <= 1.0))
