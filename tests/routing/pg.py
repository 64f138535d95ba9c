"""Private PostgreSQL databases for one test run (named with the process id, so parallel runs never collide)."""

from __future__ import annotations

import os

import psycopg
import pytest
from psycopg import sql

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def fresh_database(prefix: str) -> tuple[str, str]:
    """Create an empty database `<prefix>_<pid>`; returns (name, SQLAlchemy URL). Fails clearly without a server."""
    name = f"{prefix}_{os.getpid()}"
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is required for the postgres half of the tests: {exc}")
    return name, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop_database(name: str) -> None:
    """Remove a database made by fresh_database."""
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
