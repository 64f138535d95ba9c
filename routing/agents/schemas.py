"""Request and response bodies of the agent account API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class LoginIn(BaseModel):
    """Agent credentials."""

    login: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class AgentOut(BaseModel):
    """An agent as the agent sees themself."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    login: str
    name: str
    team: str | None
    status: str
    max_chats: int
    queues: list[str]


class LoginOut(BaseModel):
    """A bearer token (also accepted as `?token=` by the live stream) and who it belongs to."""

    token: str
    expires_in: int
    agent: AgentOut


class StatusIn(BaseModel):
    """Set my availability."""

    status: Literal["online", "away", "offline"]


class QueueCountsOut(BaseModel):
    """One of my queues with live counts."""

    name: str
    display_name: str
    open: bool
    waiting: int
    in_progress: int
    oldest_waiting_at: datetime | None
