"""The real routing service (`python -m routing.cli serve`) as a child process of a test, on a free port."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from launcher.ports import free_port
from launcher.settings import ROOT

PYTHON = ROOT / ".venv" / "routing" / "bin" / "python"
SERVICE_TOKEN = "reliability-service-token"
BOT = {"Authorization": f"Bearer {SERVICE_TOKEN}"}


@dataclass
class RoutingService:
    """A running routing service: its URL, process and log file (stdout and stderr)."""

    url: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def service_env(database_url: str, policy_file: Path, port: int,
                rasa_url: str = "http://127.0.0.1:9") -> dict[str, str]:
    return {**os.environ, "CONCIERGE_ENV": "development", "CONCIERGE_DATABASE_URL": database_url,
            "CONCIERGE_POLICY_FILE": str(policy_file), "CONCIERGE_ROUTING_PORT": str(port),
            "CONCIERGE_SERVICE_TOKEN": SERVICE_TOKEN, "CONCIERGE_RASA_URL": rasa_url,
            "CONCIERGE_RASA_TOKEN": "reliability-rasa-token", "PYTHONUNBUFFERED": "1"}


def init_database(database_url: str, policy_file: Path, demo_customers: int = 50) -> None:
    """Migrate the database and load the demo shop (`routing.cli init`)."""
    subprocess.run([str(PYTHON), "-m", "routing.cli", "init", "--demo-customers", str(demo_customers)], cwd=ROOT,
                   env=service_env(database_url, policy_file, 0), check=True, capture_output=True)


def start_service(database_url: str, policy_file: Path, log_path: Path, port: int,
                  rasa_url: str = "http://127.0.0.1:9", factory: str | None = None,
                  env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`routing.cli serve`, or uvicorn serving another app `factory` ("module:function") on the same settings;
    `env` adds or changes settings."""
    argv = ["-m", "routing.cli", "serve"]
    if factory:
        argv = ["-m", "uvicorn", factory, "--factory", "--port", str(port), "--log-level", "warning"]
    with open(log_path, "ab") as log:
        return subprocess.Popen([str(PYTHON), *argv], cwd=ROOT,
                                env={**service_env(database_url, policy_file, port, rasa_url), **(env or {})},
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


@contextmanager
def routing_service(database_url: str, policy_file: Path, log_path: Path, rasa_url: str = "http://127.0.0.1:9",
                    factory: str | None = None, timeout: float = 60.0,
                    env: Mapping[str, str] | None = None) -> Iterator[RoutingService]:
    """Start the service, wait for its health check, and stop it (SIGTERM) afterwards."""
    port = free_port()
    proc = start_service(database_url, policy_file, log_path, port, rasa_url, factory, env)
    service = RoutingService(f"http://127.0.0.1:{port}", proc, log_path)
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert proc.poll() is None, f"the routing service exited with {proc.returncode}:\n{service.log()}"
            try:
                if httpx.get(f"{service.url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"the routing service is not healthy:\n{service.log()}"
            time.sleep(0.2)
        yield service
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

