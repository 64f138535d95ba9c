"""One replica at a time: a PostgreSQL advisory lock held on a connection of its own.

Work that must not run on two routing replicas at once (the queue updates: each replica would tell a waiting
customer the same news) asks `Leadership.held()` before each round. The first replica to ask takes the lock; when
its process dies, PostgreSQL ends its connection and releases the lock, and the next round of another replica takes
it. SQLite is one process's database (the embedded mode): always held.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

QUEUE_UPDATES = 0x436F6E63  # "Conc": the lock of the queue-update round


class Leadership:
    """Whether this process holds the advisory lock `key` (taken on first ask, kept until the process ends)."""

    def __init__(self, engine: Engine, key: int) -> None:
        self.engine = engine
        self.key = key
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    def held(self) -> bool:
        """True when this process holds the lock (taking it when free); checks that the holding connection lives."""
        if self.engine.dialect.name != "postgresql":
            return True
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT 1")).scalar_one()
                    self._conn.commit()
                    return True
                except DBAPIError:
                    log.warning("lost the connection holding advisory lock %d; asking again", self.key)
                    self._release()
            conn = self.engine.connect()
            try:
                taken = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar_one())
                conn.commit()  # a session-level lock outlives the transaction that took it
            except BaseException:
                conn.close()
                raise
            if not taken:
                conn.close()
                return False
            log.info("this replica now runs the work of advisory lock %d", self.key)
            self._conn = conn
            return True

    def _release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()  # never back to the pool: the server side may still hold the lock
                self._conn.close()
            except DBAPIError:
                pass
            self._conn = None

    def close(self) -> None:
        """Give the lock up (at shutdown): another replica's next round takes it."""
        with self._lock:
            self._release()
