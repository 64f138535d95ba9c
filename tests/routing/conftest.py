"""Shared fixtures of the routing-service tests: every DB test runs on SQLite (temp file) and the real PostgreSQL."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pg import drop_database, fresh_database  # noqa: E402

import routing.models  # noqa: E402,F401
from routing.db import (  # noqa: E402
    Base,
    make_engine,
    upgrade,
)
from routing.policy.definition import Policy  # noqa: E402
from routing.policy.loader import load_policy  # noqa: E402
from routing.settings import Settings  # noqa: E402

# a session running beside another (a second checkout) sets CONCIERGE_TEST_DB_SUFFIX to keep its own databases
PG_DB = "concierge_test_routing1" + os.environ.get("CONCIERGE_TEST_DB_SUFFIX", "")
SERVICE_TOKEN = "test-service-token"
IDENTITY_SECRET = "test-identity-secret-of-32-bytes-or-more"
DEMO_NOW = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database per backend (`routing.db.upgrade`), shared by the session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('routing-db') / 'routing.db'}"
        upgrade(url)
        yield url
        return
    name, url = fresh_database(PG_DB)
    upgrade(url)
    yield url
    drop_database(name)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: Engine) -> sessionmaker[Session]:
    """A sessionmaker on an emptied database (every table of Base.metadata wiped before the test)."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
    return sessionmaker(engine, expire_on_commit=False)


@pytest.fixture(scope="session")
def demo_now() -> datetime:
    """The fixed "now" of the demo shop used by the tests."""
    return DEMO_NOW


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy(ROOT / "routing" / "policy.yml")


@pytest.fixture
def demo_db(db: sessionmaker[Session], policy: Policy) -> sessionmaker[Session]:
    """The database with a small deterministic demo shop (300 customers + the 4 demo accounts) and tiers."""
    from routing.demo import load_demo

    with db.begin() as session:
        load_demo(session, policy, 300, seed=42, now=DEMO_NOW)
    return db


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(env="development", database_url=database_url, service_token=SERVICE_TOKEN,
                    identity_secret=IDENTITY_SECRET)


@pytest.fixture
def client(settings: Settings, demo_db: sessionmaker[Session]) -> Iterator[TestClient]:
    """The app on the demo database; requests carry the service token unless a test overrides the header."""
    from routing.app import create_app

    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}) as test_client:
        yield test_client


# ---- human support: hs_* fixtures, defined in fixtures_human_support.py ---------------------------
from fixtures_human_support import (  # noqa: E402,F401
    hs_app,
    hs_client,
    hs_database_url,
    hs_db_url,
    hs_pg_url,
    hs_policy,
    hs_recorder,
    hs_sessions,
)
