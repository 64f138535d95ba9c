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
