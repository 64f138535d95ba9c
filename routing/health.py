"""`GET /health`: is the service able to serve (no token: load balancers and the launcher ask it); with the service
token, also which policy file is in force, why a newer version was refused, and how the outbox is doing (file paths
and policy errors are for operators, not for whoever can reach the port)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from routing.auth import has_service_token
from routing.escalations import outbox
from routing.policy.deps import CurrentPolicyDep
from routing.state import EngineDep

log = logging.getLogger(__name__)
router = APIRouter(tags=["ops"])


class PolicyState(BaseModel):
    """The policy file: when its version in force was loaded, and why a newer version was refused (if it was)."""

    path: str
    loaded_at: datetime | None
    error: str | None


class OutboxState(BaseModel):
    """Outgoing calls (agent replies, ends of handoffs, queue webhooks) waiting to be delivered, and given up: a dead
    letter never reached its receiver; `python -m routing.cli escalations dead-letters` lists them, `requeue` sends
    them again."""

    pending: int
    dead: int


class Health(BaseModel):
    """ok: everything works; degraded: serving, but the policy file has an error (the last valid version applies);
    unavailable (503): the database cannot be reached. `policy` and `outbox` only for the service token."""

    status: Literal["ok", "degraded", "unavailable"]
    database: str
    policy: PolicyState | None = None
    outbox: OutboxState | None = None  # None while the database cannot be reached


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(response: Response, engine: EngineDep, current: CurrentPolicyDep,
           operator: bool = Depends(has_service_token)) -> Health:
    """Database reachability; for the service token, the state of the policy file and the outbox (pending and dead
    items)."""
    state = current.health()
    policy = PolicyState(path=state.path, loaded_at=state.loaded_at, error=state.error) if operator else None
    try:
        with engine.connect() as conn, Session(conn) as session:
            conn.execute(text("SELECT 1"))
            counts = outbox.counts(session)
    except SQLAlchemyError as exc:
        log.warning("health: the database cannot be reached: %s", exc.__class__.__name__)
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Health(status="unavailable", database="unreachable", policy=policy)
    return Health(status="degraded" if state.error else "ok", database="ok", policy=policy,
                  outbox=OutboxState(**counts) if operator else None)
