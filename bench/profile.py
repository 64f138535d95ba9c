"""Where a turn's CPU goes, per process: py-spy samples each process of the stack while it is loaded.

`python -m bench --profile` attaches `py-spy record` (sampling, non-blocking: the processes are not paused) to each
process of the embedded stack for one extra round of load after the measured ones, so that the measured figures
stay unperturbed. Each process's samples are kept in reports/profile/ as collapsed stacks (`<name>.folded`:
flamegraph.pl and speedscope.app read them) and as a speedscope file (`<name>.speedscope.json`), and the report
gets one table per process: the functions of Concierge's own code and of Rasa that the CPU went to.

How a sample is counted: py-spy in non-blocking mode also samples threads that wait in C (an event loop in uvloop's
epoll, a worker thread on its queue), so a sample whose innermost frame is an event loop's or a wait is idle and
left out. Of the others, `attributed` is the share whose deepest own-code or Rasa frame is the function (what it
costs with the libraries it calls, minus the own/Rasa functions it calls); `inclusive` is the share with the
function anywhere on the stack below the event loop (the entry points above it, such as `main`, are left out). With
the process's CPU per message (from /proc), a share becomes milliseconds of CPU per message.
"""

from __future__ import annotations

import asyncio
import functools
import json
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bench.memory import TreeCpu
from bench.report import Figure, Report, Table, table_lines
from bench.rest_load import Dialogue, run_load
from launcher.settings import ROOT

PY_SPY = ROOT / ".venv" / "routing" / "bin" / "py-spy"
RATE_HZ = 100
TOP = 15
Stack = tuple[str, ...]
OUTSIDE = "(libraries and the event loop, no own or Rasa frame)"
# (function, file) of the frames that run an event loop: what is above them is an entry point, a sample that ends in
# one is the loop waiting in C (uvloop) or its own work; names are qualified on Python 3.11 (`Runner.run`)
LOOP_FRAMES = frozenset({("serve", "sanic/server/runners.py"), ("run", "asyncio/runners.py"),
                         ("run_forever", "asyncio/base_events.py"), ("run_until_complete", "asyncio/base_events.py"),
                         ("_run_once", "asyncio/base_events.py"), ("_run", "asyncio/events.py")})
# a sample that ends in one of these is a thread waiting
WAIT_FRAMES = frozenset({("wait", "threading.py"), ("_wait_for_tstate_lock", "threading.py"),
                         ("_worker", "concurrent/futures/thread.py"), ("get", "queue.py"), ("select", "selectors.py")})


def py_spy() -> str | None:
    """The py-spy executable (requirements/routing.lock pins it), or None when it is not installed."""
    if PY_SPY.exists():
        return str(PY_SPY)
    return shutil.which("py-spy")


def parse_folded(text: str) -> Counter[Stack]:
    """Collapsed stacks (`root;...;leaf count` per line, py-spy's raw format) -> sample counts per stack.
    The `process <pid>:"<command>"` frames that --subprocesses adds are dropped."""
    stacks: Counter[Stack] = Counter()
    for line in text.splitlines():
        frames, _, count = line.rstrip().rpartition(" ")
        if not frames or not count.isdigit():
            continue
        stack = tuple(f for f in frames.split(";") if f and not f.startswith("process "))
        if stack:
            stacks[stack] += int(count)
    return stacks


def _matches(frame: Frame, known: frozenset[tuple[str, str]]) -> bool:
    short = frame.name.rsplit(".", 1)[-1]
    return any(short == name and frame.path.endswith("/" + file) for name, file in known)


