"""Wires human support into the app: routers, error mapping, live hub, Rasa relay and the background tasks
(outbox delivery, expiry of escalations nobody picked up, queue updates for waiting customers)."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from routing import live
from routing.agents import views as agent_views
from routing.escalations import outbox, service
from routing.escalations import views as escalation_views
from routing.escalations.relay import RasaRelay
from routing.policy.loader import load_policy
from routing.queues import views as queue_views
from routing.queues.watch import QueueWatcher, notify_changes
from clock import utcnow

log = logging.getLogger(__name__)

OUTBOX_POLL_SECONDS = 2.0
EXPIRY_POLL_SECONDS = 15.0
QUEUE_WATCH_SECONDS = 1.0
SSE_HEARTBEAT_SECONDS = 15.0


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(service.NotFound)
    async def _not_found(_: Request, exc: service.NotFound) -> JSONResponse:
        return JSONResponse({"detail": "Escalation not found."}, status.HTTP_404_NOT_FOUND)

    @app.exception_handler(service.Invalid)
    async def _invalid(_: Request, exc: service.Invalid) -> JSONResponse:
        return JSONResponse({"detail": [{"loc": ["body", exc.field], "msg": exc.message, "type": "value_error"}]},
                            status.HTTP_422_UNPROCESSABLE_CONTENT)

    @app.exception_handler(service.InvalidTransition)
    async def _conflict(_: Request, exc: service.InvalidTransition) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status.HTTP_409_CONFLICT)

    @app.exception_handler(service.AtCapacity)
    async def _full(_: Request, exc: service.AtCapacity) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status.HTTP_409_CONFLICT)


async def _every(seconds: float, wake: asyncio.Event, work: object, name: str) -> None:
    while True:
        wake.clear()  # before the work: a kick that arrives while it runs starts the next round at once
        try:
            await asyncio.to_thread(work)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - a background loop must survive a bad round
            log.exception("%s failed; retrying", name)
        try:
            await asyncio.wait_for(wake.wait(), seconds)
        except asyncio.TimeoutError:
            pass


def install(app: FastAPI) -> None:
    """Add queues, agents and escalations to `app` (called by routing.app.create_app)."""
    settings = app.state.settings
    hub = live.LocalHub()
    app.state.live = hub
    app.state.relay = RasaRelay(settings.rasa_url, settings.rasa_token)
    app.state.sse_heartbeat = SSE_HEARTBEAT_SECONDS
    live.bind(app.state.sessions, hub)
    for router in (agent_views.router, queue_views.router, escalation_views.service_router,
                   escalation_views.agent_router):
        app.include_router(router)
    _error_handlers(app)
    tasks: list[asyncio.Task[None]] = []

    def deliver() -> None:
        with app.state.sessions() as session:
            while outbox.deliver_due(session, app.state.relay):
                pass

    def expire() -> None:
        with app.state.sessions() as session:
            service.expire_due(session)

    watcher = QueueWatcher()

    def watch_queues() -> None:
        with app.state.sessions() as session:
            changes = watcher.changes(session, load_policy(settings.policy_file), utcnow())
        notify_changes(changes, app.state.relay.queue_update)

    @app.on_event("startup")
    async def _start_background() -> None:
        loop = asyncio.get_running_loop()
        wake_outbox = asyncio.Event()

        def kick() -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(wake_outbox.set)

        outbox.bind_kick(app.state.sessions, kick)
        tasks.append(asyncio.create_task(_every(OUTBOX_POLL_SECONDS, wake_outbox, deliver, "outbox delivery")))
        tasks.append(asyncio.create_task(_every(EXPIRY_POLL_SECONDS, asyncio.Event(), expire, "escalation expiry")))
        tasks.append(asyncio.create_task(_every(QUEUE_WATCH_SECONDS, asyncio.Event(), watch_queues, "queue updates")))

    @app.on_event("shutdown")
    async def _stop_background() -> None:
        hub.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
