"""The bot on the production stores (`python -m bench --cluster`): the bare `rasa init` bot, the embedded stack and
the cluster (PostgreSQL tracker store, Redis lock store, nginx in front; launcher/cluster.py) with 1 and with 2
replicas of each process, all running at once and loaded in alternating rounds, so that ratios come from one run.

Besides messages/s and latency, the CPU seconds each configuration's processes used while it was loaded: on a
machine whose cores are all busy, throughput cannot grow with replicas, and CPU per message is what predicts the
throughput of a replica given a machine of its own.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import psycopg
from psycopg import sql

from bench import baseline_bot
from bench.bots import BARE, OURS, alternating_load, record_conversations, record_levels, stack_settings
from bench.dialogues import concierge_dialogue, demo_orders
from bench.memory import TreeCpu, tree_rss_mb
from bench.plan import Plan
from bench.report import Figure, Report
from bench.rest_load import CpuProbe, Dialogue, LoadResult
from bench.stats import ratio
from launcher.cluster import Cluster, ClusterSettings
from launcher.ports import free_base_port
from launcher.settings import StackSettings
from launcher.stack import Stack

CLUSTER_1, CLUSTER_2 = "Bot REST (cluster, 1 replica)", "Bot REST (cluster, 2 replicas)"
VERSUS = "Bot REST (production layouts / bare)"
SCALING = "Bot REST (2 replicas / 1 replica)"
CLUSTER_PORTS = {1: 23000, 2: 24000}  # where each cluster looks for free ports (tests use 20000-21000)


def cluster_settings(replicas: int, work: Path, demo_customers: int) -> ClusterSettings:
    """A cluster of `replicas` replicas of Rasa, actions and routing on private ports, databases and Redis keys."""
    start = CLUSTER_PORTS.get(replicas, 25000)
    base = free_base_port(start, start + 1000, width=3 * (replicas + 1))
    stack = StackSettings(routing_database_url="", seed_demo=True, demo_customers=demo_customers)
    stack = stack.with_ports(base, work / f"cluster{replicas}-var").always_open()
    tag = f"{replicas}_{os.getpid()}"
    return ClusterSettings.from_stack(
        stack, replicas=replicas, replica_offset=3, routing_db=f"concierge_bench_cluster{tag}",
        tracker_db=f"concierge_bench_cluster{tag}_tracker", redis_prefix=f"conciergebench{os.getpid()}r{replicas}")


def _drop_databases(c: ClusterSettings) -> None:
    with psycopg.connect(c.admin_conninfo, autocommit=True, connect_timeout=5) as conn:
        for name in (c.routing_db, c.tracker_db):
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _start(running: ExitStack, stack: Stack, report: Report, section: str) -> None:
    """Start `stack` (stopped when `running` closes) and report its start-up time."""
    print(f"{section}: starting on ports from {stack.settings.rasa_port}...", flush=True)
    started = time.perf_counter()
    stack.start(timeout=400)
    running.callback(stack.stop)
    report.add(Figure(section, "start-up time (database seed + every process healthy)",
                      time.perf_counter() - started, "s"))


def _dialogues(database_url: str) -> Callable[[int], Dialogue]:
    orders = demo_orders(database_url)
    return lambda i: concierge_dialogue(*orders[i % len(orders)])


def replica_shares(access_log: str, front_port: int) -> dict[str, int]:
    """Requests per upstream replica that nginx's access log (launcher/nginx.py's format) shows on `front_port`."""
    shares: dict[str, int] = {}
    for line in access_log.splitlines():
        fields = line.split()
        if len(fields) >= 6 and fields[1] == str(front_port) and fields[2] == "POST":
            shares[fields[5]] = shares.get(fields[5], 0) + 1
    return shares


def cpu_per_message(cpu_seconds: float, result: LoadResult) -> float:
    """CPU milliseconds a configuration's processes spent per message answered (NaN when none was)."""
    return cpu_seconds * 1000 / result.messages if result.messages else float("nan")


