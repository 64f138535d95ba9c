"""Request and response bodies of the agent account API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from routing.inputs import InputModel


class LoginIn(InputModel):
    """Agent credentials. `session`: "bearer" returns a token for API clients; "cookie" (the console) sets an
    HttpOnly session cookie instead and returns the CSRF token that its state-changing requests must send."""

    login: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    session: Literal["bearer", "cookie"] = "bearer"


class AgentOut(BaseModel):
    """An agent as the agent sees themself."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    login: str
    name: str
    team: str | None
    status: str
    role: str
    max_chats: int
    queues: list[str]


class MeOut(AgentOut):
    """The signed-in agent; `csrf_token` (cookie sessions only) goes into the X-CSRF-Token header."""

    csrf_token: str | None = None


class LoginOut(BaseModel):
    """A bearer token (session "bearer") or the CSRF token of the new cookie session, and who signed in."""

    token: str | None
    csrf_token: str | None
    expires_in: int
    agent: AgentOut


class StatusIn(InputModel):
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
