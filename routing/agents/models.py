"""Agent accounts, the queues each agent serves, and their login tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clock import utcnow
from routing.db import Base
from routing.sqltypes import UTCDateTime

AGENT_STATUSES = ("online", "away", "offline")
# agent: own figures only; lead and admin: every figure of the dashboard (routing/agents/deps.py, LeadView)
AGENT_ROLES = ("agent", "lead", "admin")
SUPERVISORS = frozenset({"lead", "admin"})


class Agent(Base):
    """A human support agent."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    team: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="offline")
    role: Mapped[str] = mapped_column(String(16), default="agent", server_default="agent")
    max_chats: Mapped[int] = mapped_column(Integer, default=3)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_claim_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    queue_links: Mapped[list[AgentQueue]] = relationship(
        back_populates="agent", cascade="all, delete-orphan", lazy="selectin", order_by="AgentQueue.queue"
    )

    @property
    def supervises(self) -> bool:
        """Leads and admins see everyone's figures."""
        return self.role in SUPERVISORS

    @property
    def queues(self) -> list[str]:
        """Names of the queues this agent serves."""
        return sorted(link.queue for link in self.queue_links)


class AgentQueue(Base):
    """Membership: agent serves queue."""

    __tablename__ = "agent_queues"
    __table_args__ = (UniqueConstraint("agent_id", "queue"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    queue: Mapped[str] = mapped_column(String(64), index=True)

    agent: Mapped[Agent] = relationship(back_populates="queue_links")


class AgentToken(Base):
    """An opaque login token; only its SHA-256 is stored."""

    __tablename__ = "agent_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
