"""`python -m launcher --cluster` (`make run-cluster`): the production layout on this machine's loopback.

Several replicas of every process behind Debian's nginx, on the servers a shop already runs: PostgreSQL (the routing
database and Rasa's tracker store, each in its own database), Redis (Rasa's lock store, socket.io across Rasa
replicas, the agents' live stream across routing replicas, shared throttle counts). nginx answers on the ports
`make run` prints; replica i (from 1) of each listens 100·i above it: Rasa 5105 and 5205, action servers 5155 and
5255, routing service 8100 and 8200 (launcher/nginx.py says how requests are spread).
Each routing replica runs the background workers: outbox and expiry are safe with several (leases and compare-and-
set steps in the database); the queue updates run on one replica at a time (a PostgreSQL advisory lock).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import psycopg
from psycopg import sql

from launcher import nginx
from launcher.settings import ROOT, StackSettings
from launcher.stack import BOT_BIN, ROUTING_BIN, ROUTING_LIVE_PATH, ProcessSpec, Stack

REPLICA_OFFSET = 100  # replica i (from 1) of a front port p listens on p + 100 * i


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class ClusterSettings:
    """One cluster: the front door's ports (those of `stack`), replica counts, databases and Redis."""

    stack: StackSettings
    replicas: int = field(default_factory=lambda: int(_env("CONCIERGE_CLUSTER_REPLICAS", "2")))
    pg_host: str = field(default_factory=lambda: _env("CONCIERGE_CLUSTER_PG_HOST", "127.0.0.1"))
    pg_port: int = field(default_factory=lambda: int(_env("CONCIERGE_CLUSTER_PG_PORT", "5432")))
    pg_user: str = field(default_factory=lambda: _env("CONCIERGE_CLUSTER_PG_USER", "postgres"))
    pg_password: str = field(default_factory=lambda: _env("CONCIERGE_CLUSTER_PG_PASSWORD", ""))
    routing_db: str = field(default_factory=lambda: _env("CONCIERGE_CLUSTER_ROUTING_DB", "concierge_cluster"))
    tracker_db: str = field(default_factory=lambda: _env("CONCIERGE_CLUSTER_TRACKER_DB", "concierge_cluster_tracker"))
    redis_host: str = field(default_factory=lambda: _env("CONCIERGE_CLUSTER_REDIS_HOST", "127.0.0.1"))
    redis_port: int = field(default_factory=lambda: int(_env("CONCIERGE_CLUSTER_REDIS_PORT", "6379")))
    redis_db: int = field(default_factory=lambda: int(_env("CONCIERGE_CLUSTER_REDIS_DB", "0")))
    # keys and pub/sub channels start with it (letters and digits: Rasa's lock store takes no other prefix)
    redis_prefix: str = field(default_factory=lambda: _env("CONCIERGE_CLUSTER_REDIS_PREFIX", "concierge"))
    replica_offset: int = REPLICA_OFFSET

    @classmethod
    def from_stack(cls, stack: StackSettings, **changes: Any) -> ClusterSettings:
        """The cluster of `stack`'s ports (with `changes` to the fields), the routing database on PostgreSQL."""
        cluster = replace(cls(stack=stack), **changes)
        return replace(cluster, stack=replace(stack, routing_database_url=cluster.routing_database_url,
                                              endpoints=ROOT / "deploy" / "endpoints.cluster.yml"))

    @property
    def routing_database_url(self) -> str:
        auth = self.pg_user + (f":{self.pg_password}" if self.pg_password else "")
        return f"postgresql+psycopg://{auth}@{self.pg_host}:{self.pg_port}/{self.routing_db}"

    @property
    def admin_conninfo(self) -> str:
        """libpq connection string to the server's `postgres` database, where databases are created and dropped."""
        conninfo = f"host={self.pg_host} port={self.pg_port} user={self.pg_user} dbname=postgres"
        return conninfo + (f" password={self.pg_password}" if self.pg_password else "")

    @property
    def redis_url(self) -> str:
        return f"redis://{self.redis_host}:{self.redis_port}/{self.redis_db}"

    def ports(self, front: int) -> list[int]:
        """The ports of the replicas behind the front port `front`."""
        return [front + self.replica_offset * i for i in range(1, self.replicas + 1)]

    @property
    def fronts(self) -> dict[str, int]:
        s = self.stack
        return {"rasa": s.rasa_port, "actions": s.actions_port, "routing": s.routing_port}

    @property
    def nginx_dir(self) -> Path:
        return self.stack.var_dir / "nginx"

    def shared_env(self) -> dict[str, str]:
        """What every replica reads besides the stack's environment: the production stores."""
        return {
            "CONCIERGE_TRACKER_PG_HOST": self.pg_host,
            "CONCIERGE_TRACKER_PG_PORT": str(self.pg_port),
            "CONCIERGE_TRACKER_PG_USER": self.pg_user,
            "CONCIERGE_TRACKER_PG_PASSWORD": self.pg_password,
            "CONCIERGE_TRACKER_PG_DB": self.tracker_db,
            "CONCIERGE_TRACKER_PG_LOGIN_DB": "postgres",
            "CONCIERGE_REDIS_HOST": self.redis_host,
            "CONCIERGE_REDIS_PORT": str(self.redis_port),
            "CONCIERGE_REDIS_DB": str(self.redis_db),
            "CONCIERGE_REDIS_URL": self.redis_url,
            "CONCIERGE_REDIS_PREFIX": self.redis_prefix,
            "CONCIERGE_SOCKETIO_REDIS_URL": self.redis_url,  # bot_runtime/socketio_channel.py
            "CONCIERGE_LIVE_STREAM": "redis",  # routing/live.py
            "CONCIERGE_DB_POOL_SIZE": _env("CONCIERGE_DB_POOL_SIZE", "20"),  # PostgreSQL connections per replica
        }


