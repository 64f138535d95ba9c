"""`python -m fuzz.channels [--cases N] [--seed S] [--replay FILE]`: fuzz Rasa's REST and socket.io channels.

Starts the embedded stack on private ports (the launcher's supervisor restarts a process that dies, as `make run`
does), sends each generated case (fuzz/channel_cases.py: odd sender ids, texts, metadata, bodies, packets) and
checks after each one that the answer kept the rules and that every process is still the same process and answers
(fuzz/channel_checks.py). A case that broke a rule is sent once more after the stack recovered, to tell whether it
reproduces. reports/fuzz-channels/ holds every case as one replayable line (cases.jsonl), one line per distinct
failure (failures.jsonl; `--replay` takes it), summary.json and the stack's log. Exit code 1 when any case broke a rule.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from fuzz import channel_shrink, stack_log
from fuzz.channel_cases import Case, cases
from fuzz.channel_checks import Outcome, recovered, send, survived
from fuzz.runner import Player
from launcher.ports import free_base_port
from launcher.settings import ROOT, StackSettings
from launcher.stack import Backoff, Stack, running

EXITED_PROBLEM = re.compile(r"\w+ exited with code \S+")
REST_FAILURE = "rest.message.received.failure"  # Rasa's REST channel logs this when it swallows an exception
SOCKET_FAILURE = re.compile(r"socket\.io \S+ of \S+ failed")  # bot_runtime/socketio_channel.py: a failed turn
SETTLE_SECONDS = 10.0  # after a problem, the time a dying process has to exit before the stack is judged
SHOWN = 300  # characters of a case line printed with a failure (the whole line is in failures.jsonl)


@dataclass
class Failure:
    """A distinct failure: its signature, the first case that caused it and how many cases did."""

    signature: str
    case: Case
    outcome: Outcome
    problems: list[str]
    log: list[str]
    reproduced: bool | None = None
    cases: list[int] = field(default_factory=list)
    channels: set[str] = field(default_factory=set)

    def line(self) -> str:
        values = {**json.loads(self.case.line()), "signature": self.signature, "problems": self.problems,
                  "answer": self.outcome.answer, "reproduced": self.reproduced, "cases": self.cases,
                  "channels": sorted(self.channels), "log": self.log}
        return json.dumps(values)


def signature(problems: list[str], lines: list[str]) -> str:
    """What makes failures the same: the deaths (with their exit codes) or else the broken rules, and the
    exception behind them (quoted values and numbers left out)."""
    deaths = sorted({p for p in problems if EXITED_PROBLEM.fullmatch(p)})
    rules = deaths or sorted({re.sub(r" \(.*\)", "", p) for p in problems})
    reason = stack_log.cause(lines, deaths[0].split()[0] if deaths else None)
    return " + ".join(rules) + (f" [{stack_log.normalized(reason)}]" if reason else "")


class Fuzzer:
    """Sends cases to one running stack and keeps the distinct failures, and the exceptions the processes logged
    while answering cases that kept the rules (worth a look, not failures: the action outage path logs one)."""

    def __init__(self, stack: Stack, log_path: Path, client: httpx.AsyncClient, out: IO[str]) -> None:
        self.stack, self.log_path, self.client, self.out = stack, log_path, client, out
        self.pids = stack.pids()
        self.failures: dict[str, Failure] = {}
        self.logged: dict[str, list[int]] = {}  # "<process>: <exception line>" -> the cases after which it showed
        self.failed_cases = 0
        self.deaths = 0
        self.retries = 0
        self.token = ""

    async def attempt(self, case: Case, role: str = "case") -> tuple[Outcome, list[str], list[str]]:
        """One case: its outcome, every problem (its own and the stack's), and the log lines it caused; written to
        cases.jsonl with its `role` ("case", or "again" and "smaller" when a failure is confirmed and shrunk)."""
        offset = self.log_path.stat().st_size
        outcome = await send(self.client, self.stack.settings, case, self.token)
        problems = outcome.problems + await survived(self.client, self.stack, self.pids, case.channel)
        if problems:  # a process may be dying: let it, and wait until the supervisor has the stack serving again
            await self.settled()
            pids = await recovered(self.client, self.stack)
            died = [name for name in pids if pids[name] != self.pids[name]]
            self.pids = pids
            codes = stack_log.exit_codes(stack_log.lines_since(self.log_path, offset))
            problems = [p for p in problems if not any(p.startswith(f"{name} ") for name in died)]
            problems += [f"{name} exited with code {codes.get(name, '?')}" for name in died]
        lines = stack_log.lines_since(self.log_path, offset)
        if outcome.answer == "200" and any(REST_FAILURE in line for line in lines):
            problems.append("REST: 200 after Rasa failed to handle the message (an error answered as success)")
        if outcome.answer == "refused" and any(SOCKET_FAILURE.search(line) for line in lines):
            problems.append("socket.io: refused after Rasa failed to handle the message (an error answered as refused)")
        self.out.write(json.dumps({**json.loads(case.line()), "role": role, "answer": outcome.answer,
                                   "problems": problems, "seconds": round(outcome.seconds, 2)}) + "\n")
        self.out.flush()
        return outcome, problems, lines

    async def settled(self) -> None:
        """Wait until a process exits or SETTLE_SECONDS pass (Rasa on its way out may still answer for seconds)."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            if any(spec.proc is None or spec.proc.poll() is not None or spec.proc.pid != self.pids[spec.name]
                   for spec in self.stack.specs):
                return
            await asyncio.sleep(0.25)

    async def run(self, case: Case, previous: Case | None, confirm: bool) -> bool:
        """Send one case; True when it broke a rule. A new failure is confirmed by sending the case again (and,
        if that does not reproduce it, the case before it, whose effect may have shown late)."""
        if not self.token:
            self.token = await Player(self.stack.settings, self.client, set()).token("demo-gold")
        outcome, problems, lines = await self.attempt(case)
        self.deaths += sum(bool(EXITED_PROBLEM.fullmatch(p)) for p in problems)
        if not problems:
            for process, _, message in stack_log.raised(lines):
                self.logged.setdefault(f"{process}: {stack_log.normalized(message)}", []).append(case.index)
            return False
        self.failed_cases += 1
        key = signature(problems, lines)
        failure = self.failures.get(key)
        if failure is None:
            failure = self.failures[key] = Failure(key, case, outcome, problems, stack_log.excerpt(lines))
            if confirm:
                again = await self.reproduces(case, key)
                if again is None and previous is not None:
                    again = await self.reproduces(previous, key)
                failure.reproduced = again is not None
                if again is not None:
                    failure.case = await self.shrunk(again, key)
            said = {None: "", True: " - reproduced", False: " - not reproduced"}[failure.reproduced]
            shown = failure.case
            print(f"chanfuzz: FAIL case {shown.index} ({shown.channel}, {shown.kind[:120]}): {'; '.join(problems)}"
                  f"{said}\n  {key}\n  replay: {shown.line()[:SHOWN]}", flush=True)
        failure.cases.append(case.index)
        failure.channels.add(case.channel)
        return True

    async def reproduces(self, case: Case, key: str, role: str = "again") -> Case | None:
        """The case as sent again in a fresh conversation, if it failed the same way again."""
        self.retries += 1
        again = case.fresh(self.retries)
        _, problems, lines = await self.attempt(again, role)
        return again if signature(problems, lines) == key else None

    async def shrunk(self, case: Case, key: str) -> Case:
        """The case without each metadata key whose removal keeps the failure (each key tried once, in order)."""
        for name in channel_shrink.metadata_keys(case):
            smaller = await self.reproduces(channel_shrink.without(case, name), key, "smaller")
            if smaller is not None:
                case = smaller
        return case


