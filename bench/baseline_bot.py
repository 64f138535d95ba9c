"""The baseline: a bare `rasa init` bot, created and trained in a temporary folder and served over REST."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import IO

import httpx

from launcher.ports import free_port
from launcher.settings import ROOT

RASA = ROOT / ".venv" / "bot" / "bin" / "rasa"
# six turns of its own training examples (data/nlu.yml of `rasa init`): the sad path, a bot challenge, goodbye
DIALOGUE = ("hello there", "I am sad", "yes", "are you a bot?", "I am great", "bye")


def _env() -> dict[str, str]:
    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}


def create(init_dir: Path, log: IO[str]) -> float:
    """`rasa init --no-prompt` into `init_dir` (which also trains it); returns the wall seconds it took."""
    init_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    subprocess.run(
        [str(RASA), "init", "--no-prompt", "--init-dir", str(init_dir)],
        cwd=init_dir, env=_env(), stdout=log, stderr=subprocess.STDOUT, check=True,
    )
    return time.perf_counter() - started


class BaselineServer:
    """`rasa run --enable-api` of the bare bot on a free loopback port; a context manager."""

    def __init__(self, init_dir: Path, log: IO[str], timeout: float = 400.0) -> None:
        self.init_dir = init_dir
        self.log = log
        self.timeout = timeout
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> BaselineServer:
        self.proc = subprocess.Popen(
            [str(RASA), "run", "--enable-api", "--port", str(self.port), "--interface", "127.0.0.1"],
            cwd=self.init_dir, env=_env(), stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + self.timeout
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the bare rasa bot exited with code {self.proc.returncode}")
                try:
                    if client.get(f"{self.url}/status").status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    self.__exit__()
                    raise TimeoutError(f"the bare rasa bot was not ready after {self.timeout:.0f}s")
                time.sleep(0.5)

    def __exit__(self, *exc: object) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
