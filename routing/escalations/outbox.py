"""Transactional outbox: outgoing calls are stored with the change that caused them and delivered afterwards
(routing.escalations.delivery sends them), so a Rasa or webhook outage loses nothing and blocks no one.

Lanes: items of one lane go out in id order, one at a time; lanes are independent. A customer's conversation is a
lane (the agent's messages, then the end of the handoff, in the order they were written); each conversation's queue
webhook has a lane of its own, so a webhook receiver that is down never delays what the customer should see.

Every step is its own short transaction, so a crash re-sends at most the items that were on the wire:
- `claim_heads` takes the first pending item of each idle lane that is due (chosen in SQL), counts the attempt and
  leases the item (`next_attempt_at` moves `LEASE_SECONDS` ahead) with a compare-and-set on its attempt count;
- the delivery sends it, then `record_sent` or `record_failure` stores the outcome of that one item. A failure is
  retried with exponential back-off; after the configured number of attempts the item becomes a dead letter
  (`state` dead), which the agent sees on the message and an operator lists and re-queues
  (`python -m routing.cli escalations dead-letters` / `requeue`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, event, exists, func, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from clock import utcnow
from routing.escalations.models import Escalation, Message, OutboxItem
from routing.live import queue_event

log = logging.getLogger(__name__)

_ADDED = "outbox_added"
PENDING, SENT, DEAD = "pending", "sent", "dead"
WEBHOOK = "webhook"
FIRST_BACKOFF_SECONDS = 2
MAX_BACKOFF_SECONDS = 300
LEASE_SECONDS = 30  # longer than one send (one HTTP call, 5 s timeout): a crashed sender's item is retried after it
Delivery = Literal["sending", "sent", "failed"]
_DELIVERY: dict[str, Delivery] = {PENDING: "sending", SENT: "sent", DEAD: "failed"}


def lane_of(kind: str, conversation_id: str) -> str:
    """The lane an item is ordered in: the conversation's, or its webhook lane."""
    return f"{WEBHOOK if kind == WEBHOOK else 'chat'}:{conversation_id}"


