"""The service's background workers, run on the app's event loop from startup to shutdown:
- outbox delivery (agent replies, ends of handoffs, webhooks), woken at once by a commit that added items;
- expiry of escalations nobody picked up in time;
- queue updates for waiting customers (their place in line, the wait, their team closing).

A worker owns its transactions; a round that fails is logged and the next one runs as usual.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from fastapi import FastAPI

from clock import utcnow
from routing.escalations import outbox, service
from routing.policy.loader import load_policy
from routing.queues.watch import QueueWatcher, notify_changes

log = logging.getLogger(__name__)

OUTBOX_POLL_SECONDS = 2.0
EXPIRY_POLL_SECONDS = 15.0
QUEUE_WATCH_SECONDS = 1.0


async def _every(seconds: float, wake: asyncio.Event, work: Callable[[], object], name: str) -> None:
    while True:
        wake.clear()  # before the work: a kick that arrives while it runs starts the next round at once
        try:
            await asyncio.to_thread(work)
        except Exception:
            log.exception("%s failed; retrying", name)
        try:
            await asyncio.wait_for(wake.wait(), seconds)
        except asyncio.TimeoutError:
            pass


def install(app: FastAPI) -> None:
    """Start the workers with the app and stop them with it (uses app.state.sessions, .relay, .settings)."""
    sessions, settings = app.state.sessions, app.state.settings
    tasks: list[asyncio.Task[None]] = []
    watcher = QueueWatcher()

    def deliver() -> None:
        with sessions() as session:
            while outbox.deliver_due(session, app.state.relay):
                pass

    def expire() -> None:
        with sessions.begin() as session:
            service.expire_due(session)

    def watch_queues() -> None:
        with sessions() as session:
            changes = watcher.changes(session, load_policy(settings.policy_file), utcnow())
        notify_changes(changes, app.state.relay.queue_update)

    @app.on_event("startup")
    async def _start() -> None:
        loop = asyncio.get_running_loop()
        wake_outbox = asyncio.Event()

        def kick() -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(wake_outbox.set)

        outbox.bind_kick(sessions, kick)
        tasks.append(asyncio.create_task(_every(OUTBOX_POLL_SECONDS, wake_outbox, deliver, "outbox delivery")))
        tasks.append(asyncio.create_task(_every(EXPIRY_POLL_SECONDS, asyncio.Event(), expire, "escalation expiry")))
        tasks.append(asyncio.create_task(_every(QUEUE_WATCH_SECONDS, asyncio.Event(), watch_queues, "queue updates")))

    @app.on_event("shutdown")
    async def _stop() -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
