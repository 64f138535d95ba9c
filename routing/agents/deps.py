"""FastAPI dependency: the agent behind the request, signed in by a bearer token (API clients) or by the console's
session cookie (then every state-changing request must carry the session's X-CSRF-Token header)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response, status
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from routing.agents.models import Agent
from routing.agents.service import TOKEN_TTL, agent_for_token, csrf_matches
from routing.db import SessionDep

SESSION_COOKIE = "concierge_agent"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="agent token from POST /api/v1/agent/login")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False,
                       description="console session from POST /api/v1/agent/login with session=cookie")


def unauthorized() -> HTTPException:
    """The one 401 of the agent API."""
    return HTTPException(status.HTTP_401_UNAUTHORIZED, "Missing, invalid or expired agent token.",
                         headers={"WWW-Authenticate": "Bearer"})


def current_agent(request: Request, session: SessionDep,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                  cookie: Annotated[str | None, Depends(_cookie)]) -> Agent:
    """401 unless a valid bearer token or session cookie is sent; 403 when a cookie-authenticated request that
    changes state lacks the session's X-CSRF-Token. The token used is kept in `request.state.agent_token`."""
    token = credentials.credentials if credentials else cookie
    agent = agent_for_token(session, token) if token else None
    if agent is None or token is None:
        raise unauthorized()
    if credentials is None and request.method not in SAFE_METHODS \
            and not csrf_matches(token, request.headers.get(CSRF_HEADER)):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"Missing or wrong {CSRF_HEADER} header: send the csrf_token from login or /me.")
    request.state.agent_token = token
    request.state.agent_via_cookie = credentials is None
    return agent


AgentDep = Annotated[Agent, Depends(current_agent, scope="function")]


def set_session_cookie(response: Response, token: str, secure: bool) -> None:
    """The console's session cookie: HttpOnly, SameSite=Strict, Secure in production, whole site."""
    response.set_cookie(SESSION_COOKIE, token, max_age=int(TOKEN_TTL.total_seconds()), path="/", httponly=True,
                        samesite="strict", secure=secure)


def clear_session_cookie(response: Response, secure: bool) -> None:
    """Expire the console's session cookie (same attributes, so every browser drops it)."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=secure)


def lead_or_403(agent: AgentDep) -> Agent:
    """The signed-in lead or admin; 403 for an agent (team-wide figures and plans are not an agent's to see)."""
    if not agent.supervises:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only a lead or an admin may see this.")
    return agent


LeadDep = Annotated[Agent, Depends(lead_or_403, scope="function")]