def measure(report: Report, plan: Plan, work: Path, log: IO[str]) -> None:
    """Train the bare bot, start the four configurations side by side, load them, record figures and ratios."""
    init_dir = work / "bare-bot"
    print("bare rasa init bot: creating and training...", flush=True)
    report.add(Figure(BARE, "rasa init + training time", baseline_bot.create(init_dir, log), "s"))
    report.notes.append(
        "Production layouts: the cluster (launcher/cluster.py) runs Rasa with the PostgreSQL tracker store and the "
        "Redis lock store, its action servers and routing service (PostgreSQL) behind nginx, with 1 and with 2 "
        "replicas of each process; REST clients send X-Conversation-Id so that nginx keeps each conversation on one "
        f"Rasa replica. The embedded stack (SQLite) and the bare `rasa init` bot run beside them; all four answer "
        f"{plan.rounds} alternating rounds per concurrency level. CPU is the CPU time of each configuration's own "
        "processes (Rasa, actions, routing, nginx) while it was loaded; PostgreSQL, Redis and the load generator "
        "are not in it.")
    with ExitStack() as running:
        server = running.enter_context(baseline_bot.BaselineServer(init_dir, log))
        embedded = stack_settings(plan, work).always_open()
        ours = Stack(embedded, log=log)
        _start(running, ours, report, OURS)
        clusters: dict[str, Cluster] = {}
        for replicas, section in ((1, CLUSTER_1), (2, CLUSTER_2)):
            settings = cluster_settings(replicas, work, plan.demo_customers)
            _drop_databases(settings)
            running.callback(_drop_databases, settings)
            clusters[section] = Cluster(settings, log=log)
            _start(running, clusters[section], report, section)
        bots: dict[str, tuple[str, Callable[[int], Dialogue]]] = {
            BARE: (server.url, lambda i: baseline_bot.DIALOGUE),
            OURS: (embedded.rasa_url, _dialogues(embedded.database_url)),
            **{name: (c.cluster.stack.rasa_url, _dialogues(c.cluster.stack.database_url))
               for name, c in clusters.items()},
        }
        assert server.proc is not None
        bare_pid = server.proc.pid
        cpu: dict[str, CpuProbe] = {
            BARE: TreeCpu({"rasa": bare_pid}),
            **{name: TreeCpu(stack.pids()) for name, stack in ((OURS, ours), *clusters.items())},
        }
        print(f"loading the four in {plan.rounds} alternating rounds per level...", flush=True)
        loaded = alternating_load(bots, plan, cpu=cpu)
        for section in bots:
            record_levels(report, section, loaded.results[section])
            record_conversations(report, section, loaded.results[section])
            for level, seconds in sorted(loaded.cpu_seconds[section].items()):
                report.add(Figure(section, f"{level} concurrent: CPU per message",
                                  cpu_per_message(sum(seconds.values()), loaded.results[section][level]), "ms"))
        report.add(Figure(BARE, "resident memory after load", tree_rss_mb({"rasa": bare_pid})["rasa"], "MB"))
        for section, stack in ((OURS, ours), *clusters.items()):
            report.add(Figure(section, "resident memory after load (every process)",
                              sum(tree_rss_mb(stack.pids()).values()), "MB"))
        two = clusters[CLUSTER_2].cluster
        access = (two.nginx_dir / "access.log").read_text(encoding="utf-8", errors="replace")
        shares = replica_shares(access, two.stack.rasa_port)
        report.add(Figure(CLUSTER_2, "REST requests per Rasa replica (nginx access log)",
                          " / ".join(f"{n:,}" for _, n in sorted(shares.items())) or "none"))
    compare(report, loaded.results, loaded.round_ratios)


def compare(report: Report, results: dict[str, dict[int, LoadResult]],
            round_ratios: dict[str, dict[int, list[float]]]) -> None:
    """Each layout against the bare bot (messages/s, p50, p95), and 2 replicas against 1 (messages/s)."""
    bare = results[BARE]
    for section in (OURS, CLUSTER_1, CLUSTER_2):
        short = section.removeprefix("Bot REST ").strip("()")
        for level in sorted(set(results[section]) & set(bare)):
            ours, theirs = results[section][level].summary(), bare[level].summary()
            report.add(Figure(VERSUS, f"{short}, {level} concurrent: messages/s ratio",
                              ratio(ours["messages_per_s"], theirs["messages_per_s"]), "x"))
            report.add(Figure(VERSUS, f"{short}, {level} concurrent: messages/s ratio of each round",
                              " / ".join(f"{r:.2f}" for r in round_ratios[section][level]) + " x"))
            for p in ("p50", "p95"):
                report.add(Figure(VERSUS, f"{short}, {level} concurrent: {p} ratio",
                                  ratio(float(ours[f"{p}_ms"]), float(theirs[f"{p}_ms"])), "x"))
    for level in sorted(set(results[CLUSTER_1]) & set(results[CLUSTER_2])):
        report.add(Figure(SCALING, f"{level} concurrent: messages/s ratio",
                          ratio(results[CLUSTER_2][level].messages_per_s, results[CLUSTER_1][level].messages_per_s),
                          "x"))
        rounds = zip(round_ratios[CLUSTER_2][level], round_ratios[CLUSTER_1][level], strict=True)
        report.add(Figure(SCALING, f"{level} concurrent: messages/s ratio of each round",
                          " / ".join(f"{ratio(two, one):.2f}" for two, one in rounds) + " x"))

