"""What the routing service accepts from any client, in one place.

Every request body is an `InputModel`: its text is valid Unicode without NUL characters (PostgreSQL refuses NUL,
SQLite cannot store a lone surrogate), its integers fit the database's integer columns, and free-form JSON (`facts`)
stays small. Ids in paths are `PathId`, conversation ids (body or query) `ConversationId`, what the bot knows of
a conversation `Facts`. Bodies over
`MAX_BODY_BYTES` are refused before they are read whole (`BodyLimit`). Each refusal is a 4xx that names the field,
never a 500.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_INT = 2**31 - 1  # PostgreSQL's integer
MAX_JSON_CHARS = 16_000  # free-form JSON of one field (e.g. the facts of a handoff packet)
MAX_BODY_BYTES = 1_000_000

PathId = Annotated[int, Path(ge=1, le=MAX_INT)]
MAX_CONVERSATION_ID = 128
DOT_SEGMENTS = (".", "..")
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _not_a_dot_segment(value: str) -> str:
    # the service puts conversation ids into Rasa's URLs (/conversations/<id>/...), where "." or ".." would be
    # read as a step in the path, even percent-quoted (quote leaves dots as they are); Rasa's channel refuses them
    if value in DOT_SEGMENTS:
        raise ValueError("'.' and '..' are not conversation ids")
    return value


ConversationId = Annotated[str, Field(min_length=1, max_length=MAX_CONVERSATION_ID),
                           AfterValidator(_not_a_dot_segment)]
"""A conversation (Rasa sender) id: 1 to 128 characters, not "." or ".." (422)."""


def check_value(value: Any) -> None:
    """Raise ValueError for text the database cannot store or an integer it cannot hold (nested values too)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text may not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    elif isinstance(value, int) and not isinstance(value, bool):
        if not -MAX_INT - 1 <= value <= MAX_INT:
            raise ValueError(f"must be between {-MAX_INT - 1} and {MAX_INT}")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_value(key)
            check_value(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            check_value(item)


class InputModel(BaseModel):
    """Base of every request body (see the module doc)."""

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, BaseModel) or (isinstance(value, list) and any(isinstance(v, BaseModel) for v in value)):
            return value  # typed items (a transcript, order lines) are bounded by their own fields and validators
        check_value(value)
        if isinstance(value, (dict, list)) and len(json.dumps(value, default=str)) > MAX_JSON_CHARS:
            raise ValueError(f"at most {MAX_JSON_CHARS} characters of JSON")  # free-form JSON, e.g. facts
        return value


class Facts(InputModel):
    """What the bot's conversation established (its slots of the same names), kept with a routing decision and an
    escalation for the agent and the audit. Each is bounded like the thing it names; null is the same as absent.

    Only the bot sends facts, and it knows these keys: any other key is a mistake on its side, refused (422)
    rather than stored where nobody reads it. What is stored is what was sent (the JSON columns stay objects).
    """

    model_config = ConfigDict(extra="forbid")

    order_number: str | None = Field(default=None, max_length=32, pattern=r"^[A-Za-z0-9-]+$",
                                     description="as the customer typed it (C-100042, c100042) or as verified")
    order_query: str | None = Field(default=None, max_length=40, pattern=r"^[a-z_]+$",
                                    description="the order task asked about: order_status, cancel, return, ...")
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL_PATTERN,
                              description="the email the customer gave (not proof of who they are)")


class BodyLimit:
    """ASGI middleware: 413 for a request body over `limit` bytes (declared or streamed), before the app reads it."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._too_large(send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._too_large(send)

    async def _too_large(self, send: Send) -> None:
        body = json.dumps({"detail": f"The request body is over {self.limit} bytes."}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    """A streamed body went over the limit."""
