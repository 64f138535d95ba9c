"""The routing service's composition: settings, database, live hub, Rasa relay, routers, error handlers and
background workers are put together here and nowhere else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import sessionmaker

import clock
from routing import errors, health, live, workers
from routing.admission import Admission
from routing.agents.views import router as agents_router
from routing.analytics.views import dashboard_router
from routing.analytics.views import router as csat_router
from routing.capacity.views import router as capacity_router
from routing.customers.views import router as customers_router
from routing.db import make_engine
from routing.decisions.views import router as decisions_router
from routing.dev.views import router as dev_router
from routing.escalations.relay import RasaRelay
from routing.escalations.views import agent_router as agent_escalations_router
from routing.escalations.views import service_router as escalations_router
from routing.identity.views import router as identity_router
from routing.inputs import BodyLimit
from routing.live_limits import StreamLimits
from routing.liveness import Liveness
from routing.orders.views import router as orders_router
from routing.policy.current import CurrentPolicy
from routing.policy.views import router as policy_router
from routing.queues.views import router as queues_router
from routing.settings import Settings, get_settings
from routing.throttle import agent_sign_in_throttle, order_verification_throttle
from routing.web import views as web_views
from routing.web.headers import SecurityHeaders

SSE_HEARTBEAT_SECONDS = 15.0
ROUTERS = (health.router, identity_router, customers_router, orders_router, decisions_router, policy_router,
           queues_router, agents_router, escalations_router, agent_escalations_router, csat_router, capacity_router,
           dashboard_router,
           web_views.router)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the engine lives on app.state and is disposed on shutdown."""
    settings = settings or get_settings()
    clock.current()  # a malformed CONCIERGE_CLOCK_START, or one set in production, stops the service here
    development = settings.env == "development"

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        """The background workers run while the app serves; then the live streams end (so that the server can
        stop), and the relay, Redis and the engine are closed."""
        async with workers.running(app):
            yield
        hub.close()
        app.state.relay.http.close()
        if shared is not None:
            shared.close()
        engine.dispose()

    app = FastAPI(title="Concierge routing service", version="0.1.0", lifespan=lifespan,  # docs: development only
                  docs_url="/docs" if development else None, redoc_url="/redoc" if development else None,
                  openapi_url="/openapi.json" if development else None)
    app.state.policy = policy = CurrentPolicy(settings.policy_file)
    policy.get()  # PolicyError: a service that never had a valid policy refuses to start
    engine = make_engine(settings.database_url, settings.db_pool_size)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessionmaker(engine, expire_on_commit=False)
    shared = redis.Redis.from_url(settings.redis_url) if settings.redis_url else None  # shared by every replica
    # the agents' live stream, fed by commits (through Redis to the consoles of every replica when told)
    hub: live.LocalHub = live.LocalHub(settings.live_stream_buffer) if settings.live_stream == "local" \
        or shared is None else live.RedisHub(shared, f"{settings.redis_prefix}:live", settings.live_stream_buffer)
    app.state.live = hub
    live.bind(app.state.sessions, hub)
    app.state.relay = RasaRelay(settings.rasa_url, settings.rasa_token)
    app.state.sse_heartbeat = SSE_HEARTBEAT_SECONDS
    app.state.live_limits = StreamLimits(settings.live_streams_per_agent, settings.live_streams_total)
    app.state.sign_in_throttle = agent_sign_in_throttle(shared, settings.redis_prefix)
    app.state.order_verification_throttle = order_verification_throttle(shared, settings.redis_prefix)

    for router in ROUTERS:
        app.include_router(router)
    if development:
        app.include_router(dev_router)
    # the last added is the outermost: the security headers go on every answer, a 500 included
    app.add_middleware(BodyLimit)
    app.add_middleware(Admission, limit=settings.db_pool_size)  # every admitted request finds a connection
    app.add_middleware(Liveness)  # the launcher's probe waits for no admission place, database or thread
    app.add_middleware(errors.UnexpectedErrors)
    app.add_middleware(SecurityHeaders, rasa_url=settings.rasa_public_url or settings.rasa_url,
                       production=not development)
    errors.install(app)
    app.mount("/static", StaticFiles(directory=web_views.STATIC), name="static")

    return app
