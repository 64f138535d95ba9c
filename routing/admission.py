"""Admission: at most `limit` requests inside the app at once, so that each one finds a database connection.

A request keeps its database connection from its first query until FastAPI has serialized the answer, and that
serialization waits for a free worker thread. Under load (200 conversations at once), requests holding connections
queued for threads while every thread waited for a connection: the pool timed out after 30 s and a sign-in failed.
Requests beyond the limit now wait here, holding nothing, and the pool (`Settings.db_pool_size` plus room for the
background workers) always has a connection for every admitted request. A request leaves when its answer starts:
its session is closed by then, and a live stream (Server-Sent Events) does not keep a place for its whole life.

Every admitted request must also find a worker thread. A sync endpoint's session commits only after FastAPI has
serialized the answer on a worker thread, so a request holding SQLite's write lock could wait for a thread while
all of AnyIO's 40 default threads ran other requests' writes waiting for that lock: a stall that only SQLite's
30-s busy timeout broke, with 503s (seen once in CI, 28 of 1,400 requests). The thread limiter of the serving
loop is raised to the admission limit plus `SPARE_THREADS` (for the requests and streams outside it).
"""

from __future__ import annotations

import asyncio

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SPARE_THREADS = 20


class Admission:
    """ASGI middleware admitting at most `limit` HTTP requests at once; the others wait their turn in order."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._places: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}  # one per event loop serving the app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        places = self._places.get(loop)
        if places is None:
            self._places = {loop: (places := asyncio.Semaphore(self.limit))}  # a new loop: the old one is gone
            threads = anyio.to_thread.current_default_thread_limiter()  # one per event loop, as the places
            threads.total_tokens = max(threads.total_tokens, self.limit + SPARE_THREADS)
        await places.acquire()
        inside = True

        def leave() -> None:
            nonlocal inside
            if inside:
                inside = False
                places.release()

        async def send_leaving(message: Message) -> None:
            if message["type"] == "http.response.start":
                leave()
            await send(message)

        try:
            await self.app(scope, receive, send_leaving)
        finally:
            leave()
