"""Queue API for the bot: availability before promising a human."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from routing.auth import require_service_token
from routing.db import SessionDep
from routing.errors import NotFound
from routing.policy.deps import PolicyDep
from routing.queues import service

router = APIRouter(prefix="/api/v1/queues", tags=["queues"], dependencies=[Depends(require_service_token)])


@router.get("/availability", response_model=service.Availability)
def tier_availability(tier: str, session: SessionDep,
                      policy: PolicyDep) -> service.Availability:
    """Availability of the queue that serves `tier` (the bot states that team's hours to the customer)."""
    rules = policy.rules.get(tier)
    queue = policy.queue(rules.queue) if rules else None
    if queue is None:
        raise NotFound(f"No tier called {tier!r}.")
    return service.availability(session, queue)


@router.get("/{name}/availability", response_model=service.Availability)
def availability(name: str, session: SessionDep,
                 policy: PolicyDep) -> service.Availability:
    """Open? staffed? how many wait, and the estimated wait of a newcomer (from recent handling times)."""
    cfg = policy.queue(name)
    if cfg is None:
        raise NotFound(f"No queue called {name!r}.")
    return service.availability(session, cfg)
