"""The routing service's errors and their HTTP answers, in one place.

Services raise these (or subclasses that name the thing: `EscalationNotFound`, `OrderConflict`, ...); the handlers
that `install` registers where the app is assembled turn them into 404, 409 and 422 answers. A 422 has FastAPI's
own validation shape (`detail: [{loc, msg, type}]`), so clients read every invalid field the same way.
"""

from __future__ import annotations

import json

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response


class NotFound(Exception):
    """The thing asked for does not exist, or is not the caller's to see (both answer 404: nothing leaks)."""

    detail = "Not found."

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.detail)
        self.detail = detail or self.detail


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


def install(app: FastAPI) -> None:
    """Register the handlers of these errors on `app`, and FastAPI's own 422 with ASCII-only JSON (its default
    answer could not encode the refused input when that input held a lone surrogate, and became a 500)."""

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Response:
        body = json.dumps({"detail": jsonable_encoder(exc.errors())}, ensure_ascii=True)
        return Response(body, status.HTTP_422_UNPROCESSABLE_CONTENT, media_type="application/json")

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status.HTTP_404_NOT_FOUND)

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status.HTTP_409_CONFLICT)

    @app.exception_handler(InvalidField)
    async def _invalid(_: Request, exc: InvalidField) -> JSONResponse:
        return JSONResponse(exc.body(), status.HTTP_422_UNPROCESSABLE_CONTENT)
