"""Escalation use cases. They flush; the caller owns the transaction (the request's session commits when the
endpoint returns, workers and commands use `sessions.begin()`), and its commit publishes the live events and wakes
the outbox (see routing.live and routing.escalations.outbox)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clock import utcnow
from routing.agents.models import Agent
from routing.customers import service as customers
from routing.customers.models import Customer
from routing.errors import Conflict, InvalidField, NotFound
from routing.escalations import outbox
from routing.escalations.flows import ChangedMeanwhile, InvalidTransition, hold, record, transition
from routing.escalations.models import (
    OFFLINE_STATUSES,
    OPEN_STATUSES,
    Escalation,
    EscalationEvent,
    Kind,
    Message,
    Note,
    Status,
)
from routing.escalations.schemas import Contact, EscalationIn, EscalationStatusOut, EscalationSummary
from routing.live import queue_event
from routing.policy.definition import Policy, QueueDefinition
from routing.queues import service as queues


class EscalationNotFound(NotFound):
    """No such escalation (or not one the caller may see)."""

    detail = "Escalation not found."


class AtCapacity(Conflict):
    """The agent already handles as many chats as allowed."""


def _summary(esc: Escalation) -> dict[str, Any]:
    return EscalationSummary.model_validate(esc).model_dump(mode="json")


def announce(session: Session, type_: str, esc: Escalation, *extra_queues: str) -> None:
    queue_event(session, type_, {esc.queue, *extra_queues}, {"escalation": _summary(esc)})


def status_out(session: Session, esc: Escalation, policy: Policy, now: datetime | None = None
               ) -> EscalationStatusOut:
    """The customer-facing view of an escalation: status, position, wait estimate, alternative."""
    now = now or utcnow()
    cfg = policy.queue(esc.queue)
    online, free = queues.online_capacity(session, esc.queue)
    position = queues.position_of(session, esc, policy, now)
    eta = None
    if position is not None:
        eta = queues.estimate_wait(position, online, free, queues.average_handle_seconds(session, esc.queue))
    return EscalationStatusOut(
        id=esc.id, conversation_id=esc.conversation_id, status=esc.status, queue=esc.queue,
        queue_display_name=cfg.display_name if cfg else esc.queue, position=position,
        estimated_wait_seconds=eta, queue_open=cfg.business_hours.is_open(now) if cfg else False,
        staffed=online > 0, alternative=esc.alternative, expires_at=esc.expires_at,
        next_open_at=queues.next_open_at(cfg.business_hours, now) if cfg else None,
        closes_at=queues.closes_at(cfg.business_hours, now) if cfg else None,
        queue_timezone=cfg.business_hours.timezone if cfg else None)


def _queue(policy: Policy, name: str) -> QueueDefinition:
    cfg = policy.queue(name)
    if cfg is None:
        known = ", ".join(q.name for q in policy.queues)
        raise InvalidField(("body", "queue"), f"unknown queue {name!r}; known: {known}")
    return cfg


def get(session: Session, escalation_id: int) -> Escalation:
    """The escalation, or EscalationNotFound."""
    esc = session.get(Escalation, escalation_id)
    if esc is None:
        raise EscalationNotFound()
    return esc


def find_open(session: Session, conversation_id: str) -> Escalation | None:
    """The conversation's escalation that is waiting, assigned or active."""
    return session.scalars(select(Escalation).where(
        Escalation.conversation_id == conversation_id, Escalation.status.in_(OPEN_STATUSES))).first()


def _existing(session: Session, data: EscalationIn) -> Escalation | None:
    return (session.scalars(select(Escalation).where(Escalation.idempotency_key == data.idempotency_key)).first()
            or find_open(session, data.conversation_id))


