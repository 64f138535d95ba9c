"""API shape of the staffing plan (GET /api/v1/capacity/plan), read by the console's dashboard."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PlanHourOut(BaseModel):
    weekday: int = Field(description="0 = Monday, in the queue's time zone")
    hour: int = Field(description="0-23, in the queue's time zone")
    forecast_per_hour: float = Field(description="live arrivals: the mean of that weekday and hour over the weeks")
    agents_needed: int = Field(description="agents to schedule (max_chats slots each, shrinkage included); "
                                           "0 while the queue is closed")
    agents_staffed: int = Field(description="agents who are members of the queue; 0 while it is closed")


class QueuePlanOut(BaseModel):
    queue: str
    target_level: float = Field(description="share to answer within target_seconds")
    target_seconds: int = Field(description="the tightest first-response SLA of the tiers routed to the queue")
    hours: list[PlanHourOut]


class CapacityPlanOut(BaseModel):
    weeks: int
    method: str = Field(description="how arrivals were forecast and agents counted")
    queues: list[QueuePlanOut]
