"""The routing app plus one route that fails with an unexpected error: what does a 500 do to the connection?"""

from __future__ import annotations

from fastapi import FastAPI

from routing.app import create_app

FAILING_PATH = "/drill/unexpected-error"


def create() -> FastAPI:
    """`uvicorn tests.reliability.failing_app:create --factory`."""
    app = create_app()

    @app.get(FAILING_PATH)
    def _fail() -> None:
        raise RuntimeError("drill: an unexpected error")

    return app
