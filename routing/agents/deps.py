"""FastAPI dependency: the agent behind the request's bearer token."""

from __future__ import annotations

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from routing.agents.models import Agent
from routing.agents.service import agent_for_token
from routing.db import get_session

_bearer = HTTPBearer(auto_error=False, description="agent token from POST /api/v1/agent/login")


def unauthorized() -> HTTPException:
    """The one 401 of the agent API."""
    return HTTPException(status.HTTP_401_UNAUTHORIZED, "Missing, invalid or expired agent token.",
                         headers={"WWW-Authenticate": "Bearer"})


def current_agent(credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
                  session: Session = Depends(get_session)) -> Agent:
    """401 unless a valid agent token is sent."""
    agent = agent_for_token(session, credentials.credentials) if credentials else None
    if agent is None:
        raise unauthorized()
    return agent
