"""`python -m bot_runtime.action_server --host H --port P`: the Rasa SDK action server, bound to one interface and
answering only Rasa.

The action server trusts the tracker it is sent (the `verified` and `customer_id` slots decide whose orders an
action may read or change), so a caller must prove it is the Rasa server: every request but `/health` carries
`Authorization: Bearer <CONCIERGE_ACTIONS_TOKEN>` (endpoints.yml sends it), compared in constant time. The port must
stay private all the same. Outside development the token has no default.
"""

from __future__ import annotations

import argparse
import hmac
import os
import sys

from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

DEV_SECRET = "dev-only-change-me"
OPEN_PATHS = frozenset({"/health"})
ACTION_CALL_MAX_BYTES = 50_000_000  # Rasa sends the whole tracker; the token, not a size, keeps others out


def actions_token(env: dict[str, str] | None = None) -> str:
    """CONCIERGE_ACTIONS_TOKEN; the development default only when CONCIERGE_ENV says development."""
    values = os.environ if env is None else env
    token = values.get("CONCIERGE_ACTIONS_TOKEN", "")
    if not token:
        if values.get("CONCIERGE_ENV") != "development":
            raise SystemExit("action server: set CONCIERGE_ACTIONS_TOKEN outside development")
        token = DEV_SECRET
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot_runtime.action_server", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("CONCIERGE_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("CONCIERGE_ACTIONS_PORT", "5055")))
    parser.add_argument("--actions", default="actions", help="the package of the actions")
    args = parser.parse_args(argv)
    app = create_app(args.actions, cors_origins=[])
    app.config.REQUEST_MAX_SIZE = ACTION_CALL_MAX_BYTES  # not the chat channels' SANIC_REQUEST_MAX_SIZE
    require_token(app, actions_token())
    app.run(args.host, args.port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
