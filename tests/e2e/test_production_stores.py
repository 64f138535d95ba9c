"""The production endpoints: Rasa on the real PostgreSQL tracker store, Redis lock store and RabbitMQ broker."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import replace

import httpx
import psycopg
import pytest

from launcher.ports import free_base_port
from launcher.settings import ROOT, StackSettings
from launcher.stack import Stack

pytestmark = [pytest.mark.postgres, pytest.mark.stack]

TRACKER_DB = f"concierge_test_tracker_{os.getpid()}"
QUEUE = f"concierge_test_{uuid.uuid4().hex[:6]}"
PRODUCTION_ENV = {
    "CONCIERGE_TRACKER_PG_HOST": "127.0.0.1",
    "CONCIERGE_TRACKER_PG_PORT": "5432",
    "CONCIERGE_TRACKER_PG_USER": "postgres",
    "CONCIERGE_TRACKER_PG_PASSWORD": "",
    "CONCIERGE_TRACKER_PG_DB": TRACKER_DB,
    "CONCIERGE_TRACKER_PG_LOGIN_DB": "postgres",
    "CONCIERGE_REDIS_HOST": "127.0.0.1",
    "CONCIERGE_REDIS_PORT": "6379",
    "CONCIERGE_REDIS_DB": "3",
    "CONCIERGE_RABBITMQ_HOST": "127.0.0.1",
    "CONCIERGE_RABBITMQ_USER": "guest",
    "CONCIERGE_RABBITMQ_PASSWORD": "guest",
    "CONCIERGE_RABBITMQ_QUEUE": QUEUE,
}


@pytest.fixture(scope="module")
def production_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackSettings]:
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TRACKER_DB}" WITH (FORCE)')
    saved = {k: os.environ.get(k) for k in PRODUCTION_ENV}
    os.environ.update(PRODUCTION_ENV)
    var_dir = tmp_path_factory.mktemp("prod-var")
    settings = replace(
        StackSettings().with_ports(free_base_port(18000, 19000), var_dir),
        endpoints=ROOT / "deploy" / "endpoints.production.yml",
        demo_customers=200,
    )
    try:
        with open(var_dir / "stack.log", "w") as log, Stack(settings, log=log):
            yield settings
    finally:
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{TRACKER_DB}" WITH (FORCE)')
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_conversation_is_stored_in_postgresql_and_published(production_stack: StackSettings) -> None:
    sender = f"prod-{uuid.uuid4().hex[:8]}"
    reply = httpx.post(f"{production_stack.rasa_url}/webhooks/rest/webhook",
                       json={"sender": sender, "message": "hello"}, timeout=30)
    reply.raise_for_status()
    assert reply.json(), "the bot answered nothing"

    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={TRACKER_DB}") as conn:
        types = [row[0] for row in conn.execute(
            "SELECT type_name FROM events WHERE sender_id = %s ORDER BY id", (sender,))]
    assert "user" in types and "bot" in types

    if shutil.which("rabbitmqctl"):
        listing = subprocess.run(["rabbitmqctl", "list_queues", "name", "messages", "-q"],
                                 capture_output=True, text=True, timeout=60).stdout
        counts = dict(line.split() for line in listing.splitlines() if line.startswith(QUEUE))
        assert int(counts.get(QUEUE, 0)) > 0, listing
