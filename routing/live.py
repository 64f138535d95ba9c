"""Live updates for agent consoles (Server-Sent Events), published only when the transaction that caused them commits.

Service functions call `queue_event(session, ...)`; `bind(sessions, publisher)` publishes those events after the
session commits (and drops them on rollback). `Publisher` is the interface: `LocalHub` fans out in-process (the
embedded single-process mode); `RedisHub` (CONCIERGE_LIVE_STREAM=redis) passes every event through a Redis pub/sub
channel, so that a console connected to any routing replica sees what every replica commits.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
_PENDING = "live_events"
HEARTBEAT = ": heartbeat\n\n"
# the last words to a subscriber that fell behind: its console reads everything again (the stream then ends)
RELOAD = 'event: reload\ndata: {"reason": "this console fell behind; read everything again"}\n\n'
DEFAULT_BUFFER = 1000


@dataclass(frozen=True)
class LiveEvent:
    """One event for the consoles of agents serving any of `queues`."""

    type: str  # escalation.created | escalation.updated | message.created
    queues: frozenset[str]
    data: dict[str, Any] = field(default_factory=dict)

    def sse(self) -> str:
        """The event in Server-Sent Events wire format."""
        return f"event: {self.type}\ndata: {json.dumps(self.data, default=str)}\n\n"

    def encode(self) -> str:
        """The event as one JSON text (for a pub/sub channel)."""
        return json.dumps({"type": self.type, "queues": sorted(self.queues), "data": self.data}, default=str)

    @classmethod
    def decode(cls, raw: str | bytes) -> LiveEvent:
        body = json.loads(raw)
        return cls(str(body["type"]), frozenset(body["queues"]), dict(body["data"]))


class Publisher(Protocol):
    """Where committed live events go."""

    def publish(self, event: LiveEvent) -> None:
        """Deliver `event` to the subscribers of its queues (must be thread-safe and never block)."""


class Subscription:
    """An async stream of the events of some queues; `None` means the end (the hub closed, or `overflowed`)."""

    def __init__(self, queues: frozenset[str], loop: asyncio.AbstractEventLoop, buffer: int = DEFAULT_BUFFER) -> None:
        self.queues = queues
        self.loop = loop
        self.inbox: asyncio.Queue[LiveEvent | None] = asyncio.Queue(maxsize=buffer)
        self.overflowed = False

    def offer(self, item: LiveEvent | None) -> None:
        """Called on the subscriber's loop. A consumer `buffer` events behind is ended rather than silently missing
        events: what waits is dropped (memory stays bounded), `overflowed` is set and the end is queued."""
        if self.overflowed:
            return
        if self.inbox.full():
            while not self.inbox.empty():
                self.inbox.get_nowait()
            self.overflowed, item = True, None
        self.inbox.put_nowait(item)

    async def next(self, timeout: float) -> LiveEvent | None | bool:
        """The next event, None when the hub closed, or False after `timeout` seconds without one."""
        try:
            return await asyncio.wait_for(self.inbox.get(), timeout)
        except asyncio.TimeoutError:
            return False


class LocalHub:
    """In-process publisher: subscribers are asyncio queues; publish() may be called from any thread."""

    def __init__(self, buffer: int = DEFAULT_BUFFER) -> None:
        self._subs: set[Subscription] = set()
        self._lock = threading.Lock()
        self.buffer = buffer  # events held for one subscriber before it counts as too slow

    def subscribe(self, queues: frozenset[str]) -> Subscription:
        """Register a subscriber on the running event loop."""
        sub = Subscription(queues, asyncio.get_running_loop(), self.buffer)
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
        """SSE text for `queues`: events as they commit, a comment line every `heartbeat` seconds; a `reload` event
        then the end when the reader fell `buffer` events behind."""
        sub = self.subscribe(queues)
        try:
            yield ": connected\n\n"
            while True:
                item = await sub.next(heartbeat)
                if item is None:
                    if sub.overflowed:
                        yield RELOAD
                    return
                yield item.sse() if isinstance(item, LiveEvent) else HEARTBEAT
        finally:
            self.unsubscribe(sub)


class RedisHub(LocalHub):
    """Fan-out across replicas through the Redis pub/sub `channel`.

    publish() only queues the event (it runs in the committing thread and must not block); one sender thread
    PUBLISHes the events in commit order. A listener thread hands every event of the channel, this replica's own
    included, to the local subscribers, so that every console sees one order per replica. While Redis is
    unreachable the events are logged and dropped (a console reloads its lists when its stream reconnects).
    """

    def __init__(self, client: redis.Redis, channel: str, buffer: int = DEFAULT_BUFFER) -> None:
        super().__init__(buffer)
        self._client = client
        self._channel = channel
        self._outgoing: queue.SimpleQueue[LiveEvent | None] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._subscribed = threading.Event()
        self._threads = [threading.Thread(target=self._send, name="live-send", daemon=True),
                         threading.Thread(target=self._listen, name="live-listen", daemon=True)]
        for thread in self._threads:
            thread.start()

    def wait_subscribed(self, timeout: float) -> bool:
        """True once the listener is subscribed (events published before that reach no one here)."""
        return self._subscribed.wait(timeout)

    def publish(self, event: LiveEvent) -> None:
        self._outgoing.put(event)

    def _send(self) -> None:
        while True:
            item = self._outgoing.get()
            if item is None:
                return
            try:
                self._client.publish(self._channel, item.encode())
            except redis.RedisError as exc:
                log.warning("live event %s not published (Redis: %s)", item.type, exc)

    def _listen(self) -> None:
        while not self._stopping.is_set():
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
            try:
                pubsub.subscribe(self._channel)
                self._subscribed.set()
                while not self._stopping.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "message":
                        super().publish(LiveEvent.decode(message["data"]))
            except redis.RedisError as exc:
                self._subscribed.clear()
                log.warning("live stream listener lost Redis (%s); subscribing again", exc)
                self._stopping.wait(1.0)
            finally:
                pubsub.close()

    def close(self) -> None:
        self._stopping.set()
        self._outgoing.put(None)
        for thread in self._threads:
            thread.join(timeout=3.0)
        super().close()


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
