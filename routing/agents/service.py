"""Agent accounts: creation, password login, opaque tokens, status."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from pwdlib import PasswordHash
from sqlalchemy import delete, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from clock import utcnow
from routing.agents.models import AGENT_ROLES, AGENT_STATUSES, Agent, AgentQueue, AgentToken

TOKEN_TTL = timedelta(hours=12)


@lru_cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_agent(session: Session, login: str, name: str, password: str, queues: list[str],
                 max_chats: int = 3, team: str | None = None, role: str = "agent") -> Agent:
    """Create an agent serving `queues` (password hashed with argon2), with a role of AGENT_ROLES."""
    if role not in AGENT_ROLES:
        raise ValueError(f"role must be one of {', '.join(AGENT_ROLES)}")
    agent = Agent(login=login, name=name, password_hash=_hasher().hash(password), max_chats=max_chats, team=team,
                  role=role, queue_links=[AgentQueue(queue=q) for q in dict.fromkeys(queues)])
    session.add(agent)
    session.flush()
    return agent


def set_role(session: Session, agent: Agent, role: str) -> Agent:
    """Make an account an agent, a lead or an admin (what the dashboard shows them follows from it)."""
    if role not in AGENT_ROLES:
        raise ValueError(f"role must be one of {', '.join(AGENT_ROLES)}")
    agent.role = role
    session.flush()
    return agent


def get_by_login(session: Session, login: str) -> Agent | None:
    """The agent with this login, if any."""
    return session.scalars(select(Agent).where(Agent.login == login)).one_or_none()


def login(session: Session, login_name: str, password: str) -> tuple[Agent, str] | None:
    """Check the password and issue a token; None when the login or password is wrong."""
    agent = get_by_login(session, login_name)
    if agent is None:
        _hasher().hash(password)  # same cost whether or not the login exists
        return None
    if not _hasher().verify(password, agent.password_hash):
        return None
    token = secrets.token_urlsafe(32)
    session.add(AgentToken(agent_id=agent.id, token_hash=_digest(token), expires_at=utcnow() + TOKEN_TTL))
    session.flush()
    return agent, token


def agent_for_token(session: Session, token: str, now: datetime | None = None) -> Agent | None:
    """The agent a (non-expired) token belongs to."""
    row = session.scalars(select(AgentToken).where(AgentToken.token_hash == _digest(token))).one_or_none()
    if row is None or row.expires_at <= (now or utcnow()):
        return None
    return session.get(Agent, row.agent_id)


def revoke(session: Session, token: str) -> bool:
    """Invalidate a login token (sign-out); False when it was unknown."""
    deleted = cast("CursorResult[Any]",
                   session.execute(delete(AgentToken).where(AgentToken.token_hash == _digest(token))))
    return bool(deleted.rowcount)


def purge_expired(session: Session, now: datetime | None = None) -> int:
    """Delete the sign-ins (console sessions, API tokens) that expired: they can never be used again, and the table
    would otherwise grow with every sign-in. Returns how many."""
    deleted = cast("CursorResult[Any]",
                   session.execute(delete(AgentToken).where(AgentToken.expires_at <= (now or utcnow()))))
    return int(deleted.rowcount or 0)


def csrf_token(token: str) -> str:
    """The CSRF token bound to a login token: HMAC-SHA256 keyed by the (secret) login token, so only someone who
    holds the session can compute it and it dies with the session."""
    return hmac.new(token.encode(), b"concierge-agent-csrf", hashlib.sha256).hexdigest()


def csrf_matches(token: str, candidate: str | None) -> bool:
    """Constant-time check of an X-CSRF-Token header against the session's CSRF token."""
    return candidate is not None and hmac.compare_digest(csrf_token(token).encode(), candidate.encode())


def set_status(session: Session, agent: Agent, status: str) -> Agent:
    """Set online/away/offline."""
    if status not in AGENT_STATUSES:
        raise ValueError(f"status must be one of {', '.join(AGENT_STATUSES)}")
    agent.status = status
    agent.status_changed_at = utcnow()
    session.flush()
    return agent
