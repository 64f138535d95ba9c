"""A failure while reading or saving one conversation is that turn's failure, never the Rasa process's exit.

Rasa 3.6's `SQLTrackerStore.session_scope` turns every `ValueError` raised inside it into `print_error_and_exit`,
because the one it meant is its check that a configured PostgreSQL schema exists. But `UnicodeEncodeError` and
`json` errors are `ValueError`s too: one message whose metadata could not be encoded ended the process for every
customer (and, under load, left it half-stopped so that the launcher could not restart it). `install()` keeps the
exit for the schema check alone, where it belongs (a configuration error at start-up), and lets any other error
propagate to the channel, which fails that one turn (REST answers it with no messages, socket.io with `refused`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import rasa.shared.utils.cli
from rasa.core import tracker_store
from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy.orm import Session

_installed: list[bool] = []


@contextlib.contextmanager
def session_scope(self: SQLTrackerStore) -> Iterator[Session]:
    """Rasa's transactional scope, exiting only when the configured PostgreSQL schema is missing."""
    session: Any = self.sessionmaker()
    try:
        try:
            tracker_store.ensure_schema_exists(session)
        except ValueError as missing:
            rasa.shared.utils.cli.print_error_and_exit(
                f"Requested PostgreSQL schema '{missing}' was not found in the database. Create it or unset "
                f"{tracker_store.POSTGRESQL_SCHEMA}. Exiting application.")
        yield session
    finally:
        session.close()


def install() -> None:
    """Replace `SQLTrackerStore.session_scope` (idempotent; the embedded SQLite store inherits it)."""
    if _installed:
        return
    _installed.append(True)
    SQLTrackerStore.session_scope = session_scope
