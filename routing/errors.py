"""The routing service's errors and their HTTP answers, in one place.

Services raise these (or subclasses that name the thing: `EscalationNotFound`, `OrderConflict`, ...); the handlers
that `install` registers where the app is assembled turn them into 403, 404, 409 and 422 answers (a unique key taken
by a concurrent request is a 409 too). A 422 has FastAPI's own validation shape (`detail: [{loc, msg, type}]`), so
clients read every invalid field the same way. A database that cannot be reached (or stays locked past the busy
timeout) answers 503: the caller may retry; so does another server the answer needs, such as the throttle's Redis
(`Unavailable`). Anything else that escapes a view is a bug: `UnexpectedErrors` logs it and answers 500 without
closing the connection.
"""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)
INTERNAL_ERROR = json.dumps({"detail": "Internal Server Error"}).encode()
DATABASE_UNAVAILABLE = "The database is unavailable at the moment; try again shortly."
BUSY = "The service is busy; try again shortly."


class NotFound(Exception):
    """The thing asked for does not exist, or is not the caller's to see (both answer 404: nothing leaks)."""

    detail = "Not found."

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.detail)
        self.detail = detail or self.detail


class Forbidden(Exception):
    """The caller may not do this (403, with the reason): e.g. a rating without the conversation's rating key."""


class Conflict(Exception):
    """The request is valid but the current state does not allow it (409, with the reason)."""


class InvalidField(Exception):
    """One field has a value the rules do not allow (422). `where` is its location, e.g. ("body", "tier")."""

    def __init__(self, where: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message

    def body(self) -> dict[str, object]:
        """FastAPI's validation error shape."""
        return {"detail": [{"loc": list(self.where), "msg": self.message, "type": "value_error"}]}


class Unavailable(Exception):
    """Something the answer depends on (e.g. the throttle's Redis) is unreachable for now (503, with the reason)."""


def install(app: FastAPI) -> None:
    """Register the handlers of these errors on `app`, and FastAPI's own 422 with ASCII-only JSON (its default
    answer could not encode the refused input when that input held a lone surrogate, and became a 500)."""

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Response:
        body = json.dumps({"detail": jsonable_encoder(exc.errors())}, ensure_ascii=True)
        return Response(body, status.HTTP_422_UNPROCESSABLE_CONTENT, media_type="application/json")

    async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        busy = isinstance(exc, PoolTimeout)
        log.warning("%s %s: %s (answered 503): %s", request.method, request.url.path,
                    "no free database connection" if busy else "database unavailable",
                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return JSONResponse({"detail": BUSY if busy else DATABASE_UNAVAILABLE}, status.HTTP_503_SERVICE_UNAVAILABLE,
                            headers={"Retry-After": "1"})

    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(PoolTimeout, _database_unavailable)

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status.HTTP_404_NOT_FOUND)

    @app.exception_handler(Forbidden)
    async def _forbidden(_: Request, exc: Forbidden) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status.HTTP_403_FORBIDDEN)

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status.HTTP_409_CONFLICT)

    @app.exception_handler(Unavailable)
    async def _unavailable(_: Request, exc: Unavailable) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"})

    @app.exception_handler(IntegrityError)
    async def _created_meanwhile(_: Request, exc: IntegrityError) -> JSONResponse:
        # a unique key taken by a concurrent request between a service's check and its insert (two syncs of the
        # same order at once): the loser gets what it would have got a moment later. The database's own detail
        # names the key's value (personal data), so it is neither answered nor logged.
        return JSONResponse({"detail": "This conflicts with a record created meanwhile; reload and try again."},
                            status.HTTP_409_CONFLICT)

    @app.exception_handler(StaleDataError)
    async def _stale(_: Request, exc: StaleDataError) -> JSONResponse:  # a versioned row changed under a write
        return JSONResponse({"detail": "This changed meanwhile; reload it and try again."}, status.HTTP_409_CONFLICT)

    @app.exception_handler(InvalidField)
    async def _invalid(_: Request, exc: InvalidField) -> JSONResponse:
        return JSONResponse(exc.body(), status.HTTP_422_UNPROCESSABLE_CONTENT)


class UnexpectedErrors:
    """ASGI middleware: an unexpected exception is logged and answered with a 500 here, and goes no further.

    Starlette's own last-resort handler answers 500 too but re-raises to the server, and uvicorn then closes the
    keep-alive connection: a client reusing it for its next request (the action server's pooled client does) would
    get a reset, so one failed call would fail the next one as well. Only an answer already half sent still closes
    the connection, the one way to tell the client it is incomplete.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("%s %s failed with an unexpected error (answered 500)", scope["method"], scope["path"])
            if started:
                raise
            await send({"type": "http.response.start", "status": 500,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(INTERNAL_ERROR)).encode())]})
            await send({"type": "http.response.body", "body": INTERNAL_ERROR})
