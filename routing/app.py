"""FastAPI application factory of the routing service."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

import clock
from routing.customers.views import router as customers_router
from routing.db import make_engine
from routing.escalations.runtime import install as install_human_support
from routing.identity.views import router as identity_router
from routing.orders.views import router as orders_router
from routing.policy.views import router as policy_router
from routing.settings import Settings, get_settings
from routing.web import views as web_views


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the engine lives on app.state and is disposed on shutdown."""
    settings = settings or get_settings()
    clock.current()  # a malformed CONCIERGE_CLOCK_START, or one set in production, stops the service here
    app = FastAPI(title="Concierge routing service", version="0.1.0")
    engine = make_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessionmaker(engine, expire_on_commit=False)

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, str]:
        """Liveness and database reachability."""
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    for router in (identity_router, customers_router, orders_router, policy_router, web_views.router):
        app.include_router(router)
    install_human_support(app)  # queues, agents, escalations, live stream, relay, background tasks
    app.mount("/static", StaticFiles(directory=web_views.STATIC), name="static")

    @app.on_event("shutdown")
    def _dispose() -> None:
        engine.dispose()

    return app
