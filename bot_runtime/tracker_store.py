"""The embedded (default) tracker store: Rasa's SQLTrackerStore on a SQLite file, with pooled connections and WAL.

Rasa opens a new SQLite connection for every read and every write (SQLAlchemy 1.4 gives SQLite files a NullPool),
commits in rollback-journal mode with a full sync, and rebuilds its ORM queries for every message. This store keeps
Rasa's table, event format and query semantics (so every reader of the file still works: the latest session's events
are those from its `session_started` timestamp on) but reuses connections, writes in WAL mode with
synchronous=NORMAL (a commit survives a crash of any process; only a power loss can undo the last commits), runs the
per-message reads as two prepared statements, and writes a message's new events as the rows Rasa writes in one
executemany INSERT, not through ORM objects (whose unit of work was 0.75 ms of the 1.8 ms a save took).
Use in endpoints.yml as `type: bot_runtime.tracker_store.SQLiteTrackerStore` with `db: <file>`.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.pool import QueuePool

from bot_runtime.token_redaction import redacted

PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")


def _apply_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def latest_session_filter(events: sa.Table) -> Any:
    """Rasa's condition for the latest session: from the newest `session_started` timestamp on (else everything)."""
    session_start = (
        sa.select(sa.func.max(events.c.timestamp))
        .where(events.c.sender_id == sa.bindparam("sender_id"), events.c.type_name == SessionStarted.type_name)
        .scalar_subquery()
    )
    return sa.or_(events.c.timestamp >= session_start, session_start.is_(None))


def _row(sender_id: str, event: Event) -> dict[str, Any]:
    """The events table's row of one event, as `SQLTrackerStore.save` makes it."""
    data = event.as_dict()
    return {"sender_id": sender_id, "type_name": event.type_name, "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"), "data": json.dumps(data)}


class SQLiteTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store on the SQLite file `db`, reusing its connections, in WAL mode."""

    def __init__(
        self,
        domain: Domain | None = None,
        db: str = "rasa.db",
        event_broker: EventBroker | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("host", None)  # Rasa passes the endpoint's `url` (none for a file database)
        super().__init__(domain, dialect="sqlite", db=db, event_broker=event_broker, **kwargs)
        rasa_engine: Any = self.engine
        url = rasa_engine.url
        rasa_engine.dispose()
        # one connection at a time per checkout; Rasa may touch the store from more than one thread
        self.engine: Any = sa.create_engine(url, poolclass=QueuePool, connect_args={"check_same_thread": False})
        sa.event.listen(self.engine, "connect", _apply_pragmas)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        events = self.SQLEvent.__table__
        of_sender = events.c.sender_id == sa.bindparam("sender_id")
        self._latest_session_data = (
            sa.select(events.c.data).where(of_sender, latest_session_filter(events)).order_by(events.c.id)
        )
        self._latest_session_count = sa.select(sa.func.count()).where(of_sender, latest_session_filter(events))
        self._insert = events.insert()

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The tracker of the conversation's latest session (None when the conversation is unknown)."""
        with self.session_scope() as session:
            rows = session.execute(self._latest_session_data, {"sender_id": sender_id}).scalars().all()
        if not self.domain or not rows:
            return None
        return DialogueStateTracker.from_dict(sender_id, [json.loads(data) for data in rows], self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events of the tracker's latest session not stored yet: the rows Rasa's save writes (the event
        as JSON, its type, timestamp, intent and action names), tokens redacted, in one transaction."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            stored = session.execute(self._latest_session_count, {"sender_id": tracker.sender_id}).scalar_one()
            rows = [_row(tracker.sender_id, event)
                    for event in redacted(itertools.islice(tracker.events, stored, len(tracker.events)))]
            if rows:
                session.execute(self._insert, rows)
            session.commit()
