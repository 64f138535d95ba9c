"""The routing service's one typed settings object, read from CONCIERGE_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-change-me"
MIN_SECRET_CHARS = 32  # HS256 wants a key of at least 256 bits
SECRETS = ("service_token", "identity_secret", "rasa_token")


class Settings(BaseSettings):
    """Configuration of the routing service; defaults suit the embedded (SQLite) mode."""

    model_config = SettingsConfigDict(env_prefix="CONCIERGE_", extra="ignore")

    # production unless said otherwise: a forgotten CONCIERGE_ENV must not open the development conveniences
    # (demo sign-in, demo agents, development secrets); `make run` and the test runners say "development"
    env: Literal["development", "production"] = "production"
    host: str = "127.0.0.1"
    routing_port: int = 8000
    database_url: str = f"sqlite:///{ROOT / 'var' / 'routing.db'}"
    policy_file: Path = ROOT / "routing" / "policy.yml"
    service_token: str = DEV_SECRET
    identity_secret: str = DEV_SECRET
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = DEV_SECRET
    rasa_public_url: str = ""  # Rasa's URL as the customer's browser sees it (defaults to rasa_url)
    identity_issuer: str = ""  # when set, the shop's tokens must carry this `iss`
    identity_audience: str = ""  # when set, the shop's tokens must carry this `aud`

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
