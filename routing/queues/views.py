"""Queue API for the bot: availability before promising a human."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status

from routing.db import SessionDep
from routing.auth import require_service_token
from routing.policy.deps import get_policy
from routing.policy.schema import Policy
from routing.queues import service

router = APIRouter(prefix="/api/v1/queues", tags=["queues"], dependencies=[Depends(require_service_token)])


@router.get("/availability", response_model=service.Availability)
def tier_availability(tier: str, session: SessionDep,
                      policy: Annotated[Policy, Depends(get_policy)]) -> service.Availability:
    """Availability of the queue that serves `tier` (the bot states that team's hours to the customer)."""
    rules = policy.rules.get(tier)
    if rules is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No tier called {tier!r}.")
    return service.availability(session, policy.queue(rules.queue))


@router.get("/{name}/availability", response_model=service.Availability)
def availability(name: str, session: SessionDep,
                 policy: Annotated[Policy, Depends(get_policy)]) -> service.Availability:
    """Open? staffed? how many wait, and the estimated wait of a newcomer (from recent handling times)."""
    cfg = service.find_queue(policy, name)
    if cfg is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No queue called {name!r}.")
    return service.availability(session, cfg)
