"""Agent account API: login, me, status, my queues with live counts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status
from sqlalchemy.orm import Session

from routing.agents import service
from routing.agents.deps import current_agent
from routing.agents.models import Agent
from routing.agents.schemas import AgentOut, LoginIn, LoginOut, QueueCountsOut, StatusIn
from routing.db import get_session
from routing.policy.deps import get_policy
from routing.policy.schema import Policy
from routing.queues import service as queues
from routing.sqltypes import utcnow

router = APIRouter(prefix="/api/v1/agent", tags=["agent"])


@router.post("/login", response_model=LoginOut)
def login(body: LoginIn, session: Session = Depends(get_session)) -> LoginOut:
    """Exchange login and password for a bearer token."""
    result = service.login(session, body.login, body.password)
    if result is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Wrong login or password.")
    agent, token = result
    session.commit()
    return LoginOut(token=token, expires_in=int(service.TOKEN_TTL.total_seconds()),
                    agent=AgentOut.model_validate(agent))


@router.get("/me", response_model=AgentOut)
def me(agent: Agent = Depends(current_agent)) -> Agent:
    """The signed-in agent."""
    return agent


@router.post("/status", response_model=AgentOut)
def set_status(body: StatusIn, agent: Agent = Depends(current_agent), session: Session = Depends(get_session)
               ) -> Agent:
    """Go online, away or offline (only online agents count as staffing a queue)."""
    service.set_status(session, agent, body.status)
    session.commit()
    return agent


@router.get("/queues", response_model=list[QueueCountsOut])
def my_queues(agent: Agent = Depends(current_agent), session: Session = Depends(get_session),
              policy: Policy = Depends(get_policy)) -> list[QueueCountsOut]:
    """The queues I serve, with waiting / in-progress counts and the oldest wait."""
    counts = queues.live_counts(session, agent.queues)
    now = utcnow()
    out = []
    for name in agent.queues:
        cfg = queues.find_queue(policy, name)
        out.append(QueueCountsOut(name=name, display_name=cfg.display_name if cfg else name,
                                  open=cfg.business_hours.is_open(now) if cfg else False,
                                  **counts[name]))  # type: ignore[arg-type]
    return out
