"""All-or-nothing CSV import of customers and orders with a per-row error report (line, column, reason).

customers.csv columns: external_id,name,email[,phone,address_line,city,postal_code,country,created_at,support_contacts]
orders.csv columns: number,customer_external_id,status,placed_at,total[,currency,shipped_at,delivered_at,carrier,
tracking_number,return_status,refund_status,refund_amount,invoice_number,shipping_address]  (amounts like 123.45)
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from clock import utcnow
from routing.customers.models import Customer
from routing.customers.schemas import CustomerIn
from routing.orders.models import Order
from routing.orders.schemas import OrderIn
from routing.policy.definition import Policy
from routing.tiers import service as tiers

CUSTOMER_REQUIRED = ("external_id", "name", "email")
ORDER_REQUIRED = ("number", "customer_external_id", "status", "placed_at", "total")
MONEY_COLUMNS = {"total": "total_cents", "refund_amount": "refund_cents"}


@dataclass(frozen=True)
class RowError:
    """One problem: file, line number (header = line 1), column, reason."""

    file: str
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.column}: {self.reason}"


@dataclass
class ImportReport:
    """What was imported, or why nothing was."""

    customers: int = 0
    orders: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _cents(value: str) -> int:
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError("not an amount like 123.45") from exc
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError("must be a non-negative amount with at most 2 decimals")
    return int(amount * 100)


def _rows(path: Path, required: tuple[str, ...], report: ImportReport) -> list[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            report.errors.append(RowError(path.name, 1, ",".join(missing), "missing required column(s)"))
            return []
        return [(reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}) for row in reader]


def _validate(model: type[BaseModel], file: str, line: int, raw: dict[str, str], report: ImportReport
              ) -> BaseModel | None:
    values: dict[str, Any] = {k: v for k, v in raw.items() if v != ""}
    for column, target in MONEY_COLUMNS.items():
        if column in values and model is OrderIn:
            try:
                values[target] = _cents(values.pop(column))
            except ValueError as exc:
                report.errors.append(RowError(file, line, column, str(exc)))
                return None
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        for err in exc.errors():
            column = {v: k for k, v in MONEY_COLUMNS.items()}.get(str(err["loc"][0]), str(err["loc"][0]))
            report.errors.append(RowError(file, line, column, err["msg"]))
        return None


def import_csv(session: Session, policy: Policy, customers_csv: Path | None, orders_csv: Path | None
               ) -> ImportReport:
    """Validate both files completely; insert everything (and recompute tiers) only if no row has an error."""
    report = ImportReport()
    customers: list[CustomerIn] = []
    orders: list[OrderIn] = []
    known_ids = set(session.scalars(select(Customer.external_id)))
    known_emails = set(session.scalars(select(Customer.email_lower)))
    if customers_csv:
        for line, raw in _rows(customers_csv, CUSTOMER_REQUIRED, report):
            row = _validate(CustomerIn, customers_csv.name, line, raw, report)
            if not isinstance(row, CustomerIn):
                continue
            if row.external_id in known_ids:
                report.errors.append(RowError(customers_csv.name, line, "external_id", "duplicate external_id"))
            elif row.email.lower() in known_emails:
                report.errors.append(RowError(customers_csv.name, line, "email", "duplicate email"))
            else:
                known_ids.add(row.external_id)
                known_emails.add(row.email.lower())
                customers.append(row)
    if orders_csv:
        numbers = set(session.scalars(select(Order.number)))
        for line, raw in _rows(orders_csv, ORDER_REQUIRED, report):
            row = _validate(OrderIn, orders_csv.name, line, raw, report)
            if not isinstance(row, OrderIn):
                continue
            if row.customer_external_id not in known_ids:
                report.errors.append(RowError(orders_csv.name, line, "customer_external_id", "unknown customer"))
            elif row.number in numbers:
                report.errors.append(RowError(orders_csv.name, line, "number", "duplicate order number"))
            else:
                numbers.add(row.number)
                orders.append(row)
    if report.errors:
        return report
    now = utcnow()
    if customers:
        session.execute(insert(Customer), [
            {**c.model_dump(), "created_at": c.created_at or now, "email_lower": c.email.lower()} for c in customers])
    if orders:
        ids = dict(session.execute(select(Customer.external_id, Customer.id)).tuples().all())
        session.execute(insert(Order), [
            {**o.model_dump(exclude={"customer_external_id", "items"}), "customer_id": ids[o.customer_external_id]}
            for o in orders])
    session.flush()
    tiers.recompute_all(session, policy)
    report.customers, report.orders = len(customers), len(orders)
    return report