def backoff_seconds(attempts: int) -> int:
    """Seconds to wait after the `attempts`-th failed attempt: 2, 4, 8, ... up to MAX_BACKOFF_SECONDS."""
    return int(min(FIRST_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


def enqueue(session: Session, kind: str, conversation_id: str, payload: dict[str, Any],
            message_id: int | None = None) -> OutboxItem:
    """Store an outgoing call; it is sent once the session commits (see `bind_kick` and the delivery).
    `message_id`: the agent's message it relays, whose delivery the console shows."""
    item = OutboxItem(kind=kind, conversation_id=conversation_id, lane=lane_of(kind, conversation_id),
                      payload=payload, message_id=message_id, state=PENDING)
    session.add(item)
    session.info[_ADDED] = True
    return item


def bind_kick(sessions: sessionmaker[Session], kick: Callable[[], None]) -> None:
    """Call `kick` (thread-safe, e.g. wake the delivery task) after a commit that added outbox items."""

    @event.listens_for(sessions, "after_commit")
    def _after_commit(session: Session) -> None:
        if session.info.pop(_ADDED, False):
            kick()

    @event.listens_for(sessions, "after_rollback")
    def _after_rollback(session: Session) -> None:
        session.info.pop(_ADDED, None)


@dataclass(frozen=True)
class Claimed:
    """An item taken for sending (a plain copy: it travels to a sender thread); `attempts` counts this one."""

    id: int
    kind: str
    conversation_id: str
    lane: str
    payload: dict[str, Any]
    attempts: int
    message_id: int | None


def _rowcount(result: Any) -> int:
    return cast("CursorResult[Any]", result).rowcount


def claim_heads(session: Session, now: datetime, limit: int, webhooks: bool,
                skip_lanes: Collection[str] = ()) -> list[Claimed]:
    """Take up to `limit` due items, each the first pending item of its lane (nothing earlier in the lane is
    pending), webhooks or not; items never tried come first. Each is leased with a compare-and-set, so two senders
    never take the same item. The caller commits before sending."""
    earlier = aliased(OutboxItem)
    query = select(OutboxItem).where(
        OutboxItem.state == PENDING, OutboxItem.next_attempt_at <= now,
        (OutboxItem.kind == WEBHOOK) if webhooks else (OutboxItem.kind != WEBHOOK),
        ~exists().where(earlier.lane == OutboxItem.lane, earlier.state == PENDING, earlier.id < OutboxItem.id))
    if skip_lanes:
        query = query.where(OutboxItem.lane.not_in(sorted(skip_lanes)))
    heads = session.scalars(query.order_by(OutboxItem.attempts, OutboxItem.id).limit(limit)).all()
    claimed = []
    for item in heads:
        taken = session.execute(
            update(OutboxItem).where(OutboxItem.id == item.id, OutboxItem.state == PENDING,
                                     OutboxItem.attempts == item.attempts, OutboxItem.next_attempt_at <= now)
            .values(attempts=item.attempts + 1, next_attempt_at=now + timedelta(seconds=LEASE_SECONDS))
            .execution_options(synchronize_session=False))
        if _rowcount(taken) == 1:
            claimed.append(Claimed(item.id, item.kind, item.conversation_id, item.lane, dict(item.payload),
                                   item.attempts + 1, item.message_id))
    return claimed


def _announce_delivery(session: Session, item: Claimed, state: str) -> None:
    """Tell the consoles whether an agent's message reached the customer (live event `message.delivery`)."""
    if item.message_id is None:
        return
    row = session.execute(select(Escalation.id, Escalation.queue).join(Message, Message.escalation_id == Escalation.id)
                          .where(Message.id == item.message_id)).first()
    if row is not None:
        queue_event(session, "message.delivery", {row.queue},
                    {"escalation_id": row.id, "message_id": item.message_id, "delivery": _DELIVERY[state]})


def _mine(item: Claimed) -> Any:
    """The item as this sender claimed it (a requeue or another sender's claim since then makes it not ours)."""
    return (OutboxItem.id == item.id) & (OutboxItem.state == PENDING) & (OutboxItem.attempts == item.attempts)


def record_sent(session: Session, item: Claimed, now: datetime) -> None:
    """The item was delivered."""
    done = session.execute(update(OutboxItem).where(_mine(item)).values(state=SENT, sent_at=now, last_error=None)
                           .execution_options(synchronize_session=False))
    if _rowcount(done) == 1:
        _announce_delivery(session, item, SENT)


def record_failure(session: Session, item: Claimed, error: str, now: datetime, max_attempts: int) -> str:
    """The attempt failed: retry after a back-off, or give up after `max_attempts` (a dead letter).
    Returns the item's new state."""
    error = error[:2000]
    if item.attempts >= max_attempts:
        values: dict[str, Any] = {"state": DEAD, "dead_at": now, "last_error": error}
    else:
        values = {"next_attempt_at": now + timedelta(seconds=backoff_seconds(item.attempts)), "last_error": error}
    done = session.execute(update(OutboxItem).where(_mine(item)).values(**values)
                           .execution_options(synchronize_session=False))
    if _rowcount(done) != 1:
        return PENDING
    if values.get("state") == DEAD:
        log.error("outbox item %d (%s, conversation %r) given up after %d attempts: %s", item.id, item.kind,
                  item.conversation_id, item.attempts, error)
        _announce_delivery(session, item, DEAD)
        return DEAD
    log.warning("outbox item %d (%s, conversation %r) failed (attempt %d of %d), next try in %d s: %s", item.id,
                item.kind, item.conversation_id, item.attempts, max_attempts, backoff_seconds(item.attempts), error)
    return PENDING


def delivery_of(session: Session, message_ids: Iterable[int]) -> dict[int, Delivery]:
    """Whether each agent message reached the customer: sending, sent or failed (messages without an item: absent)."""
    ids = list(message_ids)
    if not ids:
        return {}
    rows = session.execute(select(OutboxItem.message_id, OutboxItem.state).where(OutboxItem.message_id.in_(ids)))
    return {message_id: _DELIVERY[state] for message_id, state in rows if message_id is not None}


def dead_letters(session: Session, limit: int = 1000) -> list[OutboxItem]:
    """Items given up, oldest first (at most `limit`: `counts` tells how many there are in all)."""
    return list(session.scalars(select(OutboxItem).where(OutboxItem.state == DEAD).order_by(OutboxItem.id)
                                .limit(limit)))


def requeue(session: Session, ids: Iterable[int] | None, now: datetime | None = None) -> int:
    """Put dead letters back in line (all of them when `ids` is None) with a fresh attempt count; returns how many.
    A re-queued item goes first in its lane again (before later items not sent yet)."""
    query = update(OutboxItem).where(OutboxItem.state == DEAD)
    if ids is not None:
        query = query.where(OutboxItem.id.in_(list(ids)))
    done = session.execute(query.values(state=PENDING, attempts=0, dead_at=None, next_attempt_at=now or utcnow())
                           .execution_options(synchronize_session=False))
    session.info[_ADDED] = True  # wake the delivery when it runs in this process
    return _rowcount(done)


def counts(session: Session) -> dict[str, int]:
    """How many items are pending and dead (for the health endpoint)."""
    rows = dict(session.execute(select(OutboxItem.state, func.count()).where(OutboxItem.state.in_((PENDING, DEAD)))
                                .group_by(OutboxItem.state)).tuples().all())
    return {"pending": rows.get(PENDING, 0), "dead": rows.get(DEAD, 0)}
