"""Benchmark: how long an agent's message takes to reach Rasa while other deliveries fail (the real service, its
outbox worker and a real HTTP server standing in for Rasa and for a queue's webhook receiver).

Three scenarios, `--messages` healthy conversations each (one agent message each, `--interval` seconds apart):
- healthy: nothing else in the outbox;
- 60 failing: 60 messages of one conversation that Rasa answers with 500, written first;
- dead webhook: every conversation also has a queue webhook, written first, whose receiver accepts and never
  answers (the client gives up after its 5 s timeout).
Prints p50 / p95 / max from commit to arrival and how many arrived within `--deadline` seconds; --json writes them.
Each scenario runs on a fresh SQLite file (the embedded mode). Run: `python -m bench.outbox [--messages 20]`.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.stats import nearest_rank
from launcher.in_thread import serve_in_thread
from launcher.settings import ALWAYS_OPEN, write_policy_copy
from routing.db import upgrade
from routing.settings import ROOT, Settings

STUCK = 60


class _Rasa:
    """Records when each healthy message arrives; fails the stuck conversation; hangs webhook calls."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        rasa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
                if "/hook" in self.path:
                    rasa.stop.wait(30)  # accepts, never answers
                    return
                if "/conversations/stuck/" in self.path:
                    self.send_response(500)
                else:
                    if isinstance(body, list) and body and "text" in body[0]:
                        with rasa.lock:
                            rasa.arrived.setdefault(body[0]["text"], time.perf_counter())
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()


@contextmanager
def _service(database_url: str, rasa_url: str) -> Iterator[Any]:
    """The routing app served by uvicorn (so that its workers run), on a fresh database."""
    from routing.app import create_app

    upgrade(database_url)
    tmp = Path(tempfile.mkdtemp(prefix="bench-outbox-"))
    policy = write_policy_copy(ROOT / "routing" / "policy.yml", tmp / "policy.yml", default=ALWAYS_OPEN)
    app = create_app(Settings(env="development", database_url=database_url, policy_file=policy,
                              rasa_url=rasa_url, service_token="bench-service-token"))
    with serve_in_thread(app, log_level="critical"):
        yield app
        app.state.engine.dispose()


def _scenario(name: str, database_url: str, messages: int, interval: float, deadline: float) -> dict[str, Any]:
    from routing.escalations import outbox

    rasa = _Rasa()
    try:
        with _service(database_url, rasa.url) as app:
            sessions = app.state.sessions
            with sessions.begin() as session:
                if name == "60 failing":
                    for n in range(STUCK):
                        outbox.enqueue(session, "agent_message", "stuck", {"text": f"stuck {n}", "agent_name": "B"})
                if name == "dead webhook":
                    for n in range(messages):
                        outbox.enqueue(session, "webhook", f"healthy-{n}",
                                       {"url": f"{rasa.url}/hook", "escalation": {"id": n}})
            time.sleep(0.5)  # the worker has started on what was written first
            sent: dict[str, float] = {}
            for n in range(messages):
                text = f"hello {n}"
                with sessions.begin() as session:
                    outbox.enqueue(session, "agent_message", f"healthy-{n}", {"text": text, "agent_name": "B"})
                sent[text] = time.perf_counter()
                time.sleep(interval)
            end = time.perf_counter() + deadline
            while time.perf_counter() < end:
                with rasa.lock:
                    if len(rasa.arrived) >= messages:
                        break
                time.sleep(0.02)
            with rasa.lock:
                latencies = [rasa.arrived[t] - sent[t] for t in sent if t in rasa.arrived]
    finally:
        rasa.close()
    result: dict[str, Any] = {"messages": messages, "delivered_within_deadline": len(latencies),
                              "deadline_s": deadline}
    if latencies:
        result.update({"p50_ms": round(nearest_rank(latencies, 50) * 1000, 1),
                       "p95_ms": round(nearest_rank(latencies, 95) * 1000, 1),
                       "max_ms": round(max(latencies) * 1000, 1)})
    return result


def run(messages: int, interval: float, deadline: float, json_path: str = "") -> int:
    """All scenarios, each on a fresh SQLite file."""
    logging.getLogger("routing.escalations.outbox").setLevel(logging.ERROR)  # the failures are the scenario
    results = {}
    for name in ("healthy", "60 failing", "dead webhook"):
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-outbox-db-')) / 'routing.db'}"
        results[name] = r = _scenario(name, url, messages, interval, deadline)
        timing = (f"p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, max {r['max_ms']} ms" if "p50_ms" in r
                  else "none arrived")
        print(f"{name}: {r['delivered_within_deadline']}/{messages} healthy messages reached Rasa within "
              f"{deadline:g} s; {timing}", flush=True)
    print(json.dumps(results))
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.outbox", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between two healthy messages")
    parser.add_argument("--deadline", type=float, default=30.0, help="seconds to wait for the healthy messages")
    parser.add_argument("--json", default="", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    return run(args.messages, args.interval, args.deadline, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
