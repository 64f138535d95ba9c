"""Response bodies of the queue API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class AvailabilityOut(BaseModel):
    """Whether a human can be promised now, and how long a newcomer would wait."""

    model_config = ConfigDict(from_attributes=True)

    queue: str
    open: bool
    staffed: bool
    online_agents: int
    waiting: int
    estimated_wait_seconds: int | None
    next_open_at: datetime | None
