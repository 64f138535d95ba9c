"""Reading the stack's log (launcher.stack writes `<process> | <line>` and the supervisor's `concierge: ...` lines)
for what a fuzz case caused: the exceptions each process logged, the one behind an exit, the exit codes."""

from __future__ import annotations

import re
from pathlib import Path

# a traceback's last line, "UnicodeEncodeError: 'utf-8' codec ..." (not "Exception occurred while ..." prose)
RAISED = re.compile(r"^\s*([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning))(?::\s|$)")
STRUCTURED = re.compile(r'"exc_type": "([^"]+)", "exc_value": "((?:[^"\\]|\\.)*)"')
EXITED = re.compile(r"concierge: (\w+) exited with code (\S+)")
NOISE = {"sanic.exceptions.ServerError"}  # requests that reached Rasa while it was stopping


def lines_since(log_path: Path, offset: int) -> list[str]:
    """The log's lines written after byte `offset`."""
    with open(log_path, "rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace").splitlines()


def _split(line: str) -> tuple[str, str]:
    process, bar, said = line.partition(" | ")
    return (process.strip(), said) if bar else ("", line)


def raised(lines: list[str]) -> list[tuple[str, str, str]]:
    """(process, exception name, its message) of each traceback's last line, and of the root cause in each of
    Rasa's structured error lines (`"exc_type": ..., "exc_value": ...`, outermost first), in order."""
    found = []
    for line in lines:
        process, said = _split(line)
        match = RAISED.match(said)
        chain = STRUCTURED.findall(said)
        if process and match and match.group(1) not in NOISE:
            found.append((process, match.group(1), said.strip()[:300]))
        elif process and chain:
            name, value = chain[-1]
            found.append((process, name, f"{name}: {value}"[:300]))
    return found


def cause(lines: list[str], process: str | None) -> str | None:
    """The exception behind a failure of `process` (any process when None): the one raised just before its first
    SystemExit, else the first one it raised (a chained traceback prints its root cause first)."""
    named = [(name, message) for who, name, message in raised(lines) if process in (None, who)]
    for index, (name, _) in enumerate(named):
        if name == "SystemExit" and index > 0:
            return named[index - 1][1]
    return named[0][1] if named else None


def exit_codes(lines: list[str]) -> dict[str, str]:
    """The exit code of each process the supervisor saw exit."""
    return {m.group(1): m.group(2) for line in lines if (m := EXITED.search(line))}


def normalized(message: str, limit: int = 160) -> str:
    """An exception line without the values that differ between cases (escaped characters, numbers)."""
    return re.sub(r"\d+", "N", re.sub(r"\\[uUx][0-9a-fA-F]{2,8}", r"\\u…", message))[:limit]


def excerpt(lines: list[str], limit: int = 12) -> list[str]:
    """The lines that tell of an exception or an exit (the last `limit`), for a report."""
    wanted = [line for line in lines if RAISED.match(_split(line)[1]) or EXITED.search(line)]
    return [line[:300] for line in wanted[-limit:]]
