"""`python -m bot_runtime.action_server --host H --port P`: the Rasa SDK action server, bound to one interface and
answering only Rasa.

The action server trusts the tracker it is sent (the `verified` and `customer_id` slots decide whose orders an
action may read or change), so a caller must prove it is the Rasa server: every request but `/health` carries
`Authorization: Bearer <CONCIERGE_ACTIONS_TOKEN>` (endpoints.yml sends it), compared in constant time. The port must
stay private all the same. Outside development the token has no default.

It also runs the loop that retries work kept while the routing service was unreachable (actions/kept_work.py): from
start-up, every KEPT_WORK_ROUND_SECONDS, it asks Rasa (CONCIERGE_RASA_URL, CONCIERGE_RASA_TOKEN) to run the retry in
each conversation that is due.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import logging
import os
import sys

import httpx
from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions import kept_work
from bot_runtime import LISTEN_BACKLOG

logger = logging.getLogger(__name__)
DEV_SECRET = "dev-only-change-me"
KEPT_WORK_ROUND_SECONDS = 2.0
OPEN_PATHS = frozenset({"/health"})
ACTION_CALL_MAX_BYTES = 50_000_000  # Rasa sends the whole tracker; the token, not a size, keeps others out
# Sanic closes a connection whose request has not begun within KEEP_ALIVE_TIMEOUT (5 s by default), new connections
# included. Rasa opens a connection per action call, and under a burst its event loop can stall for longer between
# connecting and writing the call: the call met a closed socket ("Cannot write to closing transport") and the
# customer got an apology. A new connection waits for its request as long as a started request may take (Sanic's
# REQUEST_TIMEOUT). Rasa's own server already waits 120 s (its --keep-alive-timeout default).
REQUEST_WAIT_SECONDS = 60


MIN_TOKEN_CHARS = 32  # as the routing service's secrets


def actions_token(env: dict[str, str] | None = None) -> str:
    """CONCIERGE_ACTIONS_TOKEN; the development default only when CONCIERGE_ENV says development. Outside development
    the development value or a short token is refused too, as the routing service refuses its secrets."""
    values = os.environ if env is None else env
    token = values.get("CONCIERGE_ACTIONS_TOKEN", "")
    if values.get("CONCIERGE_ENV") == "development":
        return token or DEV_SECRET
    if not token or token == DEV_SECRET or len(token) < MIN_TOKEN_CHARS:
        raise SystemExit(f"action server: set CONCIERGE_ACTIONS_TOKEN outside development, to a secret of at least "
                         f"{MIN_TOKEN_CHARS} characters (not the development value)")
    return token


def require_token(app: Sanic, token: str) -> None:
    """Refuse (401) every request but the health check without `Authorization: Bearer <token>`."""
    expected = f"Bearer {token}".encode()

    async def _check(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        given = request.headers.get("Authorization", "").encode()
        if hmac.compare_digest(given, expected):
            return None
        return response.json({"error": "Missing or wrong action server token."}, status=401)

    app.register_middleware(_check, "request")


def retry_kept_work(app: Sanic, env: dict[str, str] | None = None) -> None:
    """Run the kept-work loop while the server runs (not when Rasa's address is unknown: nothing could be retried)."""
    values = os.environ if env is None else env
    rasa_url, rasa_token = values.get("CONCIERGE_RASA_URL", ""), values.get("CONCIERGE_RASA_TOKEN", "")
    if not rasa_url or not rasa_token:
        logger.warning("CONCIERGE_RASA_URL or CONCIERGE_RASA_TOKEN unset: work kept during routing outages will "
                       "not be retried")
        return

    async def loop() -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=3.0)) as http:
            while True:
                try:
                    await kept_work.deliver_due(http, rasa_url.rstrip("/"), rasa_token)
                except Exception:  # one bad round must not end the loop
                    logger.exception("kept work round failed")
                await asyncio.sleep(KEPT_WORK_ROUND_SECONDS)

    running: list[asyncio.Task[None]] = []

    async def start(_app: Sanic, event_loop: asyncio.AbstractEventLoop) -> None:
        running.append(event_loop.create_task(loop()))

    async def stop(_app: Sanic, _loop: asyncio.AbstractEventLoop) -> None:
        # ended while the loop still runs: left pending, the task was destroyed with the loop and logged a traceback
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    app.register_listener(start, "after_server_start")
    app.register_listener(stop, "before_server_stop")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot_runtime.action_server", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("CONCIERGE_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("CONCIERGE_ACTIONS_PORT", "5055")))
    parser.add_argument("--actions", default="actions", help="the package of the actions")
    args = parser.parse_args(argv)
    app = create_app(args.actions, cors_origins=[])
    app.config.REQUEST_MAX_SIZE = ACTION_CALL_MAX_BYTES  # not the chat channels' SANIC_REQUEST_MAX_SIZE
    app.config.KEEP_ALIVE_TIMEOUT = app.config.REQUEST_TIMEOUT = REQUEST_WAIT_SECONDS
    require_token(app, actions_token())
    retry_kept_work(app)
    # Rasa opens a new connection for every action call: with Sanic's default backlog of 100, a burst of more calls
    # than that got connections reset ("Cannot write to closing transport") and the customer an apology
    app.run(args.host, args.port, workers=1, access_log=False, backlog=LISTEN_BACKLOG)
    return 0


if __name__ == "__main__":
    sys.exit(main())
