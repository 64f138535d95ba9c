"""Rasa's socket.io channel (the chat widget's), with the checks the REST channel has (bot_runtime/channel_guard.py).

credentials.yml names `bot_runtime.socketio_channel.GuardedSocketIOInput` instead of `socketio`. It is Rasa's
SocketIOInput, and its messages still say they came from the "socketio" channel, with three changes:
- Only the shop's pages may open the socket: python-socketio's `cors_allowed_origins` is set to
  CONCIERGE_CHAT_ORIGINS (bot_runtime/chat_origins.py), so a page of any other origin gets 400 before the
  socket opens; Rasa had switched that check off. Socket.io answers CORS for its own path itself: Rasa's CORS
  layer (sanic-cors) is told to leave those answers alone, or browsers would see every header twice.
- A socket.io packet is at most `MAX_PACKET_BYTES` (python-engineio's `max_http_buffer_size`; Rasa left it at
  1 MB): a bigger one closes that one connection. Text over the message limit (bot_runtime/message_limit.py) but
  under this size is answered with the friendly "please send something shorter".
- `session_request` and `user_uttered` must follow the rules of bot_runtime/inbound.py (the REST channel's): a
  well-formed session id, a string message, metadata every store can keep. Anything else is answered with a
  `refused` event (`{"error": "<reason>"}`) on that socket, instead of an exception in Rasa's handler and silence;
  a message that fails inside Rasa is answered with `refused` too (that turn failed, nothing else did).
Several Rasa replicas (`make run-cluster`): with CONCIERGE_SOCKETIO_REDIS_URL set, python-socketio's
AsyncRedisManager is the client manager, so that what one replica emits to a conversation's room (an agent's reply
relayed by the routing service, the end of a handoff) reaches the socket another replica holds. The channel is
`<CONCIERGE_REDIS_PREFIX>-socketio`. The front door keeps each socket on one replica (launcher/nginx.py).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint
from socketio import AsyncRedisManager, AsyncServer

from bot_runtime.chat_origins import chat_origins
from bot_runtime.inbound import message_text_problem, metadata_problem, sender_problem

MAX_PACKET_BYTES = 64_000  # a 2,000-character message, a sign-in token and the metadata fit many times over
REFUSED_EVENT = "refused"
TURN_FAILED = "the message could not be handled; please send it again"
logger = logging.getLogger(__name__)
Handler = Callable[..., Awaitable[Any]]
REDIS_URL_VARIABLE = "CONCIERGE_SOCKETIO_REDIS_URL"


def share_through_redis(sio: AsyncServer) -> None:
    """Make `sio` emit through Redis when CONCIERGE_SOCKETIO_REDIS_URL is set (before any socket connects)."""
    url = os.environ.get(REDIS_URL_VARIABLE, "")
    if not url:
        return
    channel = f"{os.environ.get('CONCIERGE_REDIS_PREFIX', 'concierge')}-socketio"
    sio.manager = AsyncRedisManager(url, channel=channel)
    sio.manager.set_server(sio)


def session_request_problem(data: tuple[Any, ...]) -> str | None:
    """Why a `session_request` is refused (its arguments after the socket id), or None when it is well formed."""
    if len(data) > 1:
        return "send one object: {\"session_id\": ...}"
    body = data[0] if data else None
    if body is None:
        return None  # Rasa picks a new session id
    if not isinstance(body, dict):
        return "the session request must be an object with `session_id`"
    session_id = body.get("session_id")
    return None if session_id is None else sender_problem(session_id, "session_id")


def message_problem(data: tuple[Any, ...], needs_session: bool) -> str | None:
    """Why a `user_uttered` event is refused, or None when it is well formed."""
    if len(data) != 1 or not isinstance(data[0], dict):
        return "a message must be one object with `session_id`, `message` and `metadata`"
    body = data[0]
    session_problem = sender_problem(body.get("session_id"), "session_id") if needs_session else None
    return session_problem or message_text_problem(body.get("message")) or metadata_problem(body.get("metadata"))


class GuardedSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel, limited to the shop's origins and to well-formed events (see the module doc)."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint: Blueprint = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None  # set by SocketIOInput.blueprint
        # None: python-engineio's own same-origin rule; an empty list would switch the check off
        sio.eio.cors_allowed_origins = chat_origins() or None
        sio.eio.max_http_buffer_size = MAX_PACKET_BYTES
        share_through_redis(sio)
        handlers: dict[str, Handler] = sio.handlers[self.namespace or "/"]
        self._guard(sio, "session_request", handlers["session_request"], session_request_problem)
        needs_session = self.session_persistence
        self._guard(sio, self.user_message_evt, handlers[self.user_message_evt],
                    lambda data: message_problem(data, needs_session))
        return blueprint

    def _guard(self, sio: AsyncServer, event: str, rasa_handler: Handler,
               problem: Callable[[tuple[Any, ...]], str | None]) -> None:
        """Put a check in front of Rasa's handler of `event`."""

        async def checked(sid: str, *data: Any) -> None:
            reason = problem(data)
            if reason is not None:
                await sio.emit(REFUSED_EVENT, {"error": reason}, room=sid, namespace=self.namespace)
                return
            try:
                await rasa_handler(sid, *data)
            except Exception:  # one conversation's failed turn: logged, the customer told, the process goes on
                logger.exception("socket.io %s of %s failed", event, sid)
                await sio.emit(REFUSED_EVENT, {"error": TURN_FAILED}, room=sid, namespace=self.namespace)

        sio.on(event, checked, namespace=self.namespace)

    def cors_path(self) -> str:
        """The path under which python-socketio answers CORS itself (see chat_origins.install)."""
        return (self.socketio_path or "/socket.io").rstrip("/")