@dataclass(frozen=True)
class Frame:
    """A function as py-spy names it: `name (path:line)` with --function --full-filenames."""

    name: str
    path: str
    line: int

    @staticmethod
    @functools.cache
    def parse(frame: str) -> Frame:
        name, _, where = frame.rpartition(" (")
        path, _, line = where.rstrip(")").rpartition(":")
        if not name:  # no location given
            return Frame(frame, "", 0)
        return Frame(name, path, int(line) if line.isdigit() else 0)

    @property
    def origin(self) -> str:
        """"own" (Concierge's code), "rasa" (Rasa and its SDK), or the library or standard module it is from."""
        if "/site-packages/" in self.path:
            package = self.path.split("/site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
            return "rasa" if package in ("rasa", "rasa_sdk") else package
        root = str(ROOT) + "/"
        if self.path.startswith(root) and "/.venv/" not in self.path:
            return "own"
        if "/lib/python3" in self.path:
            return "stdlib:" + self.path.rsplit("/lib/python3", 1)[1].split("/", 2)[1].removesuffix(".py")
        return self.path or "?"

    @property
    def where(self) -> str:
        """The file, relative to the project or to site-packages."""
        if "/site-packages/" in self.path:
            return self.path.split("/site-packages/", 1)[1]
        return self.path.removeprefix(str(ROOT) + "/")


def ours(frame: str) -> bool:
    """Whether a frame is Concierge's own code or Rasa's."""
    return Frame.parse(frame).origin in ("own", "rasa")


@dataclass
class Shares:
    """A process's samples summarised: how many were active (and idle), per function its attributed and inclusive
    shares of the active ones, per origin (library) the share of the innermost frames."""

    samples: int
    idle: int
    attributed: dict[str, float]
    inclusive: dict[str, float]
    leaf_origin: dict[str, float]


def below_loop(stack: Stack) -> Stack | None:
    """The frames below the innermost event-loop frame (all of them in a thread without a loop); None when the
    sample is idle: it ends in an event loop or a wait."""
    leaf = Frame.parse(stack[-1])
    if _matches(leaf, LOOP_FRAMES) or _matches(leaf, WAIT_FRAMES):
        return None
    loops = [i for i, frame in enumerate(stack) if _matches(Frame.parse(frame), LOOP_FRAMES)]
    return stack[loops[-1] + 1:] if loops else stack


def shares(stacks: Counter[Stack]) -> Shares:
    """See the module's docstring."""
    attributed: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    active = idle = 0
    for stack, count in stacks.items():
        work = below_loop(stack)
        if work is None:
            idle += count
            continue
        active += count
        own = [f for f in work if ours(f)]
        for frame in set(own):
            inclusive[frame] += count
        attributed[own[-1] if own else OUTSIDE] += count
        leaf[Frame.parse(stack[-1]).origin] += count
    scale = 1 / active if active else 0.0
    return Shares(active, idle, {k: v * scale for k, v in attributed.items()},
                  {k: v * scale for k, v in inclusive.items()}, {k: v * scale for k, v in leaf.items()})


def top_table(process: str, found: Shares, cpu_ms_per_message: float, top: int = TOP) -> Table:
    """The process's functions by attributed share (the `top` first), with the inclusive share and milliseconds
    of CPU per message, then the libraries the leaf samples were in."""
    ranked = sorted(found.attributed.items(), key=lambda item: -item[1])[:top]
    rows = []
    for frame, share in ranked:
        f = Frame.parse(frame)
        inclusive = found.inclusive.get(frame, share)
        rows.append([f.name, f"{f.where}:{f.line}" if f.path else "-", f"{share:.1%}", f"{inclusive:.1%}",
                     f"{share * cpu_ms_per_message:.2f}"])
    leaves = sorted(found.leaf_origin.items(), key=lambda item: -item[1])[:8]
    note = (f"{found.samples:,} active samples at {RATE_HZ} Hz ({found.idle:,} idle left out). Innermost frames "
            "by origin: " + ", ".join(f"{origin} {share:.0%}" for origin, share in leaves))
    return Table(f"Profile: {process} ({cpu_ms_per_message:.1f} ms CPU per message)",
                 ["function", "file", "attributed", "inclusive", "ms/msg (attributed)"], rows, note)


def own_inclusive_table(processes: Mapping[str, tuple[Shares, float]], top: int = TOP) -> Table:
    """Concierge's own functions by inclusive share in each process (entry points left out): what each check and
    wrapper costs with everything it calls."""
    rows = []
    for process, (found, ms) in processes.items():
        own = [(frame, share) for frame, share in found.inclusive.items() if Frame.parse(frame).origin == "own"]
        for frame, share in sorted(own, key=lambda item: -item[1])[:top]:
            f = Frame.parse(frame)
            rows.append([process, f.name, f"{f.where}:{f.line}", f"{share:.1%}", f"{share * ms:.2f}"])
    return Table("Profile: Concierge's own functions, inclusive (with what they call)",
                 ["process", "function", "file", "inclusive", "ms/msg"], rows)


def speedscope(stacks: Counter[Stack], name: str) -> dict[str, object]:
    """The samples as a speedscope 'sampled' profile (https://www.speedscope.app/file-format-schema.json)."""
    index: dict[str, int] = {}
    frames: list[dict[str, object]] = []
    samples: list[list[int]] = []
    weights: list[int] = []
    for stack, count in stacks.items():
        ids = []
        for frame in stack:
            if frame not in index:
                index[frame] = len(frames)
                f = Frame.parse(frame)
                frames.append({"name": f.name, "file": f.path, "line": f.line})
            ids.append(index[frame])
        samples.append(ids)
        weights.append(count)
    return {"$schema": "https://www.speedscope.app/file-format-schema.json", "name": name,
            "exporter": "concierge bench/profile.py", "shared": {"frames": frames},
            "profiles": [{"type": "sampled", "name": name, "unit": "none", "startValue": 0,
                          "endValue": sum(weights), "samples": samples, "weights": weights}]}


@contextmanager
def recording(pids: Mapping[str, int], out_dir: Path, log: IO[str]) -> Iterator[dict[str, Path]]:
    """py-spy attached to each named process while the block runs; yields the collapsed-stack file each writes
    (complete once the block has ended). Raises RuntimeError when py-spy is not installed."""
    exe = py_spy()
    if exe is None:
        raise RuntimeError("py-spy is not installed (pip install -r requirements/routing.lock)")
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {name: out_dir / f"{name}.folded" for name in pids}
    spies = {}
    for name, pid in pids.items():
        files[name].unlink(missing_ok=True)
        spies[name] = subprocess.Popen(
            [exe, "record", "--pid", str(pid), "--rate", str(RATE_HZ), "--format", "raw", "--function",
             "--full-filenames", "--nonblocking", "--subprocesses", "--output", str(files[name])],
            stdout=log, stderr=subprocess.STDOUT)
    time.sleep(1.0)  # py-spy attaches before the load starts
    try:
        yield files
    finally:
        for spy in spies.values():
            if spy.poll() is None:
                spy.send_signal(signal.SIGINT)  # py-spy writes its file and exits
        for name, spy in spies.items():
            try:
                spy.wait(60)
            except subprocess.TimeoutExpired:
                spy.kill()
                spy.wait()
                log.write(f"py-spy of {name} did not stop in time\n")


def write_speedscope(files: Mapping[str, Path]) -> dict[str, Counter[Stack]]:
    """Each process's collapsed stacks read back, and written again as <name>.speedscope.json beside them."""
    found: dict[str, Counter[Stack]] = {}
    for name, path in files.items():
        stacks = parse_folded(path.read_text()) if path.exists() else Counter()
        found[name] = stacks
        path.with_suffix(".speedscope.json").write_text(json.dumps(speedscope(stacks, name)))
    return found


def profile_load(report: Report, section: str, url: str, dialogue_for: Callable[[int], Dialogue],
                 pids: Mapping[str, int], concurrency: int, conversations: int, out_dir: Path, log: IO[str]) -> None:
    """One round of `conversations` at `concurrency` with py-spy on every process in `pids`: the profile files,
    the throughput under the profiler, and the tables (see the module's docstring)."""
    probe = TreeCpu(pids)
    print(f"  profiled round: {conversations} conversations at {concurrency} concurrent, py-spy on "
          f"{', '.join(pids)}...", flush=True)
    with recording(pids, out_dir, log) as files:
        before = probe()
        result = asyncio.run(run_load(url, dialogue_for, concurrency, conversations, 0))
        after = probe()
    stacks = write_speedscope(files)
    ms = {name: (after[name] - before[name]) * 1000 / result.messages if result.messages else float("nan")
          for name in pids}
    report.add(Figure(section, f"{concurrency} concurrent under py-spy: messages/s (errors)",
                      f"{result.messages_per_s:.1f} msg/s ({result.errors})"))
    report.add(Figure(section, f"{concurrency} concurrent under py-spy: CPU per message by process",
                      " / ".join(f"{name} {value:.1f}" for name, value in ms.items())
                      + f" = {sum(ms.values()):.1f} ms"))
    found = {name: (shares(stacks[name]), ms[name]) for name in pids}
    for name, (summary, cpu_ms) in found.items():
        report.add_table(top_table(name, summary, cpu_ms))
    report.add_table(own_inclusive_table(found))
    report.details.setdefault(section, {})["profile"] = {
        name: {"cpu_ms_per_message": cpu_ms, "samples": summary.samples, "idle_samples": summary.idle,
               "attributed": dict(sorted(summary.attributed.items(), key=lambda item: -item[1])[:40]),
               "inclusive_own": {k: v for k, v in summary.inclusive.items() if Frame.parse(k).origin == "own"}}
        for name, (summary, cpu_ms) in found.items()}
    where = out_dir.relative_to(ROOT) if out_dir.is_relative_to(ROOT) else out_dir
    report.notes.append(f"Profile ({section}): py-spy's samples per process are in {where}/ as <process>.folded "
                        "(collapsed stacks; `python -m bench.profile <file> --focus TEXT` splits a function's CPU "
                        "over its callees) and <process>.speedscope.json (open in speedscope.app).")


def callees(stacks: Counter[Stack], needle: str, depth: int = 3) -> tuple[float, dict[Stack, float]]:
    """The share of active samples under the first (outermost) frame whose text contains `needle`, and how those
    split over the paths of calls below it, `depth` levels deep (a path's share includes its callees')."""
    split: Counter[Stack] = Counter()
    active = under = 0
    for stack, count in stacks.items():
        work = below_loop(stack)
        if work is None:
            continue
        active += count
        at = next((i for i, frame in enumerate(work) if needle in frame), None)
        if at is None:
            continue
        under += count
        below = work[at + 1:at + 1 + depth]
        for n in range(1, len(below) + 1):
            split[below[:n]] += count
    return (under / active if active else 0.0), {k: v / under for k, v in sorted(split.items())}


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.profile reports/profile/rasa.folded [--focus TEXT] [--cpu-ms MS]`: a recorded profile's
    table again, or where the CPU under one function went (its direct callees)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=main.__doc__)
    parser.add_argument("folded", type=Path, help="a <process>.folded file of reports/profile/")
    parser.add_argument("--focus", help="text of a frame, e.g. 'save (' or 'rule_policy.py'")
    parser.add_argument("--cpu-ms", type=float, default=float("nan"),
                        help="the process's CPU per message (reports/bench-profile.md), to print milliseconds")
    parser.add_argument("--top", type=int, default=TOP)
    parser.add_argument("--depth", type=int, default=3, help="levels of calls shown under --focus")
    parser.add_argument("--min-share", type=float, default=0.02, help="paths under --focus below this are hidden")
    args = parser.parse_args(argv)
    stacks = parse_folded(args.folded.read_text())
    if args.focus is None:
        print("\n".join(table_lines(top_table(args.folded.stem, shares(stacks), args.cpu_ms, args.top))))
        return 0
    share, split = callees(stacks, args.focus, args.depth)
    print(f"{share:.1%} of the active samples ({share * args.cpu_ms:.2f} ms/msg) are under '{args.focus}':")
    for path, part in split.items():
        if part >= args.min_share:
            f = Frame.parse(path[-1])
            print(f"  {part:6.1%} {part * share * args.cpu_ms:6.2f} ms {'  ' * (len(path) - 1)}{f.name} "
                  f"({f.where}:{f.line})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
