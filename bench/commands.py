"""Running the other benchmarks as their own processes: bounded runs, their JSON figures."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import IO

from launcher.settings import ROOT

ROUTING_PY = ROOT / ".venv" / "routing" / "bin" / "python"
BOT_PY = ROOT / ".venv" / "bot" / "bin" / "python"


def run_json(argv: list[str], timeout: float, log: IO[str]) -> tuple[int, dict[str, object]]:
    """Run a command (its output copied to `log`); its exit code and the JSON object it printed last."""
    done = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout, check=False)
    log.write(f"$ {' '.join(argv)}\n{done.stdout}\n")
    log.flush()
    try:
        return done.returncode, last_json_object(done.stdout)
    except ValueError:
        raise RuntimeError(f"{' '.join(argv[1:4])} exited with {done.returncode} and printed no JSON "
                           f"(see the log)") from None


def last_json_object(text: str) -> dict[str, object]:
    """The whole output parsed as JSON, or else its last line that parses as a JSON object."""
    try:
        value = json.loads(text)
        if isinstance(value, dict):
            return value
    except json.JSONDecodeError:
        pass
    for line in reversed(text.strip().splitlines()):
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    raise ValueError("the command printed no JSON object")


def numeric_leaves(data: object, prefix: str = "") -> dict[str, float | int]:
    """Every number in nested dicts, keyed by its dotted path (booleans and texts left out)."""
    out: dict[str, float | int] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(numeric_leaves(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, (int, float)) and not isinstance(data, bool):
        out[prefix] = data
    return out


def read_json(path: Path) -> dict[str, object]:
    value = json.loads(path.read_text())
    if not isinstance(value, dict):
        raise ValueError(f"{path} holds no JSON object")
    return value
