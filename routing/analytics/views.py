"""CSAT endpoint, called by the chat widget in the customer's browser (no service token: the rating key the widget
was given when the chat ended is what lets it rate, routing/analytics/csat.py); and the analytics API of the console's
dashboard (agent sign-in: console cookie or bearer token; who sees what is decided in routing/analytics/deps.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from sqlalchemy import func, select

from clock import utcnow
from routing.agents.deps import AgentDep, LeadDep
from routing.agents.models import Agent, AgentQueue
from routing.analytics import csat
from routing.analytics.deps import ScopeDep, WindowDep
from routing.analytics.kpis import KPIS
from routing.analytics.schemas import (
    CsatIn,
    CsatOut,
    DashboardOptionsOut,
    KpiOut,
    NamedOut,
    OperationsOut,
    QueueStaffingOut,
)
from routing.analytics.service import operations_figures
from routing.db import SessionDep
from routing.policy.deps import PolicyDep
from routing.policy.intents import KNOWN_INTENTS
from routing.queues.service import live_counts, online_capacity
from routing.state import SettingsDep

router = APIRouter(prefix="/api/v1", tags=["csat"])
dashboard_router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])


@router.post("/csat", response_model=CsatOut, status_code=status.HTTP_201_CREATED,
             responses={403: {"description": "no rating key, or not this conversation's"},
                        404: {"description": "the key's chat was not ended by a person in the last 24 hours"},
                        409: {"description": "the chat has a different rating already"}})
def rate_conversation(body: CsatIn, settings: SettingsDep, session: SessionDep) -> CsatOut:
    """Rate (1-5, optional comment up to 1,000 characters) the chat with a person that just ended, with the
    `rating_key` the widget was given then. The first rating stands; the same one sent again gets the same answer."""
    return CsatOut.model_validate(csat.rate(session, body, settings.csat_secret))


@dashboard_router.get("/operations", response_model=OperationsOut)
def operations(window: WindowDep, scope: ScopeDep, session: SessionDep,
               threshold: Annotated[int, Query(ge=1, le=3600, description="seconds of 'answered within T'")] = 20
               ) -> dict[str, Any]:
    """Every figure overall, per tier / queue / agent / intent and per day and tier, for the contacts that started
    in [since, until] (UTC days). An agent gets only their own figures (scope "own")."""
    figures = operations_figures(session, *window.bounds, scope.filters, threshold)
    return {**figures, "scope": "own" if scope.own else "all"}


@dashboard_router.get("/staffing", response_model=list[QueueStaffingOut])
def staffing(_lead: LeadDep, session: SessionDep, policy: PolicyDep) -> list[QueueStaffingOut]:
    """Each queue's current staffing (leads and admins): agents serving it, online now, waiting, in progress."""
    names = [q.name for q in policy.queues]
    members = dict(session.execute(select(AgentQueue.queue, func.count()).where(AgentQueue.queue.in_(names))
                                   .group_by(AgentQueue.queue)).tuples().all())
    counts, now = live_counts(session, names), utcnow()
    return [QueueStaffingOut(queue=q.name, display_name=q.display_name, open=q.business_hours.is_open(now),
                             agents=members.get(q.name, 0), online_agents=online_capacity(session, q.name)[0],
                             waiting=counts[q.name].waiting, in_progress=counts[q.name].in_progress)
            for q in policy.queues]


@dashboard_router.get("/options", response_model=DashboardOptionsOut)
def options(viewer: AgentDep, session: SessionDep, policy: PolicyDep) -> DashboardOptionsOut:
    """What the dashboard's filters offer to the viewer (an agent is offered only themself)."""
    agents = list(session.scalars(select(Agent).order_by(Agent.login))) if viewer.supervises else [viewer]
    return DashboardOptionsOut(
        role=viewer.role, login=viewer.login, today=utcnow().date(), tiers=[t.name for t in policy.tiers],
        queues=[NamedOut(name=q.name, display_name=q.display_name) for q in policy.queues],
        agents=[NamedOut(name=a.login, display_name=a.name) for a in agents], intents=sorted(KNOWN_INTENTS),
        kpis=[KpiOut(name=kpi.name, label=kpi.label, kind=kpi.kind) for kpi in KPIS])
