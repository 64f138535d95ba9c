"""The contact-centre figures, computed from plain records (no database here): see docs/operations.md for each
definition. `service.py` reads the records from the routing database; this module only counts."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple


class Kpi(NamedTuple):
    """One figure: its key in every answer, report and CSV, its label, and how it reads ("rate": a share shown in %,
    "seconds", "count", "score": 1-5)."""

    name: str
    label: str
    kind: Literal["count", "rate", "seconds", "score"]


# The one list of figures: `figures` computes exactly these keys, in this order (a test checks it); the CSV columns
# and the dashboard's labels (served by /api/v1/analytics/options) come from here.
KPIS: tuple[Kpi, ...] = (
    Kpi("contacts", "Contacts", "count"),
    Kpi("contained", "Contained by the bot", "count"),
    Kpi("containment_rate", "Containment", "rate"),
    Kpi("escalated", "Escalated", "count"),
    Kpi("escalation_rate", "Escalation rate", "rate"),
    Kpi("recontacts_24h", "Re-contacts within 24 h", "count"),
    Kpi("recontact_rate_24h", "Re-contact within 24 h", "rate"),
    Kpi("escalations", "Escalations", "count"),
    Kpi("offered", "Offered to a live queue", "count"),
    Kpi("answered", "Answered by a person", "count"),
    Kpi("first_response_p50_seconds", "First human response p50", "seconds"),
    Kpi("first_response_p90_seconds", "First human response p90", "seconds"),
    Kpi("service_level", "Service level (own SLA)", "rate"),
    Kpi("service_level_threshold_seconds", "Service level threshold", "seconds"),
    Kpi("service_level_at_threshold", "Answered within threshold", "rate"),
    Kpi("abandoned", "Abandoned in the queue", "count"),
    Kpi("abandonment_rate", "Abandonment", "rate"),
    Kpi("expired", "Expired unanswered", "count"),
    Kpi("handled", "Handled by a person", "count"),
    Kpi("average_handle_seconds", "Average handle time", "seconds"),
    Kpi("callbacks_requested", "Callbacks requested", "count"),
    Kpi("callbacks_completed", "Callbacks completed", "count"),
    Kpi("callback_completion_rate", "Callbacks completed", "rate"),
    Kpi("csat_responses", "CSAT responses", "count"),
    Kpi("csat_score", "CSAT (4s and 5s)", "rate"),
    Kpi("csat_average", "CSAT average", "score"),
)
KPI_NAMES: tuple[str, ...] = tuple(kpi.name for kpi in KPIS)

RECONTACT_WINDOW = timedelta(hours=24)
# A conversation quiet for longer than this starts a new contact: Rasa's own session_expiration_time (domain.yml).
SESSION_GAP = timedelta(minutes=60)
SATISFIED = 4  # CSAT: the share of 4s and 5s ("top-two-box")
NONE_LABEL = "-"  # the group of records without a queue / agent (bot-only contacts, never answered)


@dataclass
class EscalationRecord:
    """One escalation, reduced to what the figures need (built by service.load)."""

    id: int
    conversation_id: str
    customer_id: int | None
    tier: str
    queue: str
    intent: str
    agent: str | None  # login of the last agent who handled it
    status: str
    created_at: datetime
    ended_at: datetime  # closed_at, else the last change
    sla_seconds: int | None
    offered_live: bool  # entered a live queue (not a ticket or callback made out of hours)
    answered_at: datetime | None  # first agent reply while the customer was still in the live queue
    abandoned_in_queue: bool  # the customer left before any agent replied
    expired: bool  # nobody picked it up before the queue's timeout
    handle_seconds: float | None  # time held by agents, for escalations an agent closed
    callback_requested: bool
    callback_completed: bool
    csat: int | None = None


@dataclass
class DecisionRecord:
    """One routing decision (every policy-relevant bot turn asks for one)."""

    conversation_id: str
    customer_id: int | None
    tier: str
    intent: str
    at: datetime


@dataclass
class Contact:
    """A customer's visit: the decisions and escalations of one conversation with no gap over SESSION_GAP."""

    conversation_id: str
    customer_id: int | None
    start: datetime
    end: datetime
    tier: str
    intent: str
    decisions: list[DecisionRecord] = field(default_factory=list)
    escalations: list[EscalationRecord] = field(default_factory=list)
    recontact: bool = False

    @property
    def identity(self) -> str:
        """Who came: the verified customer, else the conversation (a guest)."""
        return f"customer:{self.customer_id}" if self.customer_id is not None else f"conv:{self.conversation_id}"

    @property
    def escalated(self) -> bool:
        return bool(self.escalations)

    @property
    def queue(self) -> str:
        return self.escalations[-1].queue if self.escalations else NONE_LABEL

    @property
    def agents(self) -> set[str]:
        return {e.agent or NONE_LABEL for e in self.escalations} or {NONE_LABEL}


