"""Escalations (with their handoff packet), the audit trail of their lifecycle, messages, notes and the outbox."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from clock import utcnow
from routing.db import Base
from routing.sqltypes import UTCDateTime


class Status(StrEnum):
    """An escalation's status, the one spelling of each (the steps between them: routing/escalations/flows.py)."""

    WAITING = "waiting"
    ASSIGNED = "assigned"
    ACTIVE = "active"
    RESOLVED = "resolved"
    RETURNED_TO_BOT = "returned_to_bot"
    ABANDONED = "abandoned"
    EXPIRED = "expired"
    CALLBACK_REQUESTED = "callback_requested"
    TICKET = "ticket"


class Kind(StrEnum):
    """What one audit event of an escalation records (EscalationEvent.kind)."""

    CREATED = "created"
    CLAIMED = "claimed"
    FIRST_REPLY = "first_reply"
    TRANSFERRED = "transferred"
    RESOLVED = "resolved"
    HANDED_BACK = "handed_back"
    ABANDONED = "abandoned"
    CALLBACK_REQUESTED = "callback_requested"
    EXPIRED = "expired"


OPEN_STATUSES = (Status.WAITING, Status.ASSIGNED, Status.ACTIVE)
CLOSED_STATUSES = (Status.RESOLVED, Status.RETURNED_TO_BOT, Status.ABANDONED, Status.EXPIRED)
OFFLINE_STATUSES = (Status.CALLBACK_REQUESTED, Status.TICKET)
_OPEN_SQL = text("status IN (" + ", ".join(f"'{status}'" for status in OPEN_STATUSES) + ")")


class Escalation(Base):
    """A conversation handed to a human queue, with the handoff packet the bot collected."""

    __tablename__ = "escalations"
    __table_args__ = (
        Index("ix_escalations_claim_order", "queue", "status", "priority", "sla_due_at"),
        # at most one open escalation per conversation, whatever the races
        Index("uq_escalations_open_conversation", "conversation_id", unique=True,
              postgresql_where=_OPEN_SQL, sqlite_where=_OPEN_SQL),
        Index("ix_escalations_created_at", "created_at"),  # operations figures by date
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    tier: Mapped[str] = mapped_column(String(16))
    tier_reason: Mapped[str] = mapped_column(Text, default="")
    queue: Mapped[str] = mapped_column(String(64))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    enqueued_epoch: Mapped[int] = mapped_column(BigInteger)  # waiting since (unix seconds), for aging
    sla_seconds: Mapped[int | None] = mapped_column(Integer)
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    rule: Mapped[str] = mapped_column(String(128), default="")
    intent: Mapped[str] = mapped_column(String(128), default="")
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    summary: Mapped[str] = mapped_column(Text, default="")
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    contact: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(24), default=Status.WAITING)
    alternative: Mapped[str | None] = mapped_column(String(16))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), index=True)
    disposition: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # bumped by every change: a transition is a compare-and-set on (status, version), see flows.transition
    version: Mapped[int] = mapped_column(Integer, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class EscalationEvent(Base):
    """One step of an escalation's lifecycle: when, from/to which status, who did it and why."""

    __tablename__ = "escalation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))


class Message(Base):
    """A message of the live conversation, customer ↔ agent (what the customer sees)."""

    __tablename__ = "escalation_messages"
    __table_args__ = (UniqueConstraint("escalation_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"), index=True)
    sender: Mapped[str] = mapped_column(String(16))  # customer | agent | notice (from the bot, for the agent only)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Note(Base):
    """An agent's internal note: never part of anything the customer receives."""

    __tablename__ = "escalation_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxItem(Base):
    """An outgoing call (relay to Rasa, queue webhook) written in the same transaction as its cause.

    Items of one `lane` are delivered in id order (a customer's conversation: agent messages, end of the handoff);
    a queue webhook has a lane of its own, so a receiver that is down never holds up what the customer should see.
    `state` is pending until delivered (sent) or given up after the configured attempts (dead: a dead letter)."""

    __tablename__ = "escalation_outbox"
    __table_args__ = (
        Index("ix_escalation_outbox_due", "state", "next_attempt_at"),
        Index("ix_escalation_outbox_lane", "lane", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # agent_message | end_handoff | webhook
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    lane: Mapped[str] = mapped_column(String(160))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(8), default="pending", server_default="pending")
    # the agent's message this item relays, so that the console can tell whether it reached the customer
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalation_messages.id", ondelete="SET NULL", name="fk_escalation_outbox_message_id"), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