@contextmanager
def supervised(stack: Stack) -> Any:
    """The launcher's supervisor restarting the stack's dead children, in a thread, while the block runs; without
    its growing back-off (a crash loop in production waits up to 30 s; here each crash is a finding to get past)."""
    for spec in stack.specs:
        spec.backoff = Backoff(base=0.5, cap=1.0)
    stopping = threading.Event()
    thread = threading.Thread(target=stack.supervise, args=(stopping,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopping.set()
        thread.join()


async def fuzz(stack: Stack, log_path: Path, planned: Iterable[Case], out: Path, confirm: bool,
               max_deaths: int, label: str) -> int:
    started = time.monotonic()
    sent = 0
    with open(out / "cases.jsonl", "w") as lines, supervised(stack):
        async with httpx.AsyncClient() as client:
            fuzzer = Fuzzer(stack, log_path, client, lines)
            previous = None
            for case in planned:
                await fuzzer.run(case, previous, confirm)
                previous = case
                sent += 1
                if sent % 50 == 0:
                    print(f"chanfuzz: {sent} cases, {fuzzer.failed_cases} failed, {time.monotonic() - started:.0f} s",
                          flush=True)
                if fuzzer.deaths > max_deaths:
                    print(f"chanfuzz: stopped after {fuzzer.deaths} process deaths (--max-deaths {max_deaths})")
                    break
    seconds = time.monotonic() - started
    failures = list(fuzzer.failures.values())
    (out / "failures.jsonl").write_text("".join(f.line() + "\n" for f in failures))
    summary = {"run": label, "cases": sent, "cases_failed": fuzzer.failed_cases, "process_deaths": fuzzer.deaths,
               "distinct_failures": [{"signature": f.signature, "first_case": f.case.index, "kind": f.case.kind,
                                      "cases": len(f.cases), "channels": sorted(f.channels),
                                      "reproduced": f.reproduced} for f in failures],
               "logged_exceptions": {k: {"cases": len(v), "first_case": v[0]} for k, v in fuzzer.logged.items()},
               "seconds": round(seconds, 1)}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    for logged, after in fuzzer.logged.items():
        print(f"chanfuzz: logged after {len(after)} cases that kept the rules (first: case {after[0]}): {logged}")
    print(f"chanfuzz: {sent} cases ({label}), {fuzzer.failed_cases} broke a rule, {len(failures)} distinct failures, "
          f"{fuzzer.deaths} process deaths, in {seconds:.0f} s; {out}/failures.jsonl replays them with --replay")
    return 1 if fuzzer.failed_cases else 0


def replayed(path: str) -> list[Case]:
    text = sys.stdin.read() if path == "-" else Path(path).read_text()
    return [Case.from_line(line) for line in text.splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--channels", default="rest,socketio", help="rest, socketio or both (alternating)")
    parser.add_argument("--replay", metavar="FILE", help="send the cases of a cases.jsonl/failures.jsonl ('-': stdin)")
    parser.add_argument("--no-confirm", action="store_true", help="do not send a failing case a second time")
    parser.add_argument("--max-deaths", type=int, default=6, help="stop after this many process deaths")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "fuzz-channels")
    args = parser.parse_args(argv)
    channels = tuple(c for c in args.channels.split(",") if c)
    if not set(channels) <= {"rest", "socketio"}:
        parser.error("--channels takes rest, socketio or rest,socketio")
    if args.replay:
        planned: Iterable[Case] = replayed(args.replay)
        label = f"replay of {args.replay}"
    else:
        planned = cases(args.seed, args.cases, channels)
        label = f"seed {args.seed}"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped run still stops its stack
    os.environ.setdefault("CONCIERGE_DEMO_CUSTOMERS", "400")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="concierge-chanfuzz-") as tmp:
        var_dir = Path(tmp)
        settings = StackSettings().with_ports(free_base_port(30000, 31000), var_dir).always_open()
        log_path = var_dir / "stack.log"
        try:
            with running(settings, log_path) as stack:
                return asyncio.run(fuzz(stack, log_path, planned, args.out, not args.no_confirm, args.max_deaths,
                                        label))
        finally:
            if log_path.exists():
                shutil.copy(log_path, args.out / "stack.log")  # the tracebacks behind the failures


if __name__ == "__main__":
    sys.exit(main())
