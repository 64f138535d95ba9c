"""Every request the admission lets in can run at once: none waits for a worker thread that admitted requests hold.

Before the thread limiter was raised, 45 admitted sync requests that each waited for all the others (as writers
wait for SQLite's lock while its holder waits for a thread to serialize its answer) stalled: only 40 ran."""

from __future__ import annotations

import asyncio
import threading

import httpx
from fastapi import FastAPI

from routing.admission import Admission

ADMITTED = 45  # more than AnyIO's 40 default worker threads


def test_every_admitted_sync_request_gets_a_thread() -> None:
    all_inside = threading.Barrier(ADMITTED, timeout=10)
    app = FastAPI()

    @app.get("/wait")
    def wait() -> dict[str, int]:
        return {"arrived": all_inside.wait()}  # raises BrokenBarrierError (a 500) unless all run at once

    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=Admission(app, limit=ADMITTED), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answers = await asyncio.gather(*(client.get("/wait") for _ in range(ADMITTED)))
        return [answer.status_code for answer in answers]

    assert asyncio.run(run()) == [200] * ADMITTED
