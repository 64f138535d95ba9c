"""The REST channel refuses malformed requests with a 400 instead of failing inside Rasa with a 500.

Rasa's REST channel reads `sender`, `message` and `metadata` from the JSON body without checking it: a body of
`null` or `[1, 2]` became a 500, and any sender id was accepted. The sender id names the conversation in the
tracker store and, through the routing service, in URL paths and idempotency keys, so it is limited to
`SENDER_PATTERN`. Installed on the app that `rasa run` builds (`rasa.core.run.configure_app`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from rasa.core import run as rasa_run
from sanic import Sanic, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse

REST_WEBHOOK = "/webhooks/rest/webhook"
SENDER_PATTERN = re.compile(r"[A-Za-z0-9_.:@-]{1,64}")
UNUSABLE_TEXT = re.compile(r"[\x00\ud800-\udfff]")  # lone surrogates are not Unicode text; PostgreSQL keeps no NUL
_installed: list[bool] = []


def message_text_problem(message: Any) -> str | None:
    """Why a customer's message is refused (not a string, or text no store can keep), or None."""
    if not isinstance(message, str):
        return "`message` must be a string"
    if UNUSABLE_TEXT.search(message):
        return "`message` must be text without NUL characters or lone surrogates"
    return None


def problem(body: Any) -> str | None:
    """Why a REST webhook body is refused, or None when it is well formed."""
    if not isinstance(body, dict):
        return "the body must be a JSON object with `sender` and `message`"
    sender, message, metadata = body.get("sender"), body.get("message"), body.get("metadata")
    if not isinstance(sender, str) or not SENDER_PATTERN.fullmatch(sender):
        return "`sender` must be 1 to 64 letters, digits or . _ : @ -"
    text_problem = message_text_problem(message)
    if text_problem:
        return text_problem
    if metadata is not None and not isinstance(metadata, dict):
        return "`metadata` must be a JSON object"
    return None


async def _check_rest_body(request: Request) -> HTTPResponse | None:
    if request.path != REST_WEBHOOK or request.method != "POST":
        return None
    limit = int(request.app.config.REQUEST_MAX_SIZE)
    declared = request.headers.get("content-length", "")
    if (declared.isdigit() and int(declared) > limit) or len(request.body or b"") > limit:
        return response.json({"error": f"the body is over {limit} bytes"}, status=413)
    try:
        body = request.json
    except InvalidUsage:  # not JSON at all (a body over the size limit still gets Sanic's 413)
        body = None
    reason = problem(body)
    return response.json({"error": reason}, status=400) if reason else None


def install() -> None:
    """Add the check to every app `rasa run` configures (idempotent)."""
    if _installed:
        return
    _installed.append(True)
    original: Callable[..., Sanic] = rasa_run.configure_app

    def configure_app(*args: Any, **kwargs: Any) -> Sanic:
        app = original(*args, **kwargs)
        app.register_middleware(_check_rest_body, "request")
        return app

    rasa_run.configure_app = configure_app