def process_specs(c: ClusterSettings) -> list[ProcessSpec]:
    """Every replica, then nginx in front of them. Each replica is probed on its own port (a hung replica is killed
    and restarted while nginx sends its work to the others); nginx is ready when the front door reaches a routing
    replica, and live when it answers its own `nginx.LIVE_PATH` (hung replicas behind it are not its fault)."""
    s, host, shared = c.stack, c.stack.host, c.shared_env()
    specs: list[ProcessSpec] = []
    # the routing replicas believe X-Forwarded-For from nginx alone, which connects to them from `host`: the client
    # address the sign-in throttle counts is the one nginx saw (routing/proxies.py)
    for i, port in enumerate(c.ports(s.routing_port), start=1):
        specs.append(ProcessSpec(f"routing{i}", [str(ROUTING_BIN / "python"), "-m", "routing.cli", "serve"],
                                 f"http://{host}:{port}/health",
                                 env={**shared, "CONCIERGE_ROUTING_PORT": str(port),
                                      "CONCIERGE_TRUSTED_PROXIES": host},
                                 live_url=f"http://{host}:{port}{ROUTING_LIVE_PATH}"))
    for i, port in enumerate(c.ports(s.actions_port), start=1):
        specs.append(ProcessSpec(f"actions{i}", [str(BOT_BIN / "python"), "-m", "bot_runtime.action_server",
                                                 "--host", host, "--port", str(port)],
                                 f"http://{host}:{port}/health", env=shared))
    for i, port in enumerate(c.ports(s.rasa_port), start=1):
        specs.append(ProcessSpec(
            f"rasa{i}",
            [str(BOT_BIN / "python"), "-m", "bot_runtime", "run", "--enable-api", "--auth-token", s.rasa_token,
             "--port", str(port), "--interface", host, "--model", str(s.model), "--endpoints", str(s.endpoints),
             "--credentials", str(ROOT / "credentials.yml")],
            f"http://{host}:{port}/status?token={s.rasa_token}", env=shared, live_url=f"http://{host}:{port}/",
            liveness=s.rasa_liveness))
    conf = c.nginx_dir / "nginx.conf"
    specs.append(ProcessSpec("nginx", nginx.argv(c.nginx_dir, conf), f"{s.routing_url}/health",
                             live_url=f"{s.routing_url}{nginx.LIVE_PATH}"))
    return specs


def create_databases(c: ClusterSettings) -> None:
    """Create the routing and tracker databases when missing (the routing schema is migrated by `prepare`)."""
    with psycopg.connect(c.admin_conninfo, autocommit=True, connect_timeout=5) as conn:
        for name in (c.routing_db, c.tracker_db):
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


class Cluster(Stack):
    """The replicas and nginx of one cluster; `start` also creates the databases and writes nginx.conf."""

    def __init__(self, cluster: ClusterSettings, log: IO[str] | None = None) -> None:
        self.cluster = cluster
        super().__init__(cluster.stack, log=log, specs=process_specs(cluster))

    def start(self, timeout: float = 240.0) -> None:
        c = self.cluster
        create_databases(c)
        text = nginx.render(c.nginx_dir, c.stack.host, c.fronts,
                            {name: c.ports(port) for name, port in c.fronts.items()},
                            max_body_bytes=1_000_000)
        nginx.write_config(c.nginx_dir, text)
        super().start(timeout)

    def launch(self, timeout: float = 240.0) -> None:
        """The replicas first; nginx once they answer (no front door that sends to replicas still starting)."""
        front, replicas = self.specs[-1], self.specs[:-1]
        self.specs = replicas
        try:
            super().launch(timeout)
        finally:
            self.specs = [*replicas, front]
        self._spawn(front)
        self.wait_healthy(30.0)

    def replica(self, name: str) -> ProcessSpec:
        """The process spec named `name` (rasa1, routing2, ...)."""
        return next(spec for spec in self.specs if spec.name == name)
