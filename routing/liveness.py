"""`GET /health/live`: the liveness probe of the launcher (and of any orchestrator): 200 whenever the event loop runs.

`/health` says whether the service can serve (it asks the database, waits for an admission place and a worker
thread, and answers 503 while the database is down): a readiness check. Restarting the service cures none of
that, so the probe that gets a process killed must not wait for any of it. This middleware answers before the
admission, the database and the routes: a process that does not answer it within seconds is hung (stopped, or its
event loop blocked), and only then is a restart the cure.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

LIVE_PATH = "/health/live"
_BODY = b'{"status":"alive"}'


class Liveness:
    """ASGI middleware answering GET/HEAD `LIVE_PATH` itself (no token, no database, no thread)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != LIVE_PATH or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode()),
                                (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": _BODY if scope["method"] == "GET" else b""})