def create(session: Session, data: EscalationIn, policy: Policy, now: datetime | None = None
           ) -> tuple[Escalation, bool]:
    """Open an escalation from a handoff packet; returns (escalation, created). The same idempotency key or an
    already open escalation of the conversation returns that one. A closed queue gives a ticket, an unstaffed
    one keeps the customer waiting with a callback offered (`alternative`)."""
    now = now or utcnow()
    existing = _existing(session, data)
    if existing is not None:
        return existing, False
    cfg = _queue(policy, data.queue)
    if data.customer_id is not None:
        customer = session.get(Customer, data.customer_id)
        if customer is None:
            raise InvalidField(("body", "customer_id"), "unknown customer")
        if data.contact is None:  # a known customer: reach them at their account
            data = data.model_copy(update={"contact": Contact(email=customer.email, name=customer.name)})
    online, _ = queues.online_capacity(session, cfg.name)
    alternative: Literal["callback", "ticket"] | None
    if not cfg.business_hours.is_open(now):
        status = Status.CALLBACK_REQUESTED if cfg.out_of_hours == "callback" else Status.TICKET
        alternative, expires_at = cfg.out_of_hours, None
    else:
        status, alternative = Status.WAITING, (None if online else cfg.out_of_hours)
        expires_at = now + timedelta(seconds=cfg.escalation_timeout_seconds)
    esc = Escalation(
        conversation_id=data.conversation_id, idempotency_key=data.idempotency_key, customer_id=data.customer_id,
        tier=data.tier, tier_reason=data.tier_reason, queue=cfg.name, priority=data.priority,
        enqueued_epoch=int(now.timestamp()), sla_seconds=data.sla_seconds,
        sla_due_at=now + timedelta(seconds=data.sla_seconds) if data.sla_seconds else None, reason=data.reason,
        rule=data.rule, intent=data.intent, facts=data.facts.model_dump(exclude_unset=True), summary=data.summary,
        transcript=[line.model_dump(mode="json") for line in data.transcript],
        contact=data.contact.model_dump() if data.contact else None, status=status, alternative=alternative,
        created_at=now, updated_at=now, expires_at=expires_at)
    session.add(esc)
    try:
        session.flush()
    except IntegrityError:  # a concurrent request created it first
        session.rollback()
        existing = _existing(session, data)
        if existing is None:
            raise
        return existing, False
    record(session, esc, Kind.CREATED, "bot", data.reason, now=now)
    if status == Status.WAITING and cfg.webhook_url:
        outbox.enqueue(session, "webhook", esc.conversation_id, {"url": cfg.webhook_url, "escalation": _summary(esc)})
    announce(session, "escalation.created", esc)
    return esc, True


def add_customer_message(session: Session, escalation_id: int, text: str, idempotency_key: str,
                         sender: str = "customer") -> Message:
    """Store a customer's message, or the bot's notice about the conversation (`sender` "notice"), once per
    idempotency key, and show it to the agents."""
    esc = get(session, escalation_id)
    existing = session.scalars(select(Message).where(
        Message.escalation_id == esc.id, Message.idempotency_key == idempotency_key)).first()
    if existing is not None:
        return existing
    if esc.status not in OPEN_STATUSES:
        raise InvalidTransition(f"escalation is {esc.status}; the customer is talking to the bot again")
    hold(session, esc, OPEN_STATUSES)  # still open when the message is stored, whatever happens meanwhile
    msg = Message(escalation_id=esc.id, sender=sender, text=text, idempotency_key=idempotency_key)
    session.add(msg)
    session.flush()
    queue_event(session, "message.created", {esc.queue},
                {"escalation_id": esc.id, "message": {"id": msg.id, "sender": sender, "text": text,
                                                      "created_at": msg.created_at.isoformat()}})
    session.flush()
    return msg


def _mine(esc: Escalation, agent: Agent) -> None:
    if esc.agent_id != agent.id or esc.status not in (Status.ASSIGNED, Status.ACTIVE):
        raise InvalidTransition("only the agent handling this escalation can do that")


def add_agent_message(session: Session, esc: Escalation, agent: Agent, text: str) -> Message:
    """The handling agent replies; the first reply makes the escalation active. Relayed to the customer."""
    _mine(esc, agent)
    now = utcnow()
    if esc.status == Status.ASSIGNED:
        transition(session, esc, Status.ACTIVE, Kind.FIRST_REPLY, f"agent:{agent.login}", now, agent_id=agent.id)
        announce(session, "escalation.updated", esc)  # the SLA is met: consoles stop its timer
    else:  # never a reply after the escalation was closed or transferred meanwhile
        hold(session, esc, (Status.ACTIVE,), agent_id=agent.id)
    msg = Message(escalation_id=esc.id, sender="agent", agent_id=agent.id, text=text, created_at=now)
    session.add(msg)
    session.flush()
    outbox.enqueue(session, "agent_message", esc.conversation_id, {"text": text, "agent_name": agent.name},
                   message_id=msg.id)
    queue_event(session, "message.created", {esc.queue},
                {"escalation_id": esc.id, "message": {"id": msg.id, "sender": "agent", "agent": agent.name,
                                                      "text": text, "created_at": now.isoformat(),
                                                      "delivery": "sending"}})
    session.flush()
    return msg


def add_note(session: Session, esc: Escalation, agent: Agent, text: str) -> Note:
    """An internal note: stored apart from messages and never relayed or shown to the customer."""
    note = Note(escalation_id=esc.id, agent_id=agent.id, text=text)
    session.add(note)
    session.flush()
    return note


