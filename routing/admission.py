"""Admission: at most `limit` requests inside the app at once, so that each one finds a database connection.

A request keeps its database connection from its first query until FastAPI has serialized the answer, and that
serialization waits for a free worker thread. Under load (200 conversations at once), requests holding connections
queued for threads while every thread waited for a connection: the pool timed out after 30 s and a sign-in failed.
Requests beyond the limit now wait here, holding nothing, and the pool (`Settings.db_pool_size` plus room for the
background workers) always has a connection for every admitted request. A request leaves when its answer starts:
its session is closed by then, and a live stream (Server-Sent Events) does not keep a place for its whole life.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send


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
