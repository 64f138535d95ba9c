"""Benchmark: N concurrent agents claiming over HTTP from the real service on PostgreSQL.

Phase 1 (live stream): every agent holds an SSE stream; escalations are created one by one over HTTP and the time
from the POST to the `escalation.created` event on each agent's stream is recorded (p50/p95/max).
Phase 2 (claims): all escalations wait; N threads (one per agent) call claim-next until nothing is left.
Prints claims per second, double assignments (must be 0) and agents above capacity (must be 0); --json writes
the same numbers to a file. Run: `python -m bench.claims [--agents 50 --escalations 1000]`.
"""

from __future__ import annotations

import argparse
import json
import math
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from launcher.settings import ALWAYS_OPEN, write_policy_copy
from routing.db import upgrade
from routing.settings import ROOT, Settings

TOKEN = "bench-service-token"
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


def _serve(settings: Settings) -> tuple[uvicorn.Server, threading.Thread, str, Any]:
    from routing.app import create_app

    app = create_app(settings)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=2, limit_concurrency=1000))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{port}", app


def _packet(n: int, queues: list[str]) -> dict[str, Any]:
    return {"conversation_id": f"bench-{n}", "idempotency_key": f"bench-{n}", "customer_id": None, "tier": "bronze",
            "queue": queues[n % len(queues)], "priority": n % 100, "sla_seconds": 60 + n % 600,
            "summary": "benchmark"}


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))]


def run(database_url: str, agents: int, escalations: int, json_path: str = "") -> int:
    """Run both phases; print the figures (and write them as JSON when `json_path` is given)."""
    from routing.agents.service import create_agent
    from routing.escalations.models import Escalation, EscalationEvent

    _recreate_database(database_url)
    tmp = Path(tempfile.mkdtemp(prefix="bench-claims-"))
    policy = write_policy_copy(ROOT / "routing" / "policy.yml", tmp / "policy.yml", default=ALWAYS_OPEN)
    settings = Settings(env="development", database_url=database_url, policy_file=policy, service_token=TOKEN,
                        rasa_url="http://127.0.0.1:9")
    server, thread, base, app = _serve(settings)
    sessions = app.state.sessions
    queues = ["vip", "priority", "general"]
    capacity = math.ceil(escalations / agents) + 2
    with sessions() as session:
        for n in range(agents):
            create_agent(session, f"bench{n}", f"Bench {n}", "pw", queues, max_chats=capacity).status = "online"
        session.commit()
    bot = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=base, timeout=30) as client:
        tokens = [client.post("/api/v1/agent/login", json={"login": f"bench{n}", "password": "pw"}).json()["token"]
                  for n in range(agents)]

        # phase 1: time from POST to the event on every agent's stream
        sent: dict[str, float] = {}
        latencies: list[float] = []
        lock = threading.Lock()
        ready = threading.Barrier(agents + 1)
        samples = min(LATENCY_SAMPLES, escalations)

        def listen(token: str) -> None:
            seen = 0
            with httpx.Client(timeout=httpx.Timeout(30, read=60)) as c, \
                    c.stream("GET", f"{base}/api/v1/agent/stream",
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

        listeners = [threading.Thread(target=listen, args=(t,), daemon=True) for t in tokens]
        for t in listeners:
            t.start()
        ready.wait()
        for n in range(samples):
            body = _packet(n, queues)
            with lock:
                sent[body["conversation_id"]] = time.perf_counter()
            client.post("/api/v1/escalations", json=body, headers=bot).raise_for_status()
        for t in listeners:
            t.join(60)
        for n in range(samples, escalations):
            client.post("/api/v1/escalations", json=_packet(n, queues), headers=bot).raise_for_status()

    # phase 2: every agent claims as fast as it can
    claims: list[int] = []
    barrier = threading.Barrier(agents)

    def claimer(token: str) -> None:
        got = 0
        with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}) as c:
            barrier.wait()
            while True:
                response = c.post("/api/v1/agent/escalations/claim-next")
                if response.status_code != 200:
                    break
                got += 1
        with lock:
            claims.append(got)

    workers = [threading.Thread(target=claimer, args=(t,)) for t in tokens]
    started = time.perf_counter()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    elapsed = time.perf_counter() - started

    with sessions() as session:
        doubles = session.scalar(select(func.count()).select_from(
            select(EscalationEvent.escalation_id).where(EscalationEvent.kind == "claimed")
            .group_by(EscalationEvent.escalation_id).having(func.count() > 1).subquery()))
        over = session.scalar(select(func.count()).select_from(
            select(Escalation.agent_id).where(Escalation.status == "assigned").group_by(Escalation.agent_id)
            .having(func.count() > capacity).subquery()))
    server.should_exit = True
    thread.join(10)
    result = {
        "agents": agents, "escalations": escalations, "claimed": sum(claims), "seconds": round(elapsed, 3),
        "claims_per_second": round(sum(claims) / elapsed, 1), "double_assignments": doubles,
        "agents_over_capacity": over, "stream_samples": len(latencies),
        "stream_latency_ms": {"p50": round(statistics.median(latencies) * 1000, 2),
                              "p95": round(_percentile(latencies, 95) * 1000, 2),
                              "max": round(max(latencies) * 1000, 2)} if latencies else None,
    }
    print(f"claims: {result['claimed']} by {agents} concurrent agents in {result['seconds']} s = "
          f"{result['claims_per_second']} claims/s; double assignments: {doubles}; agents over capacity: {over}")
    if latencies:
        lat = result["stream_latency_ms"]
        print(f"created → visible on the SSE stream ({len(latencies)} deliveries to {agents} agents): "
              f"p50 {lat['p50']} ms, p95 {lat['p95']} ms, max {lat['max']} ms")
    print(json.dumps(result))
    if json_path:
        Path(json_path).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0 if doubles == 0 and over == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.claims", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/concierge_bench_claims",
                        help="PostgreSQL database (re-created)")
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--escalations", type=int, default=1000)
    parser.add_argument("--json", default="", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    return run(args.database_url, args.agents, args.escalations, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
