"""Audit record of every routing decision."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from clock import utcnow
from routing.db import Base
from routing.sqltypes import UTCDateTime


class RoutingDecision(Base):
    """One decision of the policy: its inputs, its outcome and the rule that fired."""

    __tablename__ = "routing_decisions"
    __table_args__ = (Index("ix_routing_decisions_created_at", "created_at"),)  # operations figures by date

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    intent: Mapped[str] = mapped_column(String(100))
    bot_failures: Mapped[int] = mapped_column(Integer)
    human_requests: Mapped[int] = mapped_column(Integer)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    decision: Mapped[str] = mapped_column(String(16))
    queue: Mapped[str | None] = mapped_column(String(40))
    priority: Mapped[int] = mapped_column(Integer)
    sla_seconds: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    rule: Mapped[str] = mapped_column(String(80))
    tier: Mapped[str] = mapped_column(String(32))
    offer_human: Mapped[bool] = mapped_column(Boolean)
    policy_version: Mapped[str] = mapped_column(String(40))