def transfer(session: Session, esc: Escalation, agent: Agent, queue: str, reason: str, policy: Policy
             ) -> Escalation:
    """Put the escalation back to waiting in another queue (it keeps its waiting time for aging)."""
    _mine(esc, agent)
    cfg = _queue(policy, queue)
    now = utcnow()
    old = esc.queue
    transition(session, esc, Status.WAITING, Kind.TRANSFERRED, f"agent:{agent.login}", now,
               reason=f"{old} → {queue}: {reason}", agent_id=agent.id,
               changes={"queue": cfg.name, "agent_id": None,
                        "expires_at": now + timedelta(seconds=cfg.escalation_timeout_seconds)})
    announce(session, "escalation.updated", esc, old)
    session.flush()
    return esc


def _close(session: Session, esc: Escalation, agent: Agent, to_status: str, disposition: str | None,
           note: str | None, policy: Policy) -> Escalation:
    _mine(esc, agent)
    codes = queues.dispositions(policy)
    if disposition is not None and disposition not in codes:
        raise InvalidField(("body", "disposition"),
                           f"unknown disposition {disposition!r}; use one of {', '.join(codes)}")
    now = utcnow()
    kind = Kind.RESOLVED if to_status == Status.RESOLVED else Kind.HANDED_BACK
    transition(session, esc, to_status, kind, f"agent:{agent.login}", now, reason=note or disposition or "",
               agent_id=agent.id, changes={"disposition": disposition})
    if note:
        session.add(Note(escalation_id=esc.id, agent_id=agent.id, text=note, created_at=now))
    # the escalation's id: the customer's rating key is signed from it when the item is sent (escalations/delivery.py)
    outbox.enqueue(session, "end_handoff", esc.conversation_id,
                   {"status": to_status, "disposition": disposition, "escalation_id": esc.id})
    announce(session, "escalation.updated", esc)
    session.flush()
    return esc


def resolve(session: Session, esc: Escalation, agent: Agent, disposition: str, note: str | None,
            policy: Policy) -> Escalation:
    """Close as resolved with a disposition code; the bot resumes the conversation."""
    return _close(session, esc, agent, Status.RESOLVED, disposition, note, policy)


def handback(session: Session, esc: Escalation, agent: Agent, disposition: str | None, note: str | None,
             policy: Policy) -> Escalation:
    """Return the conversation to the bot."""
    return _close(session, esc, agent, Status.RETURNED_TO_BOT, disposition, note, policy)


def abandon(session: Session, escalation_id: int, reason: str) -> Escalation:
    """The customer left; nothing is relayed (nobody is there to hear it)."""
    esc = get(session, escalation_id)
    transition(session, esc, Status.ABANDONED, Kind.ABANDONED, "customer", utcnow(), reason=reason)
    announce(session, "escalation.updated", esc)
    session.flush()
    return esc


def request_callback(session: Session, escalation_id: int, contact: Contact) -> Escalation:
    """The customer prefers a callback (queue unstaffed, escalation expired, or a ticket): capture the contact."""
    if not (contact.email or contact.phone):
        raise InvalidField(("body", "contact"), "an email or a phone number is needed for a callback")
    esc = get(session, escalation_id)
    transition(session, esc, Status.CALLBACK_REQUESTED, Kind.CALLBACK_REQUESTED, "customer", utcnow(),
               reason="customer asked to be called back",
               changes={"contact": contact.model_dump(), "alternative": "callback", "agent_id": None})
    announce(session, "escalation.updated", esc)
    session.flush()
    return esc


def expire_due(session: Session, now: datetime | None = None, limit: int = 500) -> int:
    """Expire waiting escalations past their queue's timeout: the bot resumes and offers a callback. One claimed,
    called back or abandoned meanwhile is left as it is (each expiry is a compare-and-set). Returns how many."""
    now = now or utcnow()
    due = list(session.scalars(select(Escalation).where(
        Escalation.status == Status.WAITING, Escalation.expires_at <= now)
        .order_by(Escalation.expires_at).limit(limit).with_for_update(skip_locked=True)))
    expired = 0
    for esc in due:
        try:
            transition(session, esc, Status.EXPIRED, Kind.EXPIRED, "system", now, reason="nobody picked it up in time",
                       changes={"alternative": "callback"})
        except ChangedMeanwhile:
            continue
        outbox.enqueue(session, "end_handoff", esc.conversation_id, {"status": Status.EXPIRED, "disposition": None})
        announce(session, "escalation.updated", esc)
        expired += 1
    session.flush()
    return expired


def _columns(esc: Escalation) -> dict[str, Any]:
    """Every column of the escalation's row, by name."""
    return {column.key: getattr(esc, column.key) for column in Escalation.__table__.columns}


