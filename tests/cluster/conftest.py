"""A whole cluster for the tests: 2 Rasa, 2 action-server and 2 routing replicas behind nginx, on PostgreSQL and
Redis, on private ports, databases and Redis keys (dropped afterwards)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from launcher.cluster import Cluster, ClusterSettings  # noqa: E402
from launcher.ports import free_base_port  # noqa: E402
from launcher.settings import StackSettings  # noqa: E402
from launcher.stack import ROUTING_BIN  # noqa: E402

PG_ADMIN = "host=127.0.0.1 user=postgres dbname=postgres"
SUFFIX = os.environ.get("CONCIERGE_TEST_DB_SUFFIX", "")
VIP_AGENTS = ("vera", "victor")  # both serve the vip desk (gold and platinum customers), 30 chats each
AGENT_PASSWORD = "cluster-test-password"


def _drop(*names: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _add_agent(cluster: ClusterSettings, login: str) -> None:
    subprocess.run([str(ROUTING_BIN / "python"), "-m", "routing.cli", "agents", "add", "--login", login,
                    "--name", login.capitalize(), "--queues", "vip", "--max-chats", "30", "--password-stdin"],
                   input=AGENT_PASSWORD.encode(), cwd=ROOT, env={**cluster.stack.child_env(), **cluster.shared_env()},
                   check=True, capture_output=True)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The running cluster (its children are not restarted when they die: the test kills some on purpose)."""
    model = ROOT / "models" / "concierge.tar.gz"
    if not model.exists():
        pytest.fail("no trained model: run scripts/train.sh (make test does it)")
    var_dir = tmp_path_factory.mktemp("cluster-var")
    base = free_base_port(20000, 21000, width=9)
    stack = replace(StackSettings().with_ports(base, var_dir).always_open(), demo_customers=200)
    settings = ClusterSettings.from_stack(
        stack, replicas=2, replica_offset=3,
        routing_db=f"concierge_test_cluster{SUFFIX}_{os.getpid()}",
        tracker_db=f"concierge_test_cluster_tracker{SUFFIX}_{os.getpid()}",
        redis_prefix=f"conciergetest{uuid.uuid4().hex[:8]}")
    _drop(settings.routing_db, settings.tracker_db)
    log_path = var_dir / "cluster.log"
    try:
        with open(log_path, "w") as log:
            running = Cluster(settings, log=log)
            try:
                running.start(timeout=300)
            except Exception:
                sys.stderr.write(log_path.read_text()[-6000:])
                raise
            try:
                for login in VIP_AGENTS:
                    _add_agent(settings, login)
                yield running
            finally:
                running.stop()
    finally:
        _drop(settings.routing_db, settings.tracker_db)
