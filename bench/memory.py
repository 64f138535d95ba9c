"""Resident memory (VmRSS) and CPU time of processes including all their descendants, read from /proc."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

PROC = Path("/proc")


def _parent_map() -> dict[int, int]:
    """pid -> parent pid of every live process."""
    parents: dict[int, int] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name (field 2) may contain spaces; fields after the closing parenthesis are fixed
        fields = stat[stat.rfind(")") + 2:].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def rss_kb(pid: int) -> int:
    """VmRSS of one process in kB (0 when it is gone or is a kernel thread)."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(root: int, parents: Mapping[int, int]) -> set[int]:
    """`root` and every process below it in the parent map."""
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in found:
            continue
        found.add(pid)
        todo.extend(children.get(pid, []))
    return found


def tree_rss_mb(pids: Mapping[str, int]) -> dict[str, float]:
    """MB of resident memory per named process, each including its descendants."""
    parents = _parent_map()
    return {name: sum(rss_kb(p) for p in descendants(pid, parents)) / 1024 for name, pid in pids.items()}


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds one process has used (0 when it is gone)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rfind(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pids: Iterable[int]) -> float:
    """CPU seconds used so far by the processes `pids` and every descendant still running."""
    parents = _parent_map()
    found: set[int] = set()
    for pid in pids:
        found |= descendants(pid, parents)
    return sum(cpu_seconds(p) for p in found)


class TreeCpu:
    """CPU seconds used so far per named process, each with the descendants it had when this was made (utime +
    stime of /proc/<pid>/stat: exact CPU time truncated to clock ticks of 10 ms). Reading the trees once makes a
    reading cost a few small file reads, not a walk over /proc: cheap enough to take between two turns."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        parents = _parent_map()
        self.trees = {name: sorted(descendants(pid, parents)) for name, pid in pids.items()}

    def __call__(self) -> dict[str, float]:
        return {name: sum(cpu_seconds(p) for p in tree) for name, tree in self.trees.items()}


class ThreadCpu:
    """CPU seconds used since this was made per named process (with the descendants it had then), to the
    nanosecond: the sum of each thread's run time (/proc/<pid>/task/<tid>/schedstat), counted per thread between
    two readings, so that a thread that ends does not make the sum go back. A thread that starts and ends between
    two readings is missed: read it around short spans (a turn), and TreeCpu around long ones."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        parents = _parent_map()
        self.trees = {name: sorted(descendants(pid, parents)) for name, pid in pids.items()}
        self.last: dict[int, int] = {}
        self.used = dict.fromkeys(self.trees, 0)
        self()
        self.used = dict.fromkeys(self.trees, 0)

    def __call__(self) -> dict[str, float]:
        for name, tree in self.trees.items():
            for pid in tree:
                for tid, ns in _thread_run_ns(pid).items():
                    self.used[name] += max(0, ns - self.last.get(tid, 0))
                    self.last[tid] = ns
        return {name: ns / 1e9 for name, ns in self.used.items()}


def _thread_run_ns(pid: int) -> dict[int, int]:
    """Nanoseconds each live thread of `pid` has run (empty when the process is gone)."""
    found: dict[int, int] = {}
    try:
        tasks = list((PROC / str(pid) / "task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found[int(task.name)] = int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return found
