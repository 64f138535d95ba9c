"""Agent account API: login (bearer token or console cookie), logout, me, status, my queues with live counts."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status

from clock import utcnow
from routing.agents import service
from routing.agents.deps import AgentDep, clear_session_cookie, set_session_cookie
from routing.agents.models import Agent
from routing.agents.schemas import AgentOut, LoginIn, LoginOut, MeOut, QueueCountsOut, StatusIn
from routing.db import SessionDep
from routing.policy.deps import PolicyDep
from routing.queues import service as queues
from routing.settings import Settings
from routing.state import SettingsDep, SignInThrottleDep

router = APIRouter(prefix="/api/v1/agent", tags=["agent"])


def _secure_cookies(settings: Settings) -> bool:
    """Secure (HTTPS-only) cookies everywhere but on a developer's machine."""
    return settings.env != "development"


@router.post("/login", response_model=LoginOut)
def login(body: LoginIn, request: Request, response: Response, session: SessionDep, settings: SettingsDep,
          throttle: SignInThrottleDep) -> LoginOut:
    """Exchange login and password for a bearer token (`session: "bearer"`, API clients) or, for the console
    (`session: "cookie"`), an HttpOnly SameSite=Strict session cookie plus its CSRF token."""
    now = utcnow()
    address = request.client.host if request.client else "unknown"
    wait = throttle.retry_after(body.login, address, now)
    if wait:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            f"Too many failed sign-ins; try again in {wait} seconds.",
                            headers={"Retry-After": str(wait)})
    result = service.login(session, body.login, body.password)
    if result is None:
        throttle.failed(body.login, address, now)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Wrong login or password.")
    throttle.succeeded(body.login, address)
    agent, token = result
    out = LoginOut(token=token, csrf_token=None, expires_in=int(service.TOKEN_TTL.total_seconds()),
                   agent=AgentOut.model_validate(agent))
    if body.session == "cookie":
        set_session_cookie(response, token, secure=_secure_cookies(settings))
        out = out.model_copy(update={"token": None, "csrf_token": service.csrf_token(token)})
    return out


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def logout(request: Request, agent: AgentDep, session: SessionDep, settings: SettingsDep
           ) -> Response:
    """Sign out: revoke the token or session, go offline, and clear the session cookie."""
    service.revoke(session, request.state.agent_token)
    service.set_status(session, agent, "offline")
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookie(response, secure=_secure_cookies(settings))
    return response


@router.get("/me", response_model=MeOut)
def me(request: Request, agent: AgentDep) -> MeOut:
    """The signed-in agent, with the CSRF token when signed in by the session cookie."""
    csrf = service.csrf_token(request.state.agent_token) if request.state.agent_via_cookie else None
    return MeOut.model_validate(agent).model_copy(update={"csrf_token": csrf})


@router.post("/status", response_model=AgentOut)
def set_status(body: StatusIn, agent: AgentDep, session: SessionDep
               ) -> Agent:
    """Go online, away or offline (only online agents count as staffing a queue)."""
    service.set_status(session, agent, body.status)
    return agent


@router.get("/queues", response_model=list[QueueCountsOut])
def my_queues(agent: AgentDep, session: SessionDep,
              policy: PolicyDep) -> list[QueueCountsOut]:
    """The queues I serve, with waiting / in-progress counts and the oldest wait."""
    counts = queues.live_counts(session, agent.queues)
    now = utcnow()
    out = []
    for name in agent.queues:
        cfg = policy.queue(name)
        out.append(QueueCountsOut(name=name, display_name=cfg.display_name if cfg else name,
                                  open=cfg.business_hours.is_open(now) if cfg else False,
                                  waiting=counts[name].waiting, in_progress=counts[name].in_progress,
                                  oldest_waiting_at=counts[name].oldest_waiting_at))
    return out
