"""Outgoing HTTP of the routing service: the optional per-queue webhook (policy file `queues.<name>.webhook_url`,
e.g. for a chat tool) and the one retrying JSON POST that the webhook and the Rasa relay share."""

from __future__ import annotations

import time
from typing import Any

import httpx


def post_json(url: str, body: Any, params: dict[str, str] | None = None, timeout: float = 5.0, attempts: int = 3,
              backoff: float = 0.3) -> None:
    """POST `body` as JSON with a timeout, retrying transport errors and error statuses `attempts` times in all;
    raises the last error (callers going through the outbox get retried later)."""
    error: Exception | None = None
    for attempt in range(attempts):
        try:
            with httpx.Client(timeout=timeout) as client:
                client.post(url, params=params, json=body).raise_for_status()
            return
        except httpx.HTTPError as exc:
            error = exc
            if attempt + 1 < attempts:
                time.sleep(backoff * (2**attempt))
    assert error is not None
    raise error


def notify_waiting(url: str, escalation: dict[str, Any]) -> None:
    """Tell a queue's webhook that an escalation is waiting."""
    post_json(url, {"event": "escalation.waiting", "escalation": escalation})
