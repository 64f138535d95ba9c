"""`/health/live`, the launcher's liveness probe: answered while the database is down (when `/health` says 503, which
a restart would not cure) and while every admission place is taken (a busy service is not a hung one)."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from routing.admission import Admission
from routing.liveness import LIVE_PATH, Liveness
from routing.settings import Settings

UNREACHABLE_DATABASE = "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2"


def test_the_probe_answers_without_token_while_the_database_is_unreachable(settings: Settings) -> None:
    from routing.app import create_app

    app = create_app(settings.model_copy(update={"database_url": UNREACHABLE_DATABASE}))
    client = TestClient(app)  # no lifespan: the background workers would only log the same outage
    assert client.get("/health").status_code == 503
    live = client.get(LIVE_PATH)
    assert live.status_code == 200 and live.json() == {"status": "alive"}
    assert client.head(LIVE_PATH).status_code == 200
    assert client.post(LIVE_PATH).status_code in (404, 405), "only GET and HEAD are the probe"


def test_the_probe_answers_while_every_admission_place_is_taken() -> None:
    app = FastAPI()
    release = asyncio.Event()

    @app.get("/slow")
    async def slow() -> dict[str, bool]:
        await release.wait()
        return {"done": True}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    async def run() -> tuple[int, bool, int]:
        # the order of routing/app.py: the probe outside the admission
        served = Liveness(Admission(app, limit=1))
        transport = httpx.ASGITransport(app=served)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            holding = asyncio.create_task(client.get("/slow"))
            await asyncio.sleep(0.1)  # it holds the only place
            waiting = asyncio.create_task(client.get("/health"))
            live = await asyncio.wait_for(client.get(LIVE_PATH), timeout=2)
            await asyncio.sleep(0.1)
            health_waited = not waiting.done()
            release.set()
            await holding
            return live.status_code, health_waited, (await waiting).status_code

    live_status, health_waited, health_status = asyncio.run(run())
    assert live_status == 200
    assert health_waited and health_status == 200, "/health waited for the admission place, the probe did not"
