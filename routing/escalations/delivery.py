"""Sending the outbox: the due head of every lane, in parallel on a bounded pool of threads, one item per lane at a
time. Rasa calls and queue webhooks have separate slots, so slow webhook receivers cannot take every sender;
each outcome is committed as soon as it is known (see routing.escalations.outbox for the storage side)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from routing.escalations import outbox
from routing.escalations.outbox import Claimed
from routing.escalations.rating_keys import rating_key
from routing.escalations.relay import RasaRelay
from routing.webhooks import notify_waiting

log = logging.getLogger(__name__)
DB_CONNECTIONS = 4  # senders storing outcomes at once: the outbox stays within the pool's room for the background


def relay_key(item_id: int) -> str:
    """The key of outbox item `item_id` in Rasa's tracker (unique within one routing database)."""
    return f"outbox:{item_id}"


def send(item: Claimed, relay: RasaRelay, csat_secret: str) -> None:
    """One attempt at one item (a single HTTP call: the outbox itself retries, with back-off). Calls to Rasa carry
    the item's key, so that an attempt repeated after a lost answer is not applied twice (bot_runtime/relay_once.py).
    The end of a chat with a person carries the customer's rating key too (signed with `csat_secret` here, so that
    the outbox table never holds a working key)."""
    p = item.payload
    if item.kind == "agent_message":
        relay.send_agent_message(item.conversation_id, p["text"], p["agent_name"], attempts=1,
                                 relay_id=relay_key(item.id))
    elif item.kind == "end_handoff":
        escalation_id = p.get("escalation_id")  # set when a person ended the chat (none for an expiry)
        key = rating_key(csat_secret, escalation_id, item.conversation_id) if isinstance(escalation_id, int) else None
        relay.end_handoff(item.conversation_id, p["status"], p.get("disposition"), attempts=1,
                          relay_id=relay_key(item.id), rating_key=key)
    elif item.kind == outbox.WEBHOOK:
        notify_waiting(relay.http, p["url"], p["escalation"], attempts=1)
    else:
        raise ValueError(f"unknown outbox kind {item.kind!r}")


def _nothing() -> None:
    pass


class OutboxDelivery:
    """Delivers due outbox items: `start_due` (non-blocking, called by the worker on every kick and poll) or
    `drain` (sends until nothing is due, then returns; for commands and tests).

    `parallel` items to Rasa and `parallel // 2` (at least 1) webhook calls may be on the wire at once; `on_done` is
    called (from a sender thread) after each outcome is committed, so that the next item of the lane starts at once.
    `csat_secret` signs the customers' rating keys (CONCIERGE_CSAT_SECRET).
    """

    def __init__(self, sessions: sessionmaker[Session], relay: RasaRelay, max_attempts: int, parallel: int,
                 on_done: Callable[[], None] = _nothing, *, csat_secret: str) -> None:
        self.sessions, self.relay, self.max_attempts, self.on_done = sessions, relay, max_attempts, on_done
        self.csat_secret = csat_secret
        self.slots = {False: max(parallel, 1), True: max(parallel // 2, 1)}  # webhooks? -> slots
        self._pool = ThreadPoolExecutor(max_workers=sum(self.slots.values()), thread_name_prefix="outbox")
        self._lock = threading.Lock()
        self._busy: dict[str, bool] = {}  # lane on the wire -> is it a webhook lane
        self._db = threading.BoundedSemaphore(DB_CONNECTIONS)

    def start_due(self, now: datetime | None = None) -> int:
        """Claim the due heads of idle lanes (as many as there are free slots) and start sending them; returns how
        many were started. Thread-safe."""
        return len(self._start(now))

    def _start(self, now: datetime | None) -> list[Future[bool]]:
        started = []
        for webhooks, slots in self.slots.items():
            with self._lock:
                busy = set(self._busy)
                free = slots - sum(1 for w in self._busy.values() if w == webhooks)
            if free <= 0:
                continue
            with self.sessions() as session:
                claimed = outbox.claim_heads(session, now or utcnow(), free, webhooks, busy)
                session.commit()
            for item in claimed:
                with self._lock:
                    self._busy[item.lane] = webhooks
                started.append(self._pool.submit(self._deliver, item, now))
        return started

    def _deliver(self, item: Claimed, now: datetime | None) -> bool:
        """Send one item and commit its outcome; True when it was delivered."""
        try:
            try:
                send(item, self.relay, self.csat_secret)
                error = None
            except Exception as exc:  # any failure of one item is that item's, never the round's
                error = f"{type(exc).__name__}: {exc}"
            with self._db, self.sessions() as session:
                if error is None:
                    outbox.record_sent(session, item, now or utcnow())
                else:
                    outbox.record_failure(session, item, error, now or utcnow(), self.max_attempts)
                session.commit()
            return error is None
        except Exception:
            log.exception("outbox item %d: its outcome could not be stored; it is retried after its lease", item.id)
            return False
        finally:
            with self._lock:
                self._busy.pop(item.lane, None)
            self.on_done()

    def drain(self, now: datetime | None = None) -> int:
        """Send everything that is due, lane by lane in parallel, and wait; returns how many items were delivered.
        With `now` fixed, each item is tried at most once (a failure is due again only after its back-off)."""
        delivered, running = 0, set[Future[bool]]()
        while True:
            running |= set(self._start(now))
            if not running:
                return delivered
            done, running = wait(running, return_when=FIRST_COMPLETED)
            delivered += sum(1 for future in done if future.result())

    def close(self) -> None:
        """Stop taking items and wait for the ones on the wire (each ends within one HTTP timeout)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
