"""The service's background workers, run on the app's event loop from startup to shutdown:
- outbox delivery (agent replies, ends of handoffs, webhooks): each round starts the due head of every idle lane on
  the delivery's bounded thread pool and returns at once; a commit that added items and every finished send wake
  the next round;
- expiry of escalations nobody picked up in time;
- queue updates for waiting customers (their place in line, the wait, their team closing), on one replica at a
  time (routing.leadership); outbox, expiry and sign-in removal are safe on every replica (leases and
  compare-and-set steps);
- removal of expired agent sign-ins (console sessions and API tokens).

A worker owns its transactions; a round that fails is logged and the next one runs as usual.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from clock import utcnow
from routing.agents.service import purge_expired
from routing.escalations import outbox, service
from routing.escalations.delivery import OutboxDelivery
from routing.leadership import QUEUE_UPDATES, Leadership
from routing.queues.watch import QueueWatcher, notify_changes

log = logging.getLogger(__name__)

OUTBOX_POLL_SECONDS = 2.0
EXPIRY_POLL_SECONDS = 15.0
QUEUE_WATCH_SECONDS = 1.0
SESSION_PURGE_SECONDS = 600.0


async def _every(seconds: float, wake: asyncio.Event, work: Callable[[], object], name: str,
                 stopping: asyncio.Event) -> None:
    """Run `work` in a thread every `seconds` or when `wake` is set, until `stopping` is set.

    The flag, not only cancellation, ends the loop: on Python 3.11, `wait_for` swallows a cancellation that arrives
    as its event is set (a sender's kick at shutdown), and the loop would go on for ever (cpython gh-86296)."""
    while not stopping.is_set():
        wake.clear()  # before the work: a kick that arrives while it runs starts the next round at once
        try:
            await asyncio.to_thread(work)
        except Exception:
            log.exception("%s failed; retrying", name)
        try:
            await asyncio.wait_for(wake.wait(), seconds)
        except asyncio.TimeoutError:
            pass


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[None]:
    """The workers, running for the app's life (its lifespan; uses app.state.sessions, .relay, .policy,
    .settings)."""
    sessions, settings = app.state.sessions, app.state.settings
    tasks: list[asyncio.Task[None]] = []
    watcher = QueueWatcher()
    leadership = Leadership(app.state.engine, QUEUE_UPDATES)
    deliveries: list[OutboxDelivery] = []

    def expire() -> None:
        with sessions.begin() as session:
            service.expire_due(session)

    def purge_sessions() -> None:
        with sessions.begin() as session:
            purged = purge_expired(session)
        if purged:
            log.info("removed %d expired agent sign-in(s)", purged)

    def watch_queues() -> None:
        nonlocal watcher
        if not leadership.held():
            watcher = QueueWatcher()  # when this replica takes over, it starts from what it sees then
            return
        with sessions() as session:
            changes = watcher.changes(session, app.state.policy.get(), utcnow())
        notify_changes(changes, app.state.relay.queue_update)

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    wake_outbox = asyncio.Event()

    def kick() -> None:
        if not loop.is_closed():
            loop.call_soon_threadsafe(wake_outbox.set)

    outbox.bind_kick(sessions, kick)
    delivery = OutboxDelivery(sessions, app.state.relay, settings.outbox_max_attempts, settings.outbox_parallel,
                              on_done=kick, csat_secret=settings.csat_secret)
    deliveries.append(delivery)
    tasks.append(asyncio.create_task(_every(OUTBOX_POLL_SECONDS, wake_outbox, delivery.start_due,
                                            "outbox delivery", stop)))
    tasks.append(asyncio.create_task(_every(EXPIRY_POLL_SECONDS, asyncio.Event(), expire, "escalation expiry",
                                            stop)))
    tasks.append(asyncio.create_task(_every(QUEUE_WATCH_SECONDS, asyncio.Event(), watch_queues, "queue updates",
                                            stop)))
    tasks.append(asyncio.create_task(_every(SESSION_PURGE_SECONDS, asyncio.Event(), purge_sessions,
                                            "expired sign-in removal", stop)))

    try:
        yield
    finally:
        stop.set()
        pending = set(tasks)
        while pending:  # cancelled again until done: a cancellation can be swallowed (see _every)
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=1.0)
        leadership.close()  # quick: closes one connection at most
        for delivery in deliveries:
            await asyncio.to_thread(delivery.close)  # the sends on the wire end (within one timeout) and are stored
