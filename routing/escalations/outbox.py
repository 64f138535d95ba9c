"""Transactional outbox: outgoing calls are stored with the change that caused them and delivered afterwards,
in order per conversation, retried with backoff until they succeed, so a Rasa or webhook outage loses nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from routing.escalations.models import OutboxItem
from routing.escalations.relay import RasaRelay
from routing.webhooks import notify_waiting

_ADDED = "outbox_added"
MAX_BACKOFF_SECONDS = 300


def enqueue(session: Session, kind: str, conversation_id: str, payload: dict[str, Any]) -> OutboxItem:
    """Store an outgoing call; it is sent once the session commits (see `bind_kick` and `deliver_due`)."""
    item = OutboxItem(kind=kind, conversation_id=conversation_id, payload=payload)
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


def _dispatch(item: OutboxItem, relay: RasaRelay) -> None:
    p = item.payload
    if item.kind == "agent_message":
        relay.send_agent_message(item.conversation_id, p["text"], p["agent_name"])
    elif item.kind == "end_handoff":
        relay.end_handoff(item.conversation_id, p["status"], p.get("disposition"))
    elif item.kind == "webhook":
        notify_waiting(relay.http, p["url"], p["escalation"])
    else:
        raise ValueError(f"unknown outbox kind {item.kind!r}")


def deliver_due(session: Session, relay: RasaRelay, now: datetime | None = None, limit: int = 50) -> int:
    """Send due items (oldest first, never overtaking an unsent earlier item of the same conversation).
    Returns how many were sent; failures are rescheduled with exponential backoff."""
    now = now or utcnow()
    items = list(session.scalars(
        select(OutboxItem).where(OutboxItem.sent_at.is_(None), OutboxItem.next_attempt_at <= now)
        .order_by(OutboxItem.id).limit(limit).with_for_update(skip_locked=True)))
    if not items:
        return 0
    convs = {i.conversation_id for i in items}
    pending: dict[str, list[int]] = {c: [] for c in convs}
    for conv, item_id in session.execute(
            select(OutboxItem.conversation_id, OutboxItem.id)
            .where(OutboxItem.sent_at.is_(None), OutboxItem.conversation_id.in_(convs)).order_by(OutboxItem.id)):
        pending[conv].append(item_id)
    sent = 0
    for item in items:
        queue = pending[item.conversation_id]
        if not queue or queue[0] != item.id:
            continue  # an earlier item of this conversation is not delivered yet
        try:
            _dispatch(item, relay)
        except Exception as exc:
            item.attempts += 1
            item.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            item.next_attempt_at = now + timedelta(seconds=min(2**item.attempts, MAX_BACKOFF_SECONDS))
            queue.clear()
            continue
        item.sent_at = utcnow()
        item.attempts += 1
        queue.pop(0)
        sent += 1
    session.commit()
    return sent
