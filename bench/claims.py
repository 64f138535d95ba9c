"""Benchmark: N concurrent agents claiming over HTTP from the real service on PostgreSQL.

The service runs as its own processes (`routing.cli serve`, uvicorn; --replicas of them, agent n talking to
replica n mod R, the live stream through Redis when R > 1); this process is only the load generator and the judge.

Phase 1 (live stream): every agent holds an SSE stream; escalations are created one by one over HTTP and the time
from the POST to the `escalation.created` event on each agent's stream is recorded (p50/p95/max).
Phase 2 (claims): all escalations wait; N threads (one per agent) call claim-next until nothing is left.
Prints claims per second, double assignments (must be 0, counted in the database afterwards: escalations claimed
more than once) and agents above capacity (must be 0); --json writes
the same numbers to a file. Run: `python -m bench.claims [--agents 50 --escalations 1000 --replicas 2]`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, cast

import httpx
import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from bench.memory import tree_cpu_seconds
from bench.stats import nearest_rank
from launcher.ports import free_port
from launcher.settings import ALWAYS_OPEN, StackSettings, write_policy_copy
from launcher.stack import ROUTING_BIN, ProcessSpec, Stack
from routing.db import make_engine, upgrade
from routing.settings import ROOT

TOKEN = "bench-service-token"
REDIS_URL = os.environ.get("CONCIERGE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
LATENCY_SAMPLES = 200


def _recreate_database(url: str) -> None:
    parsed = make_url(url)
    if not parsed.database:
        raise SystemExit(f"--database-url names no database: {url}")
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        name = psycopg.sql.Identifier(parsed.database)
        conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(name))
    upgrade(url)


def _replicas(settings: StackSettings, count: int, redis_prefix: str, log: IO[str]) -> Stack:
    """`count` routing-service processes (`routing.cli serve`, uvicorn) on free ports; with more than one, the
    live stream goes through Redis so that a console on either replica sees every claim."""
    shared = {"CONCIERGE_DB_POOL_SIZE": str(max(10, 60 // count))}  # PostgreSQL's 100 connections, other tools too
    if count > 1:
        shared |= {"CONCIERGE_LIVE_STREAM": "redis", "CONCIERGE_REDIS_URL": REDIS_URL,
                   "CONCIERGE_REDIS_PREFIX": redis_prefix}
    specs = []
    for i in range(1, count + 1):
        port = free_port()
        specs.append(ProcessSpec(f"routing{i}", [str(ROUTING_BIN / "python"), "-m", "routing.cli", "serve"],
                                 f"http://127.0.0.1:{port}/health",
                                 env={**shared, "CONCIERGE_ROUTING_PORT": str(port)}))
    return Stack(settings, log=log, specs=specs)


def _packet(n: int, queues: list[str]) -> dict[str, Any]:
    return {"conversation_id": f"bench-{n}", "idempotency_key": f"bench-{n}", "customer_id": None, "tier": "bronze",
            "queue": queues[n % len(queues)], "priority": n % 100, "sla_seconds": 60 + n % 600,
            "summary": "benchmark"}


def run(database_url: str, agents: int, escalations: int, json_path: str = "", replicas: int = 1) -> int:
    """Run both phases against `replicas` service processes; print the figures (and write them as JSON when
    `json_path` is given)."""
    from routing.agents.service import create_agent
    from routing.escalations.models import Escalation, EscalationEvent

    _recreate_database(database_url)
    tmp = Path(tempfile.mkdtemp(prefix="bench-claims-"))
    policy = write_policy_copy(ROOT / "routing" / "policy.yml", tmp / "policy.yml", default=ALWAYS_OPEN)
    settings = StackSettings(env="development", routing_database_url=database_url, policy_file=policy,
                             service_token=TOKEN, var_dir=tmp, seed_demo=False, rasa_port=9)
    engine = make_engine(database_url, pool_size=2)
    sessions = sessionmaker(engine, expire_on_commit=False)
    queues = ["vip", "priority", "general"]
    capacity = math.ceil(escalations / agents) + 2
    with sessions() as session:
        for n in range(agents):
            create_agent(session, f"bench{n}", f"Bench {n}", "pw", queues, max_chats=capacity).status = "online"
        session.commit()
    with open(tmp / "routing.log", "w") as log:
        stack = _replicas(settings, replicas, f"conciergebench{os.getpid()}", log)
        stack.launch(timeout=120)
        try:
            bases = [spec.health_url.removesuffix("/health") for spec in stack.specs]
            claims, elapsed, latencies, cpu = _load(bases, agents, escalations, queues,
                                                    lambda: tree_cpu_seconds(stack.pids().values()))
        finally:
            stack.stop()

    with sessions() as session:
        doubles = session.scalar(select(func.count()).select_from(
            select(EscalationEvent.escalation_id).where(EscalationEvent.kind == "claimed")
            .group_by(EscalationEvent.escalation_id).having(func.count() > 1).subquery()))
        over = session.scalar(select(func.count()).select_from(
            select(Escalation.agent_id).where(Escalation.status == "assigned").group_by(Escalation.agent_id)
            .having(func.count() > capacity).subquery()))
        assigned = session.scalar(select(func.count()).select_from(Escalation).where(Escalation.status == "assigned"))
    engine.dispose()
    result = {
        "agents": agents, "escalations": escalations, "replicas": replicas, "claimed": sum(claims),
        "assigned_in_database": assigned, "seconds": round(elapsed, 3),
        "claims_per_second": round(sum(claims) / elapsed, 1), "double_assignments": doubles,
        # CPU of the service's processes during the claims (PostgreSQL's not included): what a claim costs
        "service_cpu_ms_per_claim": round(cpu * 1000 / sum(claims), 2) if sum(claims) else None,
        "agents_over_capacity": over, "stream_samples": len(latencies),
        "stream_latency_ms": {"p50": round(statistics.median(latencies) * 1000, 2),
                              "p95": round(nearest_rank(latencies, 95) * 1000, 2),
                              "max": round(max(latencies) * 1000, 2)} if latencies else None,
    }
    print(f"claims: {result['claimed']} by {agents} concurrent agents on {replicas} routing process(es) in "
          f"{result['seconds']} s = {result['claims_per_second']} claims/s; double assignments: {doubles}; "
          f"agents over capacity: {over}; assigned in the database: {assigned}")
    if latencies:
        lat = cast(dict[str, float], result["stream_latency_ms"])
        print(f"created → visible on the SSE stream ({len(latencies)} deliveries to {agents} agents): "
              f"p50 {lat['p50']} ms, p95 {lat['p95']} ms, max {lat['max']} ms")
    print(json.dumps(result))
    if json_path:
        Path(json_path).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0 if doubles == 0 and over == 0 and assigned == sum(claims) else 1


def _load(bases: list[str], agents: int, escalations: int, queues: list[str], cpu: Callable[[], float]
          ) -> tuple[list[int], float, list[float], float]:
    """Both phases from this process (agent n talks to replica n mod len(bases)): the claims of each agent, the
    seconds phase 2 took, the live-stream latencies of phase 1 and the service's CPU seconds (`cpu`) in phase 2."""
    def base(n: int) -> str:
        return bases[n % len(bases)]

    bot = {"Authorization": f"Bearer {TOKEN}"}
    tokens = []
    for n in range(agents):
        with httpx.Client(base_url=base(n), timeout=30) as client:
            tokens.append(client.post("/api/v1/agent/login", json={"login": f"bench{n}", "password": "pw"})
                          .json()["token"])

    # phase 1: time from POST to the event on every agent's stream
    sent: dict[str, float] = {}
    latencies: list[float] = []
    lock = threading.Lock()
    ready = threading.Barrier(agents + 1)
    samples = min(LATENCY_SAMPLES, escalations)

    def listen(n: int, token: str) -> None:
        seen = 0
        with httpx.Client(timeout=httpx.Timeout(30, read=60)) as c, \
                c.stream("GET", f"{base(n)}/api/v1/agent/stream",
                         headers={"Authorization": f"Bearer {token}"}) as response:
            kind = ""
            for line in response.iter_lines():
                if line.startswith(": connected"):
                    ready.wait()
                elif line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "escalation.created":
                    now = time.perf_counter()
                    conv = json.loads(line[6:])["escalation"]["conversation_id"]
                    with lock:
                        latencies.append(now - sent[conv])
                    seen += 1
                    if seen == samples:
                        return

    listeners = [threading.Thread(target=listen, args=(n, t), daemon=True) for n, t in enumerate(tokens)]
    for t in listeners:
        t.start()
    ready.wait()
    clients = [httpx.Client(base_url=b, timeout=30) for b in bases]
    try:
        for n in range(samples):
            body = _packet(n, queues)
            with lock:
                sent[body["conversation_id"]] = time.perf_counter()
            clients[n % len(clients)].post("/api/v1/escalations", json=body, headers=bot).raise_for_status()
        for t in listeners:
            t.join(60)
        for n in range(samples, escalations):
            clients[n % len(clients)].post("/api/v1/escalations", json=_packet(n, queues),
                                           headers=bot).raise_for_status()
    finally:
        for client in clients:
            client.close()

    # phase 2: every agent claims as fast as it can
    claims: list[int] = []
    barrier = threading.Barrier(agents)

    def claimer(n: int, token: str) -> None:
        got = 0
        with httpx.Client(base_url=base(n), timeout=60, headers={"Authorization": f"Bearer {token}"}) as c:
            barrier.wait()
            while True:
                response = c.post("/api/v1/agent/escalations/claim-next")
                if response.status_code != 200:
                    break
                got += 1
        with lock:
            claims.append(got)

    workers = [threading.Thread(target=claimer, args=(n, t)) for n, t in enumerate(tokens)]
    cpu_before, started = cpu(), time.perf_counter()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return claims, time.perf_counter() - started, latencies, cpu() - cpu_before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.claims", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/concierge_bench_claims",
                        help="PostgreSQL database (re-created)")
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--escalations", type=int, default=1000)
    parser.add_argument("--replicas", type=int, default=1, help="routing-service processes (agents spread over them)")
    parser.add_argument("--json", default="", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    return run(args.database_url, args.agents, args.escalations, args.json, args.replicas)


if __name__ == "__main__":
    raise SystemExit(main())
