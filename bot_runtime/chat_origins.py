"""Which web pages may talk to Rasa from a browser: the shop's origins in CONCIERGE_CHAT_ORIGINS, nothing else.

Rasa ran with `--cors "*"`, and its socket.io server checked no origin at all, so any website could open the chat
socket or call Rasa's HTTP API from its visitors' browsers. Now both follow one setting: a comma-separated list of
exact origins (`https://shop.example.com,https://www.shop.example.com`). Rasa's own CORS (`--cors`) is set from it
here and the flag itself is refused, so that the two cannot disagree; the socket.io channel
(bot_runtime/socketio_channel.py) refuses any other origin before the socket opens. Outside development the
setting is required: without it no shop page could chat, and `*` is refused everywhere.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

from rasa.core import run as rasa_run
from sanic import Sanic
from sanic.request import Request
from sanic_cors.core import SANIC_CORS_EVALUATED

ORIGIN = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?")
_installed: list[bool] = []


def chat_origins(env: Mapping[str, str] | None = None) -> list[str]:
    """The origins of CONCIERGE_CHAT_ORIGINS; SystemExit with the reason when the setting is unusable."""
    values = os.environ if env is None else env
    origins = [item.strip().rstrip("/") for item in values.get("CONCIERGE_CHAT_ORIGINS", "").split(",")]
    origins = [origin for origin in origins if origin]
    bad = [origin for origin in origins if not ORIGIN.fullmatch(origin)]
    if bad:
        raise SystemExit(f"CONCIERGE_CHAT_ORIGINS: {', '.join(bad)} is not an origin such as https://shop.example.com"
                         " (scheme, host and port only; no wildcard, no path)")
    if not origins and values.get("CONCIERGE_ENV") != "development":
        raise SystemExit("set CONCIERGE_CHAT_ORIGINS to the origins of the shop pages that embed the chat widget")
    return origins


@runtime_checkable
class AnswersCors(Protocol):
    """An input channel whose server answers CORS under its own path (the socket.io channel)."""

    def cors_path(self) -> str: ...


def leave_cors_to_channels(app: Sanic, channels: Iterable[object]) -> None:
    """Mark requests under such channels' paths as answered, so that sanic-cors skips them (not twice the headers)."""
    paths = tuple(channel.cors_path() for channel in channels if isinstance(channel, AnswersCors))
    if not paths:
        return

    async def _mark(request: Request) -> None:
        if request.path.startswith(paths):
            setattr(request.ctx, SANIC_CORS_EVALUATED, "1")

    app.register_middleware(_mark, "request")


def install() -> None:
    """Give every app `rasa run` configures the CORS origins of CONCIERGE_CHAT_ORIGINS (idempotent)."""
    if _installed:
        return
    _installed.append(True)
    original: Callable[..., Sanic] = rasa_run.configure_app

    def configure_app(*args: Any, **kwargs: Any) -> Sanic:
        given = kwargs.get("cors", args[1] if len(args) > 1 else None)
        if given:
            raise SystemExit("leave out --cors: Rasa's CORS origins come from CONCIERGE_CHAT_ORIGINS")
        if len(args) > 1:
            args = (args[0], chat_origins(), *args[2:])
        else:
            kwargs["cors"] = chat_origins()
        app = original(*args, **kwargs)
        leave_cors_to_channels(app, kwargs.get("input_channels", args[0] if args else None) or [])
        return app

    rasa_run.configure_app = configure_app
