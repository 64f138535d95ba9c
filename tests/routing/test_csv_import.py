"""CSV import: per-row errors with line/column/reason, nothing half-imported."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from routing.csv_import import import_csv
from routing.customers.models import Customer
from routing.orders.models import Order
from routing.policy.definition import Policy
from routing.tiers.models import CustomerTier

CUSTOMERS = """external_id,name,email,country,created_at
shop-1,Ann Lee,ann@example.com,US,2024-01-05
shop-2,Bob Ray,bob@example.com,US,2024-03-01T10:00:00+02:00
"""
ORDERS = """number,customer_external_id,status,placed_at,total,refund_status,refund_amount
S-1,shop-1,delivered,2026-09-01,120.50,,
S-2,shop-1,returned,2026-10-01,80.00,refunded,80.00
S-3,shop-2,placed,2026-11-01T09:00:00Z,19.99,,
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def counts(session: Session) -> tuple[int, int]:
    return (session.scalar(select(func.count()).select_from(Customer)) or 0,
            session.scalar(select(func.count()).select_from(Order)) or 0)


def test_good_files_import_and_get_tiers(db: sessionmaker[Session], policy: Policy, tmp_path: Path) -> None:
    with db.begin() as session:
        report = import_csv(session, policy, write(tmp_path, "c.csv", CUSTOMERS), write(tmp_path, "o.csv", ORDERS))
        assert report.ok and (report.customers, report.orders) == (2, 3)
    with db() as session:
        assert counts(session) == (2, 3)
        ann = session.scalar(select(Customer).where(Customer.external_id == "shop-1"))
        assert ann is not None and ann.email_lower == "ann@example.com"
        tier = session.get(CustomerTier, ann.id)
        assert tier is not None and tier.revenue_total_cents == 12050
        total = session.scalar(select(Order.total_cents).where(Order.number == "S-1"))
        assert total == 12050


def test_bad_rows_are_reported_and_nothing_is_imported(db: sessionmaker[Session], policy: Policy,
                                                        tmp_path: Path) -> None:
    bad_customers = CUSTOMERS + "shop-3,Cy,not-an-email,US,\nshop-1,Dup,dup@example.com,US,\n"
    bad_orders = ORDERS + ("S-4,shop-9,delivered,2026-01-01,10.00,,\n"
                           "S-5,shop-2,lost,2026-01-01,10.00,,\n"
                           "S-6,shop-2,delivered,2026-01-01,12.345,,\n"
                           "S-1,shop-2,delivered,2026-01-01,1.00,,\n")
    with db.begin() as session:
        report = import_csv(session, policy, write(tmp_path, "c.csv", bad_customers),
                            write(tmp_path, "o.csv", bad_orders))
        problems = {(e.file, e.line, e.column) for e in report.errors}
        assert problems == {("c.csv", 4, "email"), ("c.csv", 5, "external_id"),
                            ("o.csv", 5, "customer_external_id"), ("o.csv", 6, "status"),
                            ("o.csv", 7, "total"), ("o.csv", 8, "number")}
        assert all(e.reason for e in report.errors)
        assert "o.csv:5: customer_external_id: unknown customer" in [str(e) for e in report.errors]
    with db() as session:
        assert counts(session) == (0, 0)


def test_missing_required_column(db: sessionmaker[Session], policy: Policy, tmp_path: Path) -> None:
    with db.begin() as session:
        report = import_csv(session, policy, write(tmp_path, "c.csv", "external_id,name\nx,y\n"), None)
    assert [(e.line, e.column) for e in report.errors] == [(1, "email")]
