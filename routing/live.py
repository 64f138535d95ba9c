"""Live updates for agent consoles (Server-Sent Events), published only when the transaction that caused them commits.

Service functions call `queue_event(session, ...)`; `bind(sessions, publisher)` publishes those events after the
session commits (and drops them on rollback). `Publisher` is the interface: `LocalHub` fans out in-process (the
embedded single-process mode); a PostgreSQL LISTEN/NOTIFY or Redis publisher can replace it for several replicas.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

_PENDING = "live_events"
HEARTBEAT = ": heartbeat\n\n"


@dataclass(frozen=True)
class LiveEvent:
    """One event for the consoles of agents serving any of `queues`."""

    type: str  # escalation.created | escalation.updated | message.created
    queues: frozenset[str]
    data: dict[str, Any] = field(default_factory=dict)

    def sse(self) -> str:
        """The event in Server-Sent Events wire format."""
        return f"event: {self.type}\ndata: {json.dumps(self.data, default=str)}\n\n"


class Publisher(Protocol):
    """Where committed live events go."""

    def publish(self, event: LiveEvent) -> None:
        """Deliver `event` to the subscribers of its queues (must be thread-safe and never block)."""


class Subscription:
    """An async stream of the events of some queues; `None` means the hub closed."""

    def __init__(self, queues: frozenset[str], loop: asyncio.AbstractEventLoop) -> None:
        self.queues = queues
        self.loop = loop
        self.inbox: asyncio.Queue[LiveEvent | None] = asyncio.Queue(maxsize=1000)

    def offer(self, item: LiveEvent | None) -> None:
        """Called on the subscriber's loop; drops the event when the consumer is hopelessly behind."""
        if self.inbox.full():
            return
        self.inbox.put_nowait(item)

    async def next(self, timeout: float) -> LiveEvent | None | bool:
        """The next event, None when the hub closed, or False after `timeout` seconds without one."""
        try:
            return await asyncio.wait_for(self.inbox.get(), timeout)
        except asyncio.TimeoutError:
            return False


class LocalHub:
    """In-process publisher: subscribers are asyncio queues; publish() may be called from any thread."""

    def __init__(self) -> None:
        self._subs: set[Subscription] = set()
        self._lock = threading.Lock()

    def subscribe(self, queues: frozenset[str]) -> Subscription:
        """Register a subscriber on the running event loop."""
        sub = Subscription(queues, asyncio.get_running_loop())
        with self._lock:
            self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Forget a subscriber."""
        with self._lock:
            self._subs.discard(sub)

    def publish(self, event: LiveEvent) -> None:
        """Hand `event` to every subscriber serving one of its queues."""
        with self._lock:
            targets = [s for s in self._subs if s.queues & event.queues]
        for sub in targets:
            try:
                sub.loop.call_soon_threadsafe(sub.offer, event)
            except RuntimeError:  # loop closed
                self.unsubscribe(sub)

    def close(self) -> None:
        """End every subscription (at shutdown, so streaming responses finish)."""
        with self._lock:
            subs, self._subs = list(self._subs), set()
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(sub.offer, None)
            except RuntimeError:
                pass

    async def stream(self, queues: frozenset[str], heartbeat: float) -> AsyncIterator[str]:
        """SSE text for `queues`: events as they commit, a comment line every `heartbeat` seconds."""
        sub = self.subscribe(queues)
        try:
            yield ": connected\n\n"
            while True:
                item = await sub.next(heartbeat)
                if item is None:
                    return
                yield item.sse() if isinstance(item, LiveEvent) else HEARTBEAT
        finally:
            self.unsubscribe(sub)


def queue_event(session: Session, type_: str, queues: set[str] | frozenset[str], data: dict[str, Any]) -> None:
    """Publish `data` to the consoles of `queues` once `session` commits."""
    session.info.setdefault(_PENDING, []).append(LiveEvent(type_, frozenset(queues), data))


def bind(sessions: sessionmaker[Session], publisher: Publisher) -> None:
    """Publish the events queued on sessions of `sessions` after each commit; drop them on rollback."""

    @event.listens_for(sessions, "after_commit")
    def _publish(session: Session) -> None:
        for item in session.info.pop(_PENDING, []):
            publisher.publish(item)

    @event.listens_for(sessions, "after_rollback")
    def _drop(session: Session) -> None:
        session.info.pop(_PENDING, None)