def visible_to(esc: Escalation, agent: Agent) -> bool:
    """Agents see only escalations of queues they serve (and the ones they handle)."""
    return esc.queue in agent.queues or esc.agent_id == agent.id


def list_for_agent(session: Session, agent: Agent, queue: str | None, status: Status | None, limit: int,
                   after: list[Any] | None = None) -> tuple[list[Escalation], list[Any] | None]:
    """A page of the escalations of my queues (open work by default), in queue order (priority, then arrival),
    starting after the sort key `after`; returns the page and the sort key of its last row when more follow."""
    if queue is not None and queue not in agent.queues:
        raise EscalationNotFound()
    names = [queue] if queue else agent.queues
    statuses = [status] if status else [*OPEN_STATUSES, *OFFLINE_STATUSES]
    query = select(Escalation).where(Escalation.queue.in_(names), Escalation.status.in_(statuses))
    if after is not None:
        priority, created_at, last_id = after
        query = query.where(or_(Escalation.priority < priority, and_(Escalation.priority == priority, or_(
            Escalation.created_at > created_at, and_(Escalation.created_at == created_at, Escalation.id > last_id)))))
    rows = list(session.scalars(query.order_by(Escalation.priority.desc(), Escalation.created_at, Escalation.id)
                                .limit(limit + 1)))
    more = len(rows) > limit
    last = rows[limit - 1] if more else None
    return rows[:limit], ([last.priority, last.created_at, last.id] if last else None)


def list_closed(session: Session, statuses: list[str], since: datetime | None, limit: int,
                after: list[Any] | None = None) -> tuple[list[dict[str, Any]], list[Any] | None]:
    """A page of the escalations closed with one of `statuses` (since `since`), oldest first (by when they closed,
    else their last change), with the customer's name, starting after the sort key `after`; returns the page and
    the sort key of its last row when more follow."""
    ended = func.coalesce(Escalation.closed_at, Escalation.updated_at)
    query = (select(Escalation, Customer.name, ended).outerjoin(Customer, Customer.id == Escalation.customer_id)
             .where(Escalation.status.in_(statuses)))
    if since is not None:
        query = query.where(Escalation.closed_at >= since)
    if after is not None:
        ended_at, last_id = after
        query = query.where(or_(ended > ended_at, and_(ended == ended_at, Escalation.id > last_id)))
    rows = session.execute(query.order_by(ended, Escalation.id).limit(limit + 1)).all()
    more = len(rows) > limit
    key = [rows[limit - 1][2], rows[limit - 1][0].id] if more else None
    return [{**_columns(esc), "customer_name": name} for esc, name, _ in rows[:limit]], key


def detail(session: Session, esc: Escalation, policy: Policy) -> dict[str, Any]:
    """Packet, messages (an agent's with whether it reached the customer), notes and audit trail, plus what the
    console offers (for agents)."""
    stored = session.scalars(select(Message).where(Message.escalation_id == esc.id).order_by(Message.id)).all()
    delivery = outbox.delivery_of(session, [m.id for m in stored if m.sender == "agent"])
    messages = [{"id": m.id, "sender": m.sender, "agent_id": m.agent_id, "text": m.text, "created_at": m.created_at,
                 "delivery": delivery.get(m.id)} for m in stored]
    notes = session.scalars(select(Note).where(Note.escalation_id == esc.id).order_by(Note.id)).all()
    events = session.scalars(select(EscalationEvent).where(EscalationEvent.escalation_id == esc.id)
                             .order_by(EscalationEvent.id)).all()
    panel = customers.agent_panel(session, esc.customer_id) if esc.customer_id is not None else None
    return {**_columns(esc),
            "customer_name": panel["name"] if panel else None, "customer": panel,
            "messages": messages, "notes": notes, "events": events,
            "dispositions": queues.dispositions(policy),
            "transfer_queues": [q.name for q in policy.queues if q.name != esc.queue]}


GUEST_NAME = "there"  # {customer_name} of a guest: "Hi {customer_name}" reads "Hi there"


def canned_replies(session: Session, esc: Escalation, agent: Agent, policy: Policy) -> list[dict[str, str]]:
    """The policy's canned replies offered for this escalation's queue, {customer_name}/{agent_name} filled in."""
    customer = session.get(Customer, esc.customer_id) if esc.customer_id is not None else None
    customer_name = customer.name if customer else ((esc.contact or {}).get("name") or GUEST_NAME)
    return [{"id": reply.id, "title": reply.title,
             "text": reply.text.replace("{customer_name}", customer_name).replace("{agent_name}", agent.name)}
            for reply in policy.canned_replies if reply.queues is None or esc.queue in reply.queues]
