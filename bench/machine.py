"""Facts about the machine a benchmark ran on (CPU, cores, RAM, Python versions, date)."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from clock import utcnow
from launcher.settings import ROOT


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return float("nan")


def _python_version(python: Path) -> str:
    if not python.exists():
        return "missing"
    out = subprocess.run([str(python), "--version"], capture_output=True, text=True, check=False)
    return (out.stdout or out.stderr).strip().removeprefix("Python ")


def machine_facts() -> dict[str, object]:
    """CPU model, usable cores, RAM, OS, both venvs' Python versions and the UTC date."""
    return {
        "date_utc": utcnow().strftime("%Y-%m-%d %H:%M UTC"),
        "cpu_model": _cpu_model(),
        "cpu_cores": len(os.sched_getaffinity(0)),
        "ram_gb": _ram_gb(),
        "os": f"{platform.system()} {platform.release()}",
        "python_bot": _python_version(ROOT / ".venv" / "bot" / "bin" / "python"),
        "python_routing": _python_version(ROOT / ".venv" / "routing" / "bin" / "python"),
    }
