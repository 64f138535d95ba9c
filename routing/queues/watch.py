"""Keeps waiting customers informed: their place in line, the expected wait, and their team closing.

A background round (routing.workers) looks at every waiting escalation; when a customer's place, expected
wait (in whole minutes) or their queue's open state differs from the last round, the customer's conversation is
told through the relay, and the bot's `action_queue_update` refreshes the widget (and says so when the team has
just closed). Only changes are sent; the first sighting of an escalation counts as one, because the queue may have
moved between the bot's announcement and that round.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from routing.policy.definition import Policy
from routing.queues.service import average_handle_seconds, estimate_wait, online_capacity, waiting_in_order

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WaitingState:
    """What a waiting customer was last told."""

    position: int
    wait_minutes: int | None
    open: bool


@dataclass(frozen=True)
class QueueChange:
    """A conversation to update: "moved" (place or wait changed) or "closed" (the team closed while waiting)."""

    conversation_id: str
    event: str


class QueueWatcher:
    """Finds the waiting customers whose situation changed since the previous round."""

    def __init__(self) -> None:
        self._last: dict[int, WaitingState] = {}

    def changes(self, session: Session, policy: Policy, now: datetime) -> list[QueueChange]:
        """Compare every waiting escalation with the previous round; remember this round."""
        seen: dict[int, WaitingState] = {}
        found: list[QueueChange] = []
        for queue in policy.queues:
            waiting = waiting_in_order(session, queue.name, policy, now)
            if not waiting:
                continue
            is_open = queue.business_hours.is_open(now)
            online, free = online_capacity(session, queue.name)
            handle = average_handle_seconds(session, queue.name)
            for position, esc in enumerate(waiting, start=1):
                eta = estimate_wait(position, online, free, handle) if is_open else None
                state = WaitingState(position, None if eta is None else math.ceil(eta / 60), is_open)
                seen[esc.id] = state
                before = self._last.get(esc.id)
                if before == state:
                    continue
                closing = before is not None and before.open and not is_open
                found.append(QueueChange(esc.conversation_id, "closed" if closing else "moved"))
        self._last = seen
        return found


def notify_changes(changes: list[QueueChange], send: Callable[[str, str], None]) -> int:
    """Send each change (best effort: a failure is logged, the next change sends a fresh update)."""
    sent = 0
    for change in changes:
        try:
            send(change.conversation_id, change.event)
            sent += 1
        except Exception:
            log.warning("queue update for %s not delivered", change.conversation_id, exc_info=True)
    return sent
