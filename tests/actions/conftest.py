"""Fixtures for the action tests: the REAL routing service (subprocess, SQLite demo shop) and tracker builders.

The service reads a copy of the routing policy whose queues are open around the clock, so that a test about a live
handoff holds at any hour; a test about opening hours sets the hours it means with `queue_hours` (the service
re-reads the policy file when it changes)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from helpers import IDENTITY_SECRET  # noqa: E402

from actions.config import get_settings  # noqa: E402
from launcher.ports import free_port  # noqa: E402
from launcher.settings import ALWAYS_OPEN, write_policy_copy  # noqa: E402

ROUTING_PYTHON = ROOT / ".venv" / "routing" / "bin" / "python"
SERVICE_TOKEN = "action-tests-service-token"
REQUIRED_PATHS = ("/api/v1/identity/verify", "/api/v1/identity/verify-order", "/api/v1/decisions")
POLICY = ROOT / "routing" / "policy.yml"


def _use_routing(url: str) -> None:
    """Point the actions at `url` (actions.config reads the environment once, so reset its cache)."""
    os.environ["CONCIERGE_ROUTING_URL"] = url
    os.environ["CONCIERGE_SERVICE_TOKEN"] = SERVICE_TOKEN
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def policy_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The routing service's policy: the project's, with every queue open around the clock."""
    return write_policy_copy(POLICY, tmp_path_factory.mktemp("policy") / "policy.yml", default=ALWAYS_OPEN)


@contextmanager
def queue_hours(policy_file: Path, **hours: dict[str, Any]) -> Iterator[None]:
    """Give queues other opening hours (queue name -> business_hours) for a block, then open them all again."""
    def write(changed: dict[str, dict[str, Any]]) -> None:
        before = policy_file.stat().st_mtime_ns
        write_policy_copy(POLICY, policy_file, hours=changed, default=ALWAYS_OPEN)
        if policy_file.stat().st_mtime_ns <= before:  # a coarse file clock: the service must still see a change
            os.utime(policy_file, ns=(before + 1_000_000, before + 1_000_000))

    write(hours)
    try:
        yield
    finally:
        write({})


@pytest.fixture(scope="session")
def routing_url(tmp_path_factory: pytest.TempPathFactory, policy_file: Path) -> Iterator[str]:
    """A real routing service with 300 demo customers on a free port; stopped afterwards."""
    if not ROUTING_PYTHON.exists():
        pytest.fail("the routing runtime is missing: run scripts/setup.sh")
    folder = tmp_path_factory.mktemp("routing")
    port = free_port()
    env = dict(
        os.environ,
        CONCIERGE_POLICY_FILE=str(policy_file),
        CONCIERGE_DATABASE_URL=f"sqlite:///{folder / 'r.db'}",
        CONCIERGE_ROUTING_PORT=str(port),
        CONCIERGE_SERVICE_TOKEN=SERVICE_TOKEN,
        CONCIERGE_IDENTITY_SECRET=IDENTITY_SECRET,
        CONCIERGE_ENV="development",
    )
    log = open(folder / "routing.log", "w")  # noqa: SIM115 - the service writes to it until the session ends
    subprocess.run([str(ROUTING_PYTHON), "-m", "routing.cli", "init", "--demo-customers", "300"],
                   cwd=ROOT, env=env, check=True, stdout=log, stderr=subprocess.STDOUT)
    proc = subprocess.Popen([str(ROUTING_PYTHON), "-m", "routing.cli", "serve"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"routing service did not start:\n{(folder / 'routing.log').read_text()[-3000:]}")
            time.sleep(0.3)
        paths = httpx.get(f"{url}/openapi.json", timeout=10).json().get("paths", {})
        missing = [p for p in REQUIRED_PATHS if p not in paths]
        if missing:
            pytest.fail(f"the routing service lacks {missing}")
        _use_routing(url)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


@pytest.fixture()
def api(routing_url: str) -> Iterator[httpx.Client]:
    """An authenticated client of the routing service, for arranging test data."""
    with httpx.Client(base_url=f"{routing_url}/api/v1", headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
                      timeout=10) as client:
        yield client


@pytest.fixture(autouse=True)
def kept_work_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own store of kept work (actions/kept_work.py), never the project's var/ folder."""
    path = tmp_path / "kept-work.db"
    monkeypatch.setenv("CONCIERGE_KEPT_WORK_DB", str(path))
    return path


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """domain.yml as a dict, the shape the Rasa server sends to the action server."""
    return yaml.safe_load((ROOT / "domain.yml").read_text())


@contextmanager
def routing_down(routing_url: str) -> Iterator[None]:
    """Point the actions at a port nobody listens on, then back at the real service."""
    _use_routing("http://127.0.0.1:9")
    try:
        yield
    finally:
        _use_routing(routing_url)


@pytest.fixture()
def unreachable_routing(routing_url: str) -> Iterator[None]:
    """The routing service is unreachable for the whole test."""
    with routing_down(routing_url):
        yield
