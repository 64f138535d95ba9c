"""A small supervisor for the Concierge processes: start, health-check, stream logs, stop cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from launcher.settings import ROOT, StackSettings

BOT_BIN = ROOT / ".venv" / "bot" / "bin"
ROUTING_BIN = ROOT / ".venv" / "routing" / "bin"


@dataclass
class ProcessSpec:
    """One long-running child process and the URL that tells it is healthy."""

    name: str
    argv: list[str]
    health_url: str
    cwd: Path = ROOT
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)


def process_specs(s: StackSettings) -> list[ProcessSpec]:
    """The processes of the embedded stack, in start order."""
    return [
        ProcessSpec(
            "routing",
            [str(ROUTING_BIN / "python"), "-m", "routing.cli", "serve"],
            f"{s.routing_url}/health",
        ),
        ProcessSpec(
            "actions",
            [str(BOT_BIN / "python"), "-m", "bot_runtime.action_server", "--host", s.host,
             "--port", str(s.actions_port)],
            f"{s.actions_url}/health",
        ),
        ProcessSpec(
            "rasa",
            [
                str(BOT_BIN / "python"), "-m", "bot_runtime", "run", "--enable-api", "--auth-token", s.rasa_token,
                "--cors", "*", "--port", str(s.rasa_port), "--interface", s.host,
                "--model", str(s.model), "--endpoints", str(s.endpoints),
                "--credentials", str(ROOT / "credentials.yml"),
            ],
            f"{s.rasa_url}/status?token={s.rasa_token}",
        ),
    ]


def prepare(s: StackSettings, out: IO[str] = sys.stdout) -> None:
    """Create/migrate the routing database and load the demo shop when it is empty."""
    s.var_dir.mkdir(parents=True, exist_ok=True)
    argv = [str(ROUTING_BIN / "python"), "-m", "routing.cli", "init"]
    if s.seed_demo:
        argv += ["--demo-customers", str(s.demo_customers)]
    subprocess.run(argv, cwd=ROOT, env=s.child_env(), check=True, stdout=out, stderr=subprocess.STDOUT)


class Stack:
    """Runs the processes of one stack; use as a context manager or call start()/stop()."""

    def __init__(self, settings: StackSettings, log: IO[str] | None = None) -> None:
        self.settings = settings
        self.specs = process_specs(settings)
        self.log = log or sys.stdout
        self._lock = threading.Lock()

    def _pump(self, spec: ProcessSpec) -> None:
        assert spec.proc and spec.proc.stdout
        for raw in iter(spec.proc.stdout.readline, b""):
            line = raw.decode(errors="replace").rstrip()
            with self._lock:
                self.log.write(f"{spec.name:>8} | {line}\n")
                self.log.flush()

    def start(self, timeout: float = 180.0) -> None:
        """Start every process and wait until all health checks pass (or raise)."""
        prepare(self.settings, self.log)
        env = self.settings.child_env()
        for spec in self.specs:
            spec.proc = subprocess.Popen(
                spec.argv, cwd=spec.cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            threading.Thread(target=self._pump, args=(spec,), daemon=True).start()
        self.wait_healthy(timeout)

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = {spec.name: spec for spec in self.specs}
        with httpx.Client(timeout=2.0) as client:
            while pending:
                for name, spec in list(pending.items()):
                    if spec.proc and spec.proc.poll() is not None:
                        self.stop()
                        raise RuntimeError(f"{name} exited with code {spec.proc.returncode} before it was healthy")
                    try:
                        if client.get(spec.health_url).status_code == 200:
                            del pending[name]
                    except httpx.HTTPError:
                        pass
                if pending and time.monotonic() > deadline:
                    self.stop()
                    raise TimeoutError(f"not healthy after {timeout:.0f}s: {', '.join(pending)}")
                time.sleep(0.5)

    def first_exited(self) -> ProcessSpec | None:
        return next((s for s in self.specs if s.proc and s.proc.poll() is not None), None)

    def pids(self) -> dict[str, int]:
        return {s.name: s.proc.pid for s in self.specs if s.proc}

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM every process group, then SIGKILL whatever is left after the grace period."""
        for spec in reversed(self.specs):
            if spec.proc and spec.proc.poll() is None:
                _signal_group(spec.proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for spec in self.specs:
            if not spec.proc:
                continue
            try:
                spec.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(spec.proc, signal.SIGKILL)
                spec.proc.wait()

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def urls(s: StackSettings) -> list[tuple[str, str]]:
    """What a person opens, in the order printed by the run command."""
    return [
        ("Chat (demo shop with the widget)", f"{s.routing_url}/shop"),
        ("Agent console", f"{s.routing_url}/console"),
        ("Routing service API docs", f"{s.routing_url}/docs"),
        ("Rasa REST channel", f"{s.rasa_url}/webhooks/rest/webhook"),
        ("Rasa socket.io channel", f"{s.rasa_url}/socket.io"),
        ("Action server", f"{s.actions_url}/health"),
    ]


def run_forever(s: StackSettings) -> int:
    """Start the stack, print URLs and 'ready', and stop every child on Ctrl-C/SIGTERM."""
    stack = Stack(s)
    stopping = threading.Event()

    def _handle(signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, _handle)
    signal.signal(signal.SIGTERM, _handle)
    try:
        stack.start()
    except (RuntimeError, TimeoutError) as exc:
        print(f"concierge: failed to start: {exc}", file=sys.stderr)
        return 1
    print("\nConcierge is running:")
    for label, url in urls(s):
        print(f"  {label:<34} {url}")
    print("ready (Ctrl-C stops everything)", flush=True)
    code = 0
    while not stopping.wait(1.0):
        dead = stack.first_exited()
        if dead:
            code_text = dead.proc.returncode if dead.proc else "?"
            print(f"concierge: {dead.name} exited with code {code_text}; stopping", file=sys.stderr)
            code = 1
            break
    print("concierge: stopping...", flush=True)
    stack.stop()
    print("concierge: stopped", flush=True)
    return code
