"""The REST channel refuses malformed requests with a 400 instead of failing inside Rasa with a 500.

Rasa's REST channel reads `sender`, `message`, `metadata` and `input_channel` from the JSON body without checking
them: a body of `null` or `[1, 2]` became a 500, any sender id was accepted, and a lone surrogate in a metadata value
made Rasa exit. The body must follow the rules of bot_runtime/inbound.py, as the socket.io channel's events must.
Installed on the app that `rasa run` builds (`rasa.core.run.configure_app`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasa.core import run as rasa_run
from sanic import Sanic, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse

from bot_runtime.inbound import message_text_problem, metadata_problem, sender_problem

REST_WEBHOOK = "/webhooks/rest/webhook"
_installed: list[bool] = []


def problem(body: Any) -> str | None:
    """Why a REST webhook body is refused, or None when it is well formed."""
    if not isinstance(body, dict):
        return "the body must be a JSON object with `sender` and `message`"
    if body.get("input_channel", "rest") != "rest":  # Rasa would record any name as the conversation's channel
        return "`input_channel` must be absent"
    return sender_problem(body.get("sender")) or message_text_problem(body.get("message")) \
        or metadata_problem(body.get("metadata"))


async def _check_rest_body(request: Request) -> HTTPResponse | None:
    if request.path.rstrip("/") != REST_WEBHOOK or request.method != "POST":  # Sanic routes both
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
