"""Load never meets an exhausted connection pool: 200 concurrent signed-in conversations on the real service (SQLite,
the default pool size) get no error, and every customer is recognised as themselves.

Before routing/admission.py, requests holding connections queued for worker threads while every thread waited for a
connection: the pool timed out after 30 s (then a 500, and the bot served the customer as a guest)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from pathlib import Path

import httpx

from launcher.settings import ROOT
from tests.reliability.routing_service import BOT, init_database, routing_service

POLICY = ROOT / "routing" / "policy.yml"
CONVERSATIONS = 200


async def conversation(client: httpx.AsyncClient, n: int, latencies: list[float]) -> list[str]:
    """A signed-in customer's turns as the action server asks them: who am I (twice), a decision, my orders."""
    external_id = f"cust-{n:05d}"

    async def call(method: str, path: str, **kwargs: object) -> httpx.Response:
        started = time.monotonic()
        response = await client.request(method, path, **kwargs)  # type: ignore[arg-type]
        latencies.append(time.monotonic() - started)
        return response

    issued = await call("POST", "/api/v1/identity/demo-token", json={"external_id": external_id})
    assert issued.status_code == 200, (issued.status_code, issued.text)
    token = issued.json()["token"]
    outcomes = []
    for turn in range(2):
        verified = await call("POST", "/api/v1/identity/verify", json={"token": token})
        outcomes.append(str(verified.status_code))
        if verified.status_code != 200:
            continue
        customer = verified.json()["customer"]
        outcomes.append("recognised" if customer["external_id"] == external_id else "someone else")
        decision = await call("POST", "/api/v1/decisions", json={
            "conversation_id": f"load-{n}", "customer_id": customer["id"], "intent": "track_order",
            "human_requests": turn})
        orders = await call("GET", f"/api/v1/customers/{customer['id']}/orders")
        outcomes += [str(decision.status_code), str(orders.status_code)]
    return outcomes


def test_200_concurrent_signed_in_conversations_get_no_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'routing.db'}"
    init_database(url, POLICY, demo_customers=CONVERSATIONS)
    latencies: list[float] = []

    async def run(service_url: str) -> Counter[str]:
        # idle connections are dropped before the service's keep-alive timeout ends them, as the action server's
        # client does (otherwise a request sent as the server closes the connection gets a ReadError)
        limits = httpx.Limits(max_connections=CONVERSATIONS, max_keepalive_connections=CONVERSATIONS,
                              keepalive_expiry=2.0)
        async with httpx.AsyncClient(base_url=service_url, headers=BOT, timeout=120, limits=limits) as client:
            results = await asyncio.gather(*(conversation(client, n, latencies)
                                             for n in range(1, CONVERSATIONS + 1)))
        return Counter(outcome for outcomes in results for outcome in outcomes)

    with routing_service(url, POLICY, tmp_path / "service.log") as service:
        outcomes = asyncio.run(run(service.url))
        log = service.log()
    cuts = statistics.quantiles(latencies, n=100)
    print(f"\n{CONVERSATIONS} concurrent conversations, {len(latencies)} requests: {dict(outcomes)}; "
          f"p50 {cuts[49]:.2f}s, p95 {cuts[94]:.2f}s")
    assert outcomes == {"200": CONVERSATIONS * 2 * 3, "recognised": CONVERSATIONS * 2}
    assert "(answered 503)" not in log and "QueuePool limit" not in log
