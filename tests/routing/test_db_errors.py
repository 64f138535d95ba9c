"""A database error never quotes the statement's parameters: they are customers' personal data, and errors end up
in logs and in stored delivery errors."""

from __future__ import annotations

import threading

import httpx
import pytest
from conftest import SERVICE_TOKEN
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from launcher.in_thread import serve_in_thread
from routing.customers.models import Customer
from routing.orders.models import Order
from routing.settings import Settings

EMAIL = "jane.private@example.org"
SYNCS = 8


def test_a_constraint_error_names_the_statement_but_not_the_customers_data(engine: Engine,
                                                                         db: sessionmaker[Session]) -> None:
    row = {"external_id": "shop-1", "name": "Jane Private", "email": EMAIL, "email_lower": EMAIL}
    with engine.begin() as conn:
        conn.execute(insert(Customer), row)
    with pytest.raises(IntegrityError) as caught, engine.begin() as conn:
        conn.execute(insert(Customer), {**row, "external_id": "shop-2"})  # the same email again
    message = str(caught.value)
    assert "INSERT INTO customers" in message and "[SQL parameters hidden" in message
    # PostgreSQL's own detail names the duplicated key's value, so the API never answers or logs a message
    assert "Jane Private" not in message


def test_the_same_order_synced_twice_at_once_is_created_once_and_the_others_get_409(
        settings: Settings, demo_db: sessionmaker[Session]) -> None:
    from routing.app import create_app

    body = {"number": "RACE-1", "customer_external_id": "demo-bronze", "status": "placed",
            "placed_at": utcnow().isoformat(), "total_cents": 500}
    statuses: list[int] = []
    with serve_in_thread(create_app(settings)) as base:
        start = threading.Barrier(SYNCS)

        def sync() -> None:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}, timeout=30) as c:
                start.wait()
                statuses.append(c.post("/api/v1/orders", json=body).status_code)

        threads = [threading.Thread(target=sync) for _ in range(SYNCS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert sorted(statuses) == [201] + [409] * (SYNCS - 1)
    with demo_db() as session:
        assert session.scalar(select(func.count()).select_from(Order).where(Order.number == "RACE-1")) == 1
