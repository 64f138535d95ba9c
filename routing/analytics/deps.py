"""Who may see which figures, in one place: the date window and the filters of an analytics request, checked and
scoped to the signed-in agent. Leads and admins see every figure; an agent's figures are always their own (the
agent filter is forced to their login, and asking for someone else's is a 403)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Query, status

from clock import utcnow
from routing.agents.deps import AgentDep
from routing.agents.service import get_by_login
from routing.analytics.service import DEFAULT_DAYS, Filters, day_range
from routing.db import SessionDep
from routing.errors import InvalidField
from routing.policy.deps import PolicyDep
from routing.policy.intents import KNOWN_INTENTS

MAX_DAYS = 366
NAME = r"^[a-z0-9_.@-]+$"


@dataclass(frozen=True)
class Window:
    """[start, end) of whole UTC days, both given days included."""

    since: date
    until: date

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return day_range(self.since, self.until)


def date_window(since: Annotated[date | None, Query(description="first day (UTC), default 27 days before")] = None,
                until: Annotated[date | None, Query(description="last day (UTC, included), default today")] = None
                ) -> Window:
    """The days asked for; 422 when since is after until or the range is longer than a year."""
    last = until or utcnow().date()
    first = since or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise InvalidField(("query", "since"), f"since ({first}) is after until ({last})")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidField(("query", "since"), f"at most {MAX_DAYS} days at once")
    return Window(first, last)


@dataclass(frozen=True)
class Scope:
    """The filters to apply, and whether they were narrowed to the viewer's own figures."""

    filters: Filters
    own: bool
    viewer: str


def scoped_filters(viewer: AgentDep, policy: PolicyDep, session: SessionDep,
                   tier: Annotated[str | None, Query(max_length=64, pattern=NAME)] = None,
                   queue: Annotated[str | None, Query(max_length=64, pattern=NAME)] = None,
                   agent: Annotated[str | None, Query(max_length=64, description="agent login")] = None,
                   intent: Annotated[str | None, Query(max_length=128, pattern=NAME)] = None) -> Scope:
    """Check each filter against the policy and the accounts (422 for an unknown one) and scope to the viewer: an
    agent's request is always filtered to their own login (403 when it names another agent)."""
    if tier is not None and tier not in {t.name for t in policy.tiers}:
        raise InvalidField(("query", "tier"), f"unknown tier {tier!r}")
    if queue is not None and policy.queue(queue) is None:
        raise InvalidField(("query", "queue"), f"unknown queue {queue!r}")
    if intent is not None and intent not in KNOWN_INTENTS:
        raise InvalidField(("query", "intent"), f"unknown intent {intent!r}")
    if not viewer.supervises:
        if agent is not None and agent != viewer.login:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "An agent sees only their own figures.")
        return Scope(Filters(tier, queue, viewer.login, intent), own=True, viewer=viewer.login)
    if agent is not None and get_by_login(session, agent) is None:
        raise InvalidField(("query", "agent"), f"unknown agent {agent!r}")
    return Scope(Filters(tier, queue, agent, intent), own=False, viewer=viewer.login)


WindowDep = Annotated[Window, Depends(date_window)]
ScopeDep = Annotated[Scope, Depends(scoped_filters, scope="function")]
