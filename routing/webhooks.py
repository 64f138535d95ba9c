"""Outgoing HTTP of the routing service: one pooled client (`OutgoingHttp`) with explicit timeouts and retries,
shared by the Rasa relay and the optional per-queue webhook (policy file `queues.<name>.webhook_url`)."""

from __future__ import annotations

import time
from typing import Any

import httpx

KEEPALIVE_EXPIRY_SECONDS = 2.0


class OutgoingHttp:
    """POSTs JSON with a timeout, retrying transport errors and error statuses; connections are kept and reused.

    `transport` (e.g. `httpx.MockTransport`) replaces the network in tests. Safe to share between threads.
    """

    def __init__(self, timeout: float = 5.0, attempts: int = 3, backoff: float = 0.3,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.attempts = attempts
        self.backoff = backoff
        # idle connections are dropped before the receiver's keep-alive timeout (uvicorn and Sanic: 5 s) ends them:
        # a POST sent as the receiver closes its connection fails and its retry could deliver it twice
        self._client = httpx.Client(timeout=timeout, transport=transport,
                                    limits=httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS))

    def post_json(self, url: str, body: Any, params: dict[str, str] | None = None, attempts: int | None = None
                  ) -> None:
        """POST `body` as JSON, `attempts` times in all (default: the client's); raises the last error (callers
        going through the outbox get retried later)."""
        tries = attempts or self.attempts
        error: Exception | None = None
        for attempt in range(tries):
            try:
                self._client.post(url, params=params, json=body).raise_for_status()
                return
            except httpx.HTTPError as exc:
                error = exc
                if attempt + 1 < tries:
                    time.sleep(self.backoff * (2**attempt))
        assert error is not None
        raise error

    def close(self) -> None:
        """Close the kept connections."""
        self._client.close()


def notify_waiting(http: OutgoingHttp, url: str, escalation: dict[str, Any], attempts: int | None = None) -> None:
    """Tell a queue's webhook that an escalation is waiting (`attempts` times at most; the client's default)."""
    http.post_json(url, {"event": "escalation.waiting", "escalation": escalation}, attempts=attempts)
