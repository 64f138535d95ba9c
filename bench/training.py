"""Training time of the full Concierge model, with a cold cache, into a temporary folder."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import IO

from launcher.settings import ROOT

RASA = ROOT / ".venv" / "bot" / "bin" / "rasa"


def time_training(work: Path, log: IO[str]) -> float:
    """Wall seconds of `rasa train` on the project (models/concierge.tar.gz is left alone)."""
    out = work / "train-out"
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
           "RASA_CACHE_DIRECTORY": str(work / "train-cache")}  # cold cache: a full training, not a cache hit
    started = time.perf_counter()
    subprocess.run(
        [str(RASA), "train", "--fixed-model-name", "bench", "--out", str(out), "--quiet"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=True, timeout=3600,
    )
    return time.perf_counter() - started
