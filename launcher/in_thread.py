"""An ASGI app served by a real uvicorn server in a thread of this process, for tests and benchmarks that need real
HTTP (and the app's background workers) while they inspect the app's state directly."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

from launcher.ports import free_port


@contextmanager
def serve_in_thread(app: ASGIApp, log_level: str = "warning", start_timeout: float = 30.0,
                    limit_concurrency: int | None = None) -> Iterator[str]:
    """Serve `app` on a free loopback port; yields its base URL and stops the server (2 s grace) on exit."""
    port = free_port()
    # nothing stands in front of it: X-Forwarded-For is not believed (uvicorn would from any loopback client)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level,
                                           timeout_graceful_shutdown=2, limit_concurrency=limit_concurrency,
                                           proxy_headers=False))
    thread = threading.Thread(target=server.run, daemon=True, name=f"uvicorn-{port}")
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"uvicorn did not start on port {port} within {start_timeout:.0f} s")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
