"""A small supervisor for the Concierge processes: start, health-check, stream logs, restart, stop cleanly.

A child that dies is restarted after a back-off (1 s, doubled after each quick death up to 30 s, back to 1 s once
it has run for a minute) while the others keep serving: the bot still answers routine questions while the routing
service restarts. Each restart is logged with the exit code. A child that runs but no longer answers (stopped, or
its event loop stuck) is killed after a few unanswered liveness probes and restarted the same way; one still
starting is left alone for its start-up grace (LivenessSettings). Ctrl-C or SIGTERM stops every child.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from launcher import probes
from launcher.settings import ROOT, LivenessSettings, StackSettings

BOT_BIN = ROOT / ".venv" / "bot" / "bin"
ROUTING_BIN = ROOT / ".venv" / "routing" / "bin"
ROUTING_LIVE_PATH = "/health/live"  # routing/liveness.py: answered before the admission and the database


@dataclass
class Backoff:
    """The delays between restarts of one child: `base`, doubled after each death up to `cap`; back to `base`
    when the child had run for `stable` seconds (a crash after a day of service is not a crash loop)."""

    base: float = 1.0
    cap: float = 30.0
    stable: float = 60.0
    quick_deaths: int = 0

    def delay_after(self, ran_for: float) -> float:
        """The wait before restarting a child that died after running `ran_for` seconds."""
        if ran_for >= self.stable:
            self.quick_deaths = 0
        delay = min(self.cap, self.base * 2.0 ** min(self.quick_deaths, 30))
        self.quick_deaths += 1
        return delay


@dataclass
class ProcessSpec:
    """One long-running child process, the URL that tells it is healthy (200: started and able to serve), the URL
    that tells it is alive (any answer; the health URL when empty), and its restart and probing state."""

    name: str
    argv: list[str]
    health_url: str
    cwd: Path = ROOT
    env: dict[str, str] = field(default_factory=dict)  # on top of the stack's child environment (replica ports)
    backoff: Backoff = field(default_factory=Backoff)
    live_url: str = ""
    liveness: LivenessSettings | None = None  # None: the stack's settings
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    started_at: float = 0.0  # time.monotonic() of the last start
    restarts: int = 0
    restart_at: float | None = None  # set while a restart waits for its back-off
    watch: probes.Watch = field(default_factory=probes.Watch, repr=False)  # reset at each start


def process_specs(s: StackSettings) -> list[ProcessSpec]:
    """The processes of the embedded stack, in start order."""
    return [
        ProcessSpec(
            "routing",
            [str(ROUTING_BIN / "python"), "-m", "routing.cli", "serve"],
            f"{s.routing_url}/health",
            live_url=f"{s.routing_url}{ROUTING_LIVE_PATH}",
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
                "--port", str(s.rasa_port), "--interface", s.host,
                "--model", str(s.model), "--endpoints", str(s.endpoints),
                "--credentials", str(ROOT / "credentials.yml"),
            ],
            f"{s.rasa_url}/status?token={s.rasa_token}",
            live_url=f"{s.rasa_url}/",
            liveness=s.rasa_liveness,
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
    """Runs the processes of one stack; use as a context manager or call start()/stop(). `supervise` restarts the
    children that die (the launcher runs it; the end-to-end fixtures do not)."""

    def __init__(self, settings: StackSettings, log: IO[str] | None = None,
                 specs: list[ProcessSpec] | None = None) -> None:
        self.settings = settings
        self.specs = specs if specs is not None else process_specs(settings)
        self.log = log or sys.stdout
        self._lock = threading.Lock()

    def _write(self, line: str) -> None:
        with self._lock:
            self.log.write(line + "\n")
            self.log.flush()

    def _pump(self, name: str, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout
        for raw in iter(proc.stdout.readline, b""):
            self._write(f"{name:>8} | {raw.decode(errors='replace').rstrip()}")

    def _spawn(self, spec: ProcessSpec) -> None:
        # its own session: Ctrl-C in the terminal reaches the launcher only, which stops the children in order
        spec.proc = proc = subprocess.Popen(
            spec.argv, cwd=spec.cwd, env={**self.settings.child_env(), **spec.env}, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        spec.started_at = time.monotonic()
        spec.watch = probes.Watch()  # a probe still in flight is about the previous process: its outcome is dropped
        threading.Thread(target=self._pump, args=(spec.name, proc), daemon=True).start()

    def start(self, timeout: float = 180.0) -> None:
        """Prepare the database, start every process and wait until all health checks pass (or raise)."""
        prepare(self.settings, self.log)
        self.launch(timeout)

    def launch(self, timeout: float = 180.0) -> None:
        """Start every process and wait until all health checks pass (or raise)."""
        for spec in self.specs:
            self._spawn(spec)
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
                            spec.watch.ready, spec.watch.answered_at = True, time.monotonic()
                            del pending[name]
                    except httpx.HTTPError:
                        pass
                if pending and time.monotonic() > deadline:
                    self.stop()
                    raise TimeoutError(f"not healthy after {timeout:.0f}s: {', '.join(pending)}")
                time.sleep(0.5)

    def supervise(self, stopping: threading.Event, interval: float = 0.5) -> None:
        """Until `stopping` is set: restart the children that die, each after its back-off, and kill (to restart)
        the children that stop answering their liveness probes. The probes run on worker threads, at most one per
        child at a time, so a hung child never delays the others' care."""
        pool = ThreadPoolExecutor(max_workers=2 * len(self.specs) + 1, thread_name_prefix="probe")
        try:
            with probes.client() as client:
                while not stopping.wait(interval):
                    for spec in self.specs:
                        self._tend(spec, client, pool)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _tend(self, spec: ProcessSpec, client: httpx.Client, pool: ThreadPoolExecutor) -> None:
        """One look at one child: notice its death, restart it when its back-off is over, probe it."""
        now = time.monotonic()
        if spec.proc is None:
            return
        if spec.restart_at is None and spec.proc.poll() is not None:
            _signal_group(spec.proc, signal.SIGKILL)  # what it left in its group would hold its port
            ran_for = now - spec.started_at
            delay = spec.backoff.delay_after(ran_for)
            spec.restart_at = now + delay
            killed = f" (killed by the launcher: {spec.watch.killed_for})" if spec.watch.killed_for else ""
            self._write(f"concierge: {spec.name} exited with code {_describe(spec.proc.returncode)} after "
                        f"{ran_for:.1f}s{killed}; restart {spec.restarts + 1} in {delay:g}s (the others keep serving)")
        elif spec.restart_at is not None and now >= spec.restart_at:
            spec.restart_at = None
            self._spawn(spec)
            spec.restarts += 1  # after the new process exists: whoever reads the count finds its pid
            self._write(f"concierge: {spec.name} restarted (restart {spec.restarts}, pid {spec.proc.pid})")
        elif spec.restart_at is None and not spec.watch.killed_for:
            self._probe(spec, client, pool, now)

    def _probe(self, spec: ProcessSpec, client: httpx.Client, pool: ThreadPoolExecutor, now: float) -> None:
        """Take the outcome of the child's probe in flight, if it is back, and send the next one when it is due.

        While the child starts (not ready, within its start-up grace) its health URL is asked at every look and
        nothing counts against it. Once ready, its liveness URL is asked every `interval`; past its grace and still
        not ready, its health URL is (any answer, a 503 too, means it is alive: a restart would not make it ready).
        """
        watch, live = spec.watch, spec.liveness or self.settings.liveness
        if watch.pending is not None:
            if not watch.pending.done():
                return
            outcome, watch.pending = watch.pending.result(), None
            self._judge(spec, outcome, live, now)
        if watch.killed_for:
            return
        starting = not watch.ready and (now - spec.started_at <= live.startup_grace or not live.enabled)
        if starting or (live.enabled and now >= watch.next_at):
            watch.next_at = now + live.interval
            url = (spec.live_url or spec.health_url) if watch.ready else spec.health_url
            watch.pending = pool.submit(probes.probe, client, url, live.timeout)

    def _judge(self, spec: ProcessSpec, outcome: probes.Outcome, live: LivenessSettings, now: float) -> None:
        """A 200 of the health URL makes the child ready; past its start, a probe not answered at all counts
        towards its kill."""
        watch = spec.watch
        if outcome.answered:
            watch.answered_at, watch.failures = now, 0
        if not watch.ready and outcome.ready:
            watch.ready = True
            if spec.restarts:
                self._write(f"concierge: {spec.name} is healthy again "
                            f"({now - spec.started_at:.1f}s after restart {spec.restarts})")
        if outcome.answered or not live.enabled or not watch.ready and now - spec.started_at <= live.startup_grace:
            return
        watch.failures += 1
        what = "liveness probe" if watch.ready else f"probe, not ready {now - spec.started_at:.0f}s after its start"
        self._write(f"concierge: {spec.name} did not answer its {what} ({outcome.detail}; GET {outcome.url}): "
                    f"{watch.failures} of {live.failures} in a row, last answer {now - watch.answered_at:.1f}s ago")
        if watch.failures >= live.failures:
            self._kill(spec, f"no answer to {watch.failures} liveness probes in a row (every {live.interval:g}s, "
                             f"{live.timeout:g}s timeout)"
                       + ("" if watch.ready else f", and not ready {live.startup_grace:g}s after its start"))

    def _kill(self, spec: ProcessSpec, why: str) -> None:
        """SIGKILL the child's process group (a stopped process dies of it too); the death is then noticed and the
        child restarted after its back-off, like a crashed one."""
        assert spec.proc is not None
        spec.watch.killed_for = why
        self._write(f"concierge: killing {spec.name} (pid {spec.proc.pid}, SIGKILL) to restart it: {why}")
        _signal_group(spec.proc, signal.SIGKILL)

    def pids(self) -> dict[str, int]:
        return {s.name: s.proc.pid for s in self.specs if s.proc}

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM every process group, then SIGKILL whatever is left after the grace period."""
        for spec in reversed(self.specs):
            if spec.proc and spec.proc.poll() is None:
                _signal_group(spec.proc, signal.SIGTERM)
                _signal_group(spec.proc, signal.SIGCONT)  # a stopped child acts on SIGTERM only once continued
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


@contextmanager
def running(settings: StackSettings, log_path: Path, timeout: float = 240.0) -> Iterator[Stack]:
    """The stack started with every process's output in `log_path`, stopped afterwards (for tests and tools).

    If it does not become healthy, the log's tail goes to stderr before the error: that is where the cause is.
    """
    with open(log_path, "w") as log:
        stack = Stack(settings, log=log)
        try:
            stack.start(timeout=timeout)
        except Exception:
            sys.stderr.write(log_path.read_text()[-5000:])
            raise
        try:
            yield stack
        finally:
            stack.stop()


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _describe(returncode: int) -> str:
    """An exit code, with the signal's name when a signal ended the process (-9 -> "-9 (SIGKILL)")."""
    if returncode < 0:
        try:
            return f"{returncode} ({signal.Signals(-returncode).name})"
        except ValueError:
            pass
    return str(returncode)


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


def run_forever(s: StackSettings, stack: Stack | None = None) -> int:
    """Start the stack (the embedded one unless `stack` is given), print URLs and 'ready', restart the children that
    die, and stop them all on Ctrl-C/SIGTERM."""
    stack = stack or Stack(s)
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
    stack.supervise(stopping)
    print("concierge: stopping...", flush=True)
    stack.stop()
    print("concierge: stopped", flush=True)
    return 0
