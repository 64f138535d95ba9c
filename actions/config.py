"""Settings of the action server, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_ROUTING_URL = "http://127.0.0.1:8000"
DEFAULT_SHOP_URL = "https://shop.example.com"


@dataclass(frozen=True)
class ActionSettings:
    """Where the routing service is, how to authenticate to it, how long to wait for it (per call, and without
    calling it after a call timed out unanswered: actions/routing_breaker.py), and the shop's website (for links)."""

    routing_url: str
    service_token: str
    timeout_seconds: float = 3.0
    shop_url: str = DEFAULT_SHOP_URL
    breaker_seconds: float = 5.0


@lru_cache(maxsize=1)
def get_settings() -> ActionSettings:
    """The settings from CONCIERGE_ROUTING_URL, CONCIERGE_SERVICE_TOKEN, CONCIERGE_ROUTING_TIMEOUT,
    CONCIERGE_SHOP_URL and CONCIERGE_ROUTING_BREAKER_SECONDS."""
    return ActionSettings(
        routing_url=os.environ.get("CONCIERGE_ROUTING_URL", DEFAULT_ROUTING_URL).rstrip("/"),
        service_token=os.environ.get("CONCIERGE_SERVICE_TOKEN", ""),
        timeout_seconds=float(os.environ.get("CONCIERGE_ROUTING_TIMEOUT", "3")),
        shop_url=os.environ.get("CONCIERGE_SHOP_URL", DEFAULT_SHOP_URL).rstrip("/"),
        breaker_seconds=float(os.environ.get("CONCIERGE_ROUTING_BREAKER_SECONDS", "5")),
    )
