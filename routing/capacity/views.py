"""The staffing plan for the console's dashboard: GET /api/v1/capacity/plan (support leads and admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from clock import utcnow
from routing.agents.deps import LeadDep
from routing.capacity.schemas import CapacityPlanOut, PlanHourOut, QueuePlanOut
from routing.capacity.service import PlanOptions, make_plan
from routing.db import SessionDep
from routing.policy.deps import PolicyDep

router = APIRouter(prefix="/api/v1/capacity", tags=["capacity"])


@router.get("/plan", response_model=CapacityPlanOut)
def staffing_plan(_: LeadDep, session: SessionDep, policy: PolicyDep,
                  weeks: Annotated[int, Query(ge=1, le=26, description="weeks of history to average")] = 4
                  ) -> CapacityPlanOut:
    """Per queue and hour of the week (the queue's time zone): forecast arrivals, agents needed for the queue's
    target (80 % within its tightest tier SLA; Erlang A where customers abandon, else Erlang C; no shrinkage) and
    the agents on its roster."""
    plan = make_plan(session, policy, utcnow(), PlanOptions(weeks=weeks))
    return CapacityPlanOut(weeks=plan.weeks, method=plan.method, queues=[
        QueuePlanOut(queue=q.queue, target_level=q.target_level, target_seconds=q.target_seconds,
                     hours=[PlanHourOut(weekday=h.weekday, hour=h.hour, forecast_per_hour=h.forecast_per_hour,
                                        agents_needed=h.agents_needed, agents_staffed=h.agents_staffed)
                            for h in q.hours])
        for q in plan.queues])
