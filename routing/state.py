"""Typed access to the shared infrastructure `create_app` (routing/app.py) puts on `app.state`: one FastAPI dependency
per object, so that no view reads `request.app.state` untyped (a concept's own objects have their dependency in its
folder: routing/policy/deps.py). The objects stay on app.state, where tests and workers find them too."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from routing.live import LocalHub
from routing.live_limits import StreamLimits
from routing.settings import Settings
from routing.throttle import SignInThrottle, Throttle


def app_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    return cast(Settings, request.app.state.settings)


def engine(request: Request) -> Engine:
    """The app's database engine."""
    return cast(Engine, request.app.state.engine)


def session_maker(request: Request) -> sessionmaker[Session]:
    """The app's sessionmaker, for work that outlives the request's own session (a live stream)."""
    return cast("sessionmaker[Session]", request.app.state.sessions)


def live_hub(request: Request) -> LocalHub:
    """Where the consoles' live events are published (this process, or Redis for every replica)."""
    return cast(LocalHub, request.app.state.live)


def stream_limits(request: Request) -> StreamLimits:
    """The live streams allowed per agent and per server."""
    return cast(StreamLimits, request.app.state.live_limits)


def sse_heartbeat(request: Request) -> float:
    """Seconds between a live stream's heartbeats (tests shorten it)."""
    return float(request.app.state.sse_heartbeat)


def sign_in_throttle(request: Request) -> SignInThrottle:
    """The agents' sign-in throttle."""
    return cast(SignInThrottle, request.app.state.sign_in_throttle)


def order_verification_throttle(request: Request) -> Throttle:
    """The throttle of guests' order-number + email checks."""
    return cast(Throttle, request.app.state.order_verification_throttle)


SettingsDep = Annotated[Settings, Depends(app_settings)]
EngineDep = Annotated[Engine, Depends(engine)]
SessionMakerDep = Annotated["sessionmaker[Session]", Depends(session_maker)]
LiveHubDep = Annotated[LocalHub, Depends(live_hub)]
StreamLimitsDep = Annotated[StreamLimits, Depends(stream_limits)]
HeartbeatDep = Annotated[float, Depends(sse_heartbeat)]
SignInThrottleDep = Annotated[SignInThrottle, Depends(sign_in_throttle)]
OrderThrottleDep = Annotated[Throttle, Depends(order_verification_throttle)]
