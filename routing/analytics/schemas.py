"""Bodies of the CSAT endpoint and of the dashboard's analytics API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from routing.analytics.models import COMMENT_MAX
from routing.inputs import ConversationId, InputModel


class CsatIn(InputModel):
    """The customer's answer, sent by the chat widget after a person handed the chat back, with the rating key the
    widget was given then (a missing key is the endpoint's 403, not a 422: routing/analytics/csat.py)."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: ConversationId
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=COMMENT_MAX)
    rating_key: str | None = Field(default=None, max_length=128)


class CsatOut(BaseModel):
    """What was stored, for which escalation."""

    model_config = ConfigDict(from_attributes=True)

    escalation_id: int
    rating: int
    comment: str | None
    created_at: datetime


# one group's figures: counts, rates (0..1), seconds; None when there is nothing to count (docs/operations.md)
Figures = dict[str, float | int | None]


class OperationsOut(BaseModel):
    """The figures of the console's dashboard for a date range and filters (routing.analytics.service)."""

    since: datetime
    until: datetime  # exclusive: the day after the last day asked for
    filters: dict[str, str]
    scope: Literal["all", "own"]  # "own": an agent's request, narrowed to their own figures
    overall: Figures
    by_tier: dict[str, Figures]
    by_queue: dict[str, Figures]
    by_agent: dict[str, Figures]
    by_intent: dict[str, Figures]
    daily_by_tier: dict[str, dict[str, Figures]]


class QueueStaffingOut(BaseModel):
    """A queue's staffing now: who serves it, who is online, what waits."""

    queue: str
    display_name: str
    open: bool
    agents: int
    online_agents: int
    waiting: int
    in_progress: int


class NamedOut(BaseModel):
    name: str
    display_name: str


class KpiOut(BaseModel):
    """A figure's key, label and kind (routing/analytics/kpis.py KPIS): the dashboard's labels come from here."""

    name: str
    label: str
    kind: str


class DashboardOptionsOut(BaseModel):
    """What the dashboard's filters offer; `agents` is only the viewer for an agent. `role` is the viewer's."""

    role: str
    login: str
    today: date
    tiers: list[str]
    queues: list[NamedOut]
    agents: list[NamedOut]
    intents: list[str]
    kpis: list[KpiOut]
