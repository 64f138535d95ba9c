"""Request and response bodies of the escalation API (service side and agent side)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from routing.escalations.models import Status
from routing.inputs import EMAIL_PATTERN, ConversationId, Facts, InputModel

Text = Field(min_length=1, max_length=4000)


class TranscriptLine(InputModel):
    """One line of the conversation before the handoff."""

    role: Literal["customer", "bot", "agent"]
    text: str = Field(max_length=4000)
    at: datetime | None = None


class Contact(InputModel):
    """How to reach the customer for a callback or ticket."""

    email: str | None = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)
    phone: str | None = Field(default=None, max_length=32, pattern=r"^\+?[0-9 ()./-]{5,32}$")
    name: str | None = Field(default=None, max_length=120)


class EscalationIn(InputModel):
    """The handoff packet the bot sends."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: ConversationId
    idempotency_key: str = Field(min_length=1, max_length=128)
    customer_id: int | None = None
    tier: str = Field(min_length=1, max_length=16)
    tier_reason: str = Field(default="", max_length=2000)
    queue: str = Field(min_length=1, max_length=64)
    priority: int = Field(default=0, ge=0, le=1000)
    sla_seconds: int | None = Field(default=None, gt=0, le=30 * 24 * 3600)
    reason: str = Field(default="", max_length=2000)
    rule: str = Field(default="", max_length=128)
    intent: str = Field(default="", max_length=128)
    facts: Facts = Field(default_factory=Facts)
    summary: str = Field(default="", max_length=4000)
    transcript: list[TranscriptLine] = Field(default_factory=list, max_length=500)
    contact: Contact | None = None


class EscalationStatusOut(BaseModel):
    """What the bot (and through it the customer) learns about an escalation. Never carries internal notes."""

    id: int
    conversation_id: str
    status: Status
    queue: str
    queue_display_name: str
    position: int | None
    estimated_wait_seconds: int | None
    queue_open: bool
    staffed: bool
    alternative: Literal["callback", "ticket"] | None
    expires_at: datetime | None
    next_open_at: datetime | None
    closes_at: datetime | None
    queue_timezone: str | None  # the zone of the queue's opening hours, named when the bot states a time


class CustomerMessageIn(InputModel):
    """A customer's message during the handoff, forwarded by the bot."""

    text: str = Text
    idempotency_key: str = Field(min_length=1, max_length=128)
    # "notice": the bot tells the agent something about the conversation (a message it did not pass on, and why)
    sender: Literal["customer", "notice"] = "customer"


class CallbackIn(InputModel):
    """The customer accepts a callback instead of waiting."""

    contact: Contact


class AbandonIn(InputModel):
    """The customer left before a human finished."""

    reason: str = Field(default="customer left", max_length=500)


class IdOut(BaseModel):
    """The id of something created."""

    id: int


class MessageOut(BaseModel):
    """A customer ↔ agent message."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    sender: str
    agent_id: int | None
    text: str
    created_at: datetime
    delivery: Literal["sending", "sent", "failed"] | None = Field(
        default=None, description="an agent's message: on its way to the customer, sent, or failed (given up after "
                                  "the outbox's attempts); null for the customer's messages")


class NoteOut(BaseModel):
    """An internal note (agents only)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    agent_id: int | None
    text: str
    created_at: datetime


class EventOut(BaseModel):
    """One audit-trail step."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime
    kind: str
    from_status: Status | None
    to_status: Status
    actor: str
    reason: str


class EscalationSummary(BaseModel):
    """An escalation as listed in an agent's console."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: str
    status: Status
    queue: str
    priority: int
    tier: str
    intent: str
    reason: str
    summary: str
    customer_id: int | None
    agent_id: int | None
    alternative: str | None
    created_at: datetime
    assigned_at: datetime | None
    active_at: datetime | None
    sla_seconds: int | None
    sla_due_at: datetime | None
    expires_at: datetime | None


class OrderBrief(BaseModel):
    """One of the customer's recent orders, as the agent's customer panel shows it."""

    model_config = ConfigDict(from_attributes=True)

    number: str
    status: str
    total_cents: int
    currency: str
    placed_at: datetime


class CustomerPanel(BaseModel):
    """What the agent knows about a verified customer: value and recent orders (only for this escalation)."""

    name: str
    email: str
    lifetime_value: float | None = Field(description="CLV in currency units (policy's model), null if not computed")
    lifetime_spend_cents: int | None
    orders_total: int | None
    recent_orders: list[OrderBrief]


class EscalationDetail(EscalationSummary):
    """The full handoff packet with the conversation, notes and audit trail (agents only)."""

    tier_reason: str
    rule: str
    facts: dict[str, Any]
    transcript: list[dict[str, Any]]
    contact: dict[str, Any] | None
    disposition: str | None
    closed_at: datetime | None
    customer_name: str | None
    customer: CustomerPanel | None
    messages: list[MessageOut]
    notes: list[NoteOut]
    events: list[EventOut]
    dispositions: list[str]
    transfer_queues: list[str]


class CannedReplyOut(BaseModel):
    """A canned reply for one escalation, placeholders filled in ({customer_name}, {agent_name})."""

    id: str
    title: str
    text: str


class ClosedEscalationOut(EscalationSummary):
    """A finished escalation as bot trainers review it (service side: no internal notes, no messages)."""

    rule: str
    facts: dict[str, Any]
    contact: dict[str, Any] | None
    disposition: str | None
    closed_at: datetime | None
    customer_name: str | None


class ClaimIn(InputModel):
    """Which of my queues to claim from (all I serve when omitted)."""

    queues: list[str] | None = None


class AgentTextIn(InputModel):
    """A reply to the customer or an internal note."""

    text: str = Text


class TransferIn(InputModel):
    """Move the escalation to another queue."""

    queue: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=500)


class ResolveIn(InputModel):
    """Close with a disposition code from the policy file."""

    disposition: str = Field(min_length=1, max_length=64)
    note: str | None = Field(default=None, max_length=4000)


class HandbackIn(InputModel):
    """Hand the conversation back to the bot."""

    disposition: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=4000)
