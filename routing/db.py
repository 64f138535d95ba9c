"""The database: engine and session factories, schema migrations (Alembic). Nothing is created at import time;
sessions are scoped per request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from alembic import command
from alembic.config import Config
from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class Base(DeclarativeBase):
    """Declarative base of every routing-service model."""


def alembic_config(database_url: str) -> Config:
    """Alembic configuration pointing at this package's migrations and `database_url`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url)
    return cfg


def upgrade(database_url: str) -> None:
    """Create or migrate the database schema to the newest revision."""
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), "head")


DEFAULT_POOL_SIZE = 50  # Settings.db_pool_size (CONCIERGE_DB_POOL_SIZE)
MAX_OVERFLOW = 10  # beyond the requests admitted at once (routing/admission.py): background workers, live streams


def make_engine(url: str, pool_size: int = DEFAULT_POOL_SIZE) -> Engine:
    """An engine for `url` keeping up to `pool_size` connections (10 more for the background), opened as needed.

    A database error never quotes the statement's parameters (customers' emails and addresses), so logs and stored
    errors hold no personal data. SQLite gets WAL, foreign keys and a busy timeout for concurrent writers. A
    PostgreSQL connection is checked before each use (`pool_pre_ping`): one the server dropped (a restart,
    `pg_terminate_backend`, an idle timeout) is replaced instead of failing a request. libpq's GSSAPI encryption is
    off unless the URL asks for it (`?gssencmode=prefer`): probing for Kerberos credentials on every connect is
    what crashes libpq in threaded clients (psycopg#1213, ruby-pg#311), and a crashed process takes every request
    in it down.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=pool_size,
                               max_overflow=MAX_OVERFLOW, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    connect_args = {} if "gssencmode" in make_url(url).query else {"gssencmode": "disable"}
    return create_engine(url, pool_size=pool_size, max_overflow=MAX_OVERFLOW, pool_pre_ping=True,
                         connect_args=connect_args, hide_parameters=True)


@contextmanager
def command_session(database_url: str) -> Iterator[Session]:
    """A session for one command-line command, on an engine of its own that is disposed however the command ends.
    The command commits what it keeps (or wraps its work in `session.begin()`)."""
    engine = make_engine(database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()


def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Yield one session, commit on success, roll back on error (FastAPI dependency body)."""
    session = factory()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


def get_session(request: Request) -> Iterator[Session]:
    """FastAPI dependency: one session per request, from the app's sessionmaker."""
    yield from session_scope(request.app.state.sessions)


# Function scope: the session commits when the endpoint returns, before the response is sent, so a client that
# was told "done" can read its write at once (FastAPI's default request scope would commit after the response).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
