"""Stack-wide settings shared by the launcher and the end-to-end tests (read from the environment)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-change-me"
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_REQUEST_BYTES = 1_000_000  # far above any real chat message or tracker; a 10 MB body gets 413 at once
MODEL = ROOT / "models" / "concierge.tar.gz"
POLICY = ROOT / "routing" / "policy.yml"
ALWAYS_OPEN: Mapping[str, object] = {"timezone": "UTC", "days": list(WEEK), "open": "00:00", "close": "24:00"}


def write_policy_copy(source: Path, target: Path, hours: Mapping[str, Mapping[str, object]] | None = None,
                      default: Mapping[str, object] | None = None) -> Path:
    """Copy the policy file with changed opening hours: `hours` per queue name, `default` for the other queues
    (unchanged when None). Tests and benchmarks use it so that what they check does not depend on the hour."""
    policy = yaml.safe_load(source.read_text(encoding="utf-8"))
    for queue in policy["queues"]:
        chosen = (hours or {}).get(queue["name"], default)
        if chosen is not None:
            queue["business_hours"] = dict(chosen)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(policy, sort_keys=False), encoding="utf-8")
    return target


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class LivenessSettings:
    """When the launcher restarts a child that is running but no longer answers (stopped, or its event loop stuck).

    Every `interval` seconds the launcher asks each ready child's liveness URL; a probe with no HTTP answer within
    `timeout` seconds fails (any status is an answer: a 503 because the database is down is not cured by a restart).
    After `failures` failed probes in a row the child is killed with SIGKILL and restarted like a crashed one: with
    the defaults, 6 to 8 s after it stopped answering. A child that is still starting (its health URL has not
    answered 200 since its start) is left alone for `startup_grace` seconds (Rasa loads its model for up to a minute
    on a busy machine); after that, its health URL is its liveness probe (answered with a 503 because the database
    is down, it is left alone). `failures` 0 turns the liveness restarts off (to pause a child in a debugger).
    Rasa's probes wait longer (StackSettings.rasa_liveness).
    """

    interval: float = field(default_factory=lambda: float(_env("CONCIERGE_LIVENESS_INTERVAL", "2")))
    timeout: float = field(default_factory=lambda: float(_env("CONCIERGE_LIVENESS_TIMEOUT", "2")))
    failures: int = field(default_factory=lambda: int(_env("CONCIERGE_LIVENESS_FAILURES", "3")))
    startup_grace: float = field(default_factory=lambda: float(_env("CONCIERGE_STARTUP_GRACE", "300")))

    def __post_init__(self) -> None:
        for name in ("interval", "timeout", "startup_grace"):
            if not getattr(self, name) > 0:
                raise ValueError(f"liveness {name} must be a positive number of seconds, not {getattr(self, name)}")
        if self.failures < 0:
            raise ValueError(f"liveness failures must be 0 (off) or more, not {self.failures}")

    @property
    def enabled(self) -> bool:
        return self.failures > 0


@dataclass(frozen=True)
class StackSettings:
    """Ports, tokens and file locations of one running Concierge stack."""

    env: str = field(default_factory=lambda: _env("CONCIERGE_ENV", "development"))  # the launcher is for development
    host: str = field(default_factory=lambda: _env("CONCIERGE_HOST", "127.0.0.1"))
    rasa_port: int = field(default_factory=lambda: int(_env("CONCIERGE_RASA_PORT", "5005")))
    actions_port: int = field(default_factory=lambda: int(_env("CONCIERGE_ACTIONS_PORT", "5055")))
    routing_port: int = field(default_factory=lambda: int(_env("CONCIERGE_ROUTING_PORT", "8000")))
    rasa_token: str = field(default_factory=lambda: _env("CONCIERGE_RASA_TOKEN", DEV_SECRET))
    service_token: str = field(default_factory=lambda: _env("CONCIERGE_SERVICE_TOKEN", DEV_SECRET))
    actions_token: str = field(default_factory=lambda: _env("CONCIERGE_ACTIONS_TOKEN", DEV_SECRET))
    identity_secret: str = field(default_factory=lambda: _env("CONCIERGE_IDENTITY_SECRET", DEV_SECRET))
    csat_secret: str = field(default_factory=lambda: _env("CONCIERGE_CSAT_SECRET", DEV_SECRET))
    var_dir: Path = field(default_factory=lambda: Path(_env("CONCIERGE_VAR_DIR", str(ROOT / "var"))))
    model: Path = field(default_factory=lambda: Path(_env("CONCIERGE_MODEL", str(MODEL))))
    policy_file: Path = field(default_factory=lambda: Path(_env("CONCIERGE_POLICY_FILE", str(POLICY))))
    endpoints: Path = field(default_factory=lambda: Path(_env("CONCIERGE_ENDPOINTS", str(ROOT / "endpoints.yml"))))
    routing_database_url: str = field(default_factory=lambda: _env("CONCIERGE_DATABASE_URL", ""))
    seed_demo: bool = field(default_factory=lambda: _env("CONCIERGE_SEED_DEMO", "1") == "1")
    demo_customers: int = field(default_factory=lambda: int(_env("CONCIERGE_DEMO_CUSTOMERS", "10000")))
    shop_origins: str = field(default_factory=lambda: _env("CONCIERGE_CHAT_ORIGINS", ""))
    # the reverse proxies whose X-Forwarded-For the routing service believes (routing/proxies.py): none by default,
    # since nothing stands in front of the embedded stack; the cluster names its nginx (launcher/cluster.py)
    trusted_proxies: str = field(default_factory=lambda: _env("CONCIERGE_TRUSTED_PROXIES", ""))
    liveness: LivenessSettings = field(default_factory=LivenessSettings)
    # Rasa answers a probe in turn with the messages it is working on: under 200 conversations at once its `/` took
    # up to 10.6 s (the routing service's and action server's probes: 1.3 s at most), and at a load average of 12 on
    # 2 cores three probes of 10 s in a row went unanswered, so a Rasa is hung only after 3 x 30 s without an answer
    rasa_liveness_timeout: float = field(default_factory=lambda: float(_env("CONCIERGE_RASA_LIVENESS_TIMEOUT", "30")))

    def with_ports(self, base: int, var_dir: Path) -> StackSettings:
        """A copy on ports base, base+1, base+2 with its own data folder (for tests)."""
        return replace(self, rasa_port=base, actions_port=base + 1, routing_port=base + 2, var_dir=var_dir)

    def always_open(self) -> StackSettings:
        """A copy whose support queues are open around the clock (tests and benchmarks must not depend on the hour).

        Writes the changed copy of the policy file into this stack's data folder.
        """
        path = write_policy_copy(self.policy_file, self.var_dir / "policy-always-open.yml", default=ALWAYS_OPEN)
        return replace(self, policy_file=path)

    @property
    def rasa_liveness(self) -> LivenessSettings:
        return replace(self.liveness, timeout=self.rasa_liveness_timeout)

    @property
    def database_url(self) -> str:
        return self.routing_database_url or f"sqlite:///{self.var_dir / 'routing.db'}"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://{self.host}:{self.actions_port}"

    @property
    def routing_url(self) -> str:
        return f"http://{self.host}:{self.routing_port}"

    @property
    def chat_origins(self) -> str:
        """The pages that may chat with Rasa from a browser: CONCIERGE_CHAT_ORIGINS, else the demo shop's origin."""
        if self.shop_origins:
            return self.shop_origins
        origins = [self.routing_url]
        if self.host == "127.0.0.1":
            origins.append(f"http://localhost:{self.routing_port}")
        return ",".join(origins)

    def child_env(self) -> dict[str, str]:
        """Environment for every child process: one source of truth for URLs and secrets."""
        env = dict(os.environ)
        env.setdefault("PGGSSENCMODE", "disable")  # Rasa's PostgreSQL stores, as routing.db.make_engine does
        env.update(
            CONCIERGE_ENV=self.env,
            CONCIERGE_HOST=self.host,
            CONCIERGE_RASA_PORT=str(self.rasa_port),
            CONCIERGE_ACTIONS_PORT=str(self.actions_port),
            CONCIERGE_ROUTING_PORT=str(self.routing_port),
            CONCIERGE_RASA_URL=self.rasa_url,
            CONCIERGE_ACTIONS_URL=self.actions_url,
            CONCIERGE_ROUTING_URL=self.routing_url,
            CONCIERGE_CHAT_ORIGINS=self.chat_origins,
            CONCIERGE_TRUSTED_PROXIES=self.trusted_proxies,
            CONCIERGE_RASA_TOKEN=self.rasa_token,
            CONCIERGE_SERVICE_TOKEN=self.service_token,
            CONCIERGE_ACTIONS_TOKEN=self.actions_token,
            CONCIERGE_IDENTITY_SECRET=self.identity_secret,
            CONCIERGE_CSAT_SECRET=self.csat_secret,
            CONCIERGE_DATABASE_URL=self.database_url,
            CONCIERGE_POLICY_FILE=str(self.policy_file),
            CONCIERGE_TRACKER_DB=str(self.var_dir / "tracker.db"),
            CONCIERGE_VAR_DIR=str(self.var_dir),
            PYTHONUNBUFFERED="1",
            SANIC_REQUEST_MAX_SIZE=str(MAX_REQUEST_BYTES),  # Rasa's and the action server's HTTP bodies
            TF_CPP_MIN_LOG_LEVEL="2",
        )
        return env
