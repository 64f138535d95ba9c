"""Claiming escalations atomically.

One algorithm for both databases: first write to the agent's row (on PostgreSQL a row lock that serializes this
agent's claims, so capacity holds; on SQLite the database write lock, which serializes all writers), count the
agent's load, then take the best waiting escalation with `FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite has no
row locks and needs none under its single writer) and a conditional `UPDATE ... WHERE status = 'waiting'` whose
row count is checked.

Transactions: a claim starts by ending whatever its session had open, so that its first statement is the agent-row
write (a read transaction on SQLite could not be upgraded to the write lock without a deadlock), and rolls back when
it takes nothing; the caller commits a successful claim (the request's session does when the endpoint returns).

Claim order: priority aged by waiting time (+1 per `fairness.aging.seconds_per_point` waited, at most `max_bonus`;
integer arithmetic that both databases evaluate the same way), then SLA due time (none last), then arrival.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from clock import utcnow
from routing.agents.models import Agent
from routing.errors import Conflict
from routing.escalations import outbox
from routing.escalations.flows import ChangedMeanwhile, transition
from routing.escalations.models import Escalation, Kind, Status
from routing.escalations.service import AtCapacity, EscalationNotFound, announce
from routing.policy.definition import Policy
from routing.queues.service import claim_order

CLAIMABLE = (Status.WAITING, Status.CALLBACK_REQUESTED, Status.TICKET)


class NotClaimable(Conflict):
    """The escalation was closed (expired, abandoned, resolved...) before it was taken."""

JOINED_MESSAGE = "{agent} from our support team has joined the chat and can see our conversation so far."


def _lock_agent(session: Session, agent_id: int, now: datetime) -> Agent:
    session.execute(update(Agent).where(Agent.id == agent_id).values(last_claim_at=now))
    agent = session.scalars(select(Agent).where(Agent.id == agent_id)
                            .execution_options(populate_existing=True)).one()
    load = session.scalar(select(func.count()).select_from(Escalation).where(
        Escalation.agent_id == agent_id, Escalation.status.in_((Status.ASSIGNED, Status.ACTIVE)))) or 0
    if load >= agent.max_chats:
        session.rollback()
        raise AtCapacity(f"you already handle {load} of {agent.max_chats} chats")
    return agent


def _assign(session: Session, esc: Escalation, agent: Agent, now: datetime, kind: str) -> Escalation | None:
    was_waiting = esc.status == Status.WAITING
    try:  # a compare-and-set on the status and version read: a callback or an expiry that got there first wins
        transition(session, esc, Status.ASSIGNED, kind, f"agent:{agent.login}", now, agent_id=agent.id,
                   changes={"agent_id": agent.id})
    except ChangedMeanwhile:
        session.rollback()
        return None
    if was_waiting:  # the customer is still in the chat: tell them a person has joined
        outbox.enqueue(session, "agent_message", esc.conversation_id,
                       {"text": JOINED_MESSAGE.format(agent=agent.name), "agent_name": agent.name})
    announce(session, "escalation.updated", esc)
    session.flush()
    return esc


def claim_next(session: Session, agent_id: int, policy: Policy, queues: Iterable[str] | None = None,
               now: datetime | None = None) -> Escalation | None:
    """Assign the best waiting escalation of the agent's queues (optionally narrowed to `queues`) to the agent.
    None when nothing waits; AtCapacity when the agent is full."""
    now = now or utcnow()
    session.commit()  # end what the session had open: the claim's first statement is the agent-row write
    agent = _lock_agent(session, agent_id, now)
    served = set(agent.queues)
    wanted = served & set(queues) if queues is not None else served
    if not wanted:
        session.rollback()
        return None
    esc = session.scalars(
        select(Escalation).where(Escalation.status == Status.WAITING, Escalation.queue.in_(sorted(wanted)))
        .order_by(*claim_order(policy, now))
        .limit(1).with_for_update(skip_locked=True)).first()
    if esc is None:
        session.rollback()
        return None
    return _assign(session, esc, agent, now, Kind.CLAIMED)


def claim(session: Session, agent_id: int, escalation_id: int, now: datetime | None = None) -> Escalation | None:
    """Assign one specific escalation (waiting, or a callback/ticket) to the agent. EscalationNotFound when it is not
    in a queue the agent serves; None when someone else got it first; NotClaimable when it was closed (expired,
    abandoned...); AtCapacity when the agent is full."""
    now = now or utcnow()
    session.commit()  # end what the session had open: the claim's first statement is the agent-row write
    agent = _lock_agent(session, agent_id, now)
    esc = session.scalars(select(Escalation).where(Escalation.id == escalation_id)
                          .with_for_update().execution_options(populate_existing=True)).first()
    if esc is None or esc.queue not in agent.queues:
        session.rollback()
        raise EscalationNotFound()
    if esc.status in (Status.ASSIGNED, Status.ACTIVE):
        session.rollback()
        return None
    if esc.status not in CLAIMABLE:
        status = esc.status
        session.rollback()
        raise NotClaimable(f"This escalation is {status} now; it can no longer be taken.")
    return _assign(session, esc, agent, now, Kind.CLAIMED)