def build_contacts(decisions: Iterable[DecisionRecord], escalations: Iterable[EscalationRecord]) -> list[Contact]:
    """Group each conversation's decisions and escalations into contacts, oldest first, and mark re-contacts."""
    timeline: dict[str, list[tuple[datetime, datetime, DecisionRecord | EscalationRecord]]] = {}
    for d in decisions:
        timeline.setdefault(d.conversation_id, []).append((d.at, d.at, d))
    for e in escalations:
        timeline.setdefault(e.conversation_id, []).append((e.created_at, e.ended_at, e))
    contacts: list[Contact] = []
    for conversation_id, items in timeline.items():
        current: Contact | None = None
        for start, end, item in sorted(items, key=lambda i: (i[0], isinstance(i[2], EscalationRecord))):
            if current is None or start - current.end > SESSION_GAP:
                current = Contact(conversation_id, item.customer_id, start, end, item.tier, item.intent)
                contacts.append(current)
            current.end = max(current.end, end)
            if current.customer_id is None:
                current.customer_id = item.customer_id
            if isinstance(item, DecisionRecord):
                current.decisions.append(item)
                if not current.escalations:
                    current.tier = item.tier
            else:
                if not current.escalations:
                    current.intent = item.intent  # what a person was needed for
                current.escalations.append(item)
                current.tier = item.tier
    contacts.sort(key=lambda c: (c.start, c.conversation_id))
    _mark_recontacts(contacts)
    return contacts


def _mark_recontacts(contacts: Sequence[Contact]) -> None:
    """A contact is followed by a re-contact when the same customer starts another one within 24 h of its end."""
    by_identity: dict[str, list[Contact]] = {}
    for c in contacts:  # sorted by start
        by_identity.setdefault(c.identity, []).append(c)
    for visits in by_identity.values():
        for this, following in zip(visits, visits[1:], strict=False):
            this.recontact = following.start - this.end <= RECONTACT_WINDOW


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (the smallest value with at least p of the values at or below it)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(p * len(ordered)), 1) - 1]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(contacts: Sequence[Contact], escalations: Sequence[EscalationRecord],
            threshold_seconds: int = 20) -> dict[str, Any]:
    """Every KPI over the given contacts (contact figures) and escalations (queue figures)."""
    n = len(contacts)
    contained = sum(1 for c in contacts if not c.escalated and not c.recontact)
    offered = [e for e in escalations if e.offered_live]
    answered = [e for e in offered if e.answered_at is not None]
    waits = [(e.answered_at - e.created_at).total_seconds() for e in answered if e.answered_at is not None]
    with_sla = [e for e in offered if e.sla_seconds is not None]
    within_sla = sum(1 for e in with_sla if e.answered_at is not None
                     and (e.answered_at - e.created_at).total_seconds() <= (e.sla_seconds or 0))
    within_threshold = sum(1 for w in waits if w <= threshold_seconds)
    handled = [e.handle_seconds for e in escalations if e.handle_seconds is not None]
    callbacks = [e for e in escalations if e.callback_requested]
    ratings = [e.csat for e in escalations if e.csat is not None]
    escalated = sum(1 for c in contacts if c.escalated)
    recontacts = sum(1 for c in contacts if c.recontact)
    abandoned = sum(1 for e in offered if e.abandoned_in_queue)
    callbacks_completed = sum(1 for e in callbacks if e.callback_completed)
    return {
        "contacts": n,
        "contained": contained,
        "containment_rate": _rate(contained, n),
        "escalated": escalated,
        "escalation_rate": _rate(escalated, n),
        "recontacts_24h": recontacts,
        "recontact_rate_24h": _rate(recontacts, n),
        "escalations": len(escalations),
        "offered": len(offered),
        "answered": len(answered),
        "first_response_p50_seconds": percentile(waits, 0.5),
        "first_response_p90_seconds": percentile(waits, 0.9),
        "service_level": _rate(within_sla, len(with_sla)),
        "service_level_threshold_seconds": threshold_seconds,
        "service_level_at_threshold": _rate(within_threshold, len(offered)),
        "abandoned": abandoned,
        "abandonment_rate": _rate(abandoned, len(offered)),
        "expired": sum(1 for e in offered if e.expired),
        "handled": len(handled),
        "average_handle_seconds": round(sum(handled) / len(handled), 1) if handled else None,
        "callbacks_requested": len(callbacks),
        "callbacks_completed": callbacks_completed,
        "callback_completion_rate": _rate(callbacks_completed, len(callbacks)),
        "csat_responses": len(ratings),
        "csat_score": _rate(sum(1 for r in ratings if r >= SATISFIED), len(ratings)),
        "csat_average": round(sum(ratings) / len(ratings), 2) if ratings else None,
    }


DIMENSIONS: dict[str, tuple[Callable[[Contact], set[str]], Callable[[EscalationRecord], str]]] = {
    "tier": (lambda c: {c.tier}, lambda e: e.tier),
    "queue": (lambda c: {e.queue for e in c.escalations} or {NONE_LABEL}, lambda e: e.queue),
    "agent": (lambda c: c.agents, lambda e: e.agent or NONE_LABEL),
    "intent": (lambda c: {c.intent}, lambda e: e.intent),
}


def grouped(contacts: Sequence[Contact], escalations: Sequence[EscalationRecord], dimension: str,
            threshold_seconds: int = 20) -> dict[str, dict[str, Any]]:
    """The figures per value of `dimension` (tier, queue, agent or intent), sorted by value."""
    of_contact, of_escalation = DIMENSIONS[dimension]
    keys = sorted({k for c in contacts for k in of_contact(c)} | {of_escalation(e) for e in escalations})
    return {key: figures([c for c in contacts if key in of_contact(c)],
                         [e for e in escalations if of_escalation(e) == key], threshold_seconds)
            for key in keys}
