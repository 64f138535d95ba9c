"""The routing service's one typed settings object, read from CONCIERGE_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from routing.proxies import parse_trusted_proxies

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-change-me"
MIN_SECRET_CHARS = 32  # HS256 wants a key of at least 256 bits
SECRETS = ("service_token", "identity_secret", "rasa_token", "csat_secret")


class Settings(BaseSettings):
    """Configuration of the routing service; defaults suit the embedded (SQLite) mode."""

    model_config = SettingsConfigDict(env_prefix="CONCIERGE_", extra="ignore")

    # production unless said otherwise: a forgotten CONCIERGE_ENV must not open the development conveniences
    # (demo sign-in, demo agents, development secrets); `make run` and the test runners say "development"
    env: Literal["development", "production"] = "production"
    host: str = "127.0.0.1"
    routing_port: int = 8000
    database_url: str = f"sqlite:///{ROOT / 'var' / 'routing.db'}"
    # requests served at once, and database connections per process (opened as needed, 10 more for the background
    # workers): further requests wait their turn without holding a connection (routing/admission.py), so load never
    # times out on the pool. On PostgreSQL, max_connections must cover pool size + 10 for every process.
    db_pool_size: int = Field(default=50, ge=1)
    policy_file: Path = ROOT / "routing" / "policy.yml"
    service_token: str = DEV_SECRET
    identity_secret: str = DEV_SECRET
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = DEV_SECRET
    rasa_public_url: str = ""  # Rasa's URL as the customer's browser sees it (defaults to rasa_url)
    identity_issuer: str = ""  # when set, the shop's tokens must carry this `iss`
    identity_audience: str = ""  # when set, the shop's tokens must carry this `aud`
    # signs the key with which only a conversation's own customer may rate a chat with a person (analytics/csat.py)
    csat_secret: str = DEV_SECRET
    # addresses (comma-separated) of the reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed; none
    # by default, so that a client cannot pick the address the sign-in throttle counts (routing/proxies.py)
    trusted_proxies: str = ""
    redis_url: str = ""  # when set (redis://host:6379/0), throttle counts live there, shared by every replica
    redis_prefix: str = "concierge"  # the start of every key and pub/sub channel the service uses in Redis
    # the agents' live stream: "local" fans out inside this process (one replica); "redis" through a pub/sub channel
    # of redis_url, so that a console on any replica sees the events every replica commits (routing/live.py)
    live_stream: Literal["local", "redis"] = "local"
    # the outbox (agent replies, ends of handoffs, queue webhooks): attempts before an item becomes a dead letter
    # (2 s back-off doubling up to 5 min: 10 attempts span about 14 minutes), and calls on the wire at once
    outbox_max_attempts: int = Field(default=10, ge=1, le=100)
    outbox_parallel: int = Field(default=8, ge=1, le=64)
    # the agents' live streams (Server-Sent Events) of one process: open at once per agent (a console per tab; 429
    # beyond) and in total (503 beyond), and events held for one slow reader before its stream ends (its console
    # then reads everything again)
    live_streams_per_agent: int = Field(default=5, ge=1, le=100)
    live_streams_total: int = Field(default=500, ge=1)
    live_stream_buffer: int = Field(default=1000, ge=10, le=100_000)

    @model_validator(mode="after")
    def _proxy_addresses(self) -> Settings:
        parse_trusted_proxies(self.trusted_proxies)
        return self

    @model_validator(mode="after")
    def _redis_for_live_stream(self) -> Settings:
        if self.live_stream == "redis" and not self.redis_url:
            raise ValueError("CONCIERGE_LIVE_STREAM=redis needs CONCIERGE_REDIS_URL")
        return self

    @model_validator(mode="after")
    def _real_secrets_in_production(self) -> Settings:
        if self.env == "production":
            weak = [n for n in SECRETS if getattr(self, n) == DEV_SECRET or len(getattr(self, n)) < MIN_SECRET_CHARS]
            if weak:
                names = ", ".join(f"CONCIERGE_{w.upper()}" for w in weak)
                raise ValueError(f"set {names} to secrets of at least {MIN_SECRET_CHARS} characters in production")
        return self


@lru_cache
def get_settings() -> Settings:
    """The settings, read once per process."""
    return Settings()
