"""Customer look-ups (one indexed query each, tier row joined) and creation."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from clock import utcnow
from routing.customers.models import Customer
from routing.customers.schemas import CustomerIn
from routing.errors import NotFound
from routing.orders.models import Order
from routing.orders.service import list_orders
from routing.policy.definition import Policy
from routing.tiers import service as tiers
from routing.tiers.models import CustomerTier

CustomerWithTier = tuple[Customer, CustomerTier | None]



class CustomerNotFound(NotFound):
    """No such customer."""

    detail = "No such customer."

def _with_tier() -> Select[tuple[Customer, CustomerTier]]:
    return select(Customer, CustomerTier).outerjoin(CustomerTier, CustomerTier.customer_id == Customer.id)


def _one(session: Session, query: Select[tuple[Customer, CustomerTier]]) -> CustomerWithTier | None:
    row = session.execute(query).first()
    return (row[0], row[1]) if row else None


def get_customer(session: Session, customer_id: int) -> CustomerWithTier | None:
    """By internal id."""
    return _one(session, _with_tier().where(Customer.id == customer_id))


def get_by_external_id(session: Session, external_id: str) -> CustomerWithTier | None:
    """By the shop's verified login id."""
    return _one(session, _with_tier().where(Customer.external_id == external_id))


def get_by_email(session: Session, email: str) -> CustomerWithTier | None:
    """By email, case-insensitive."""
    return _one(session, _with_tier().where(Customer.email_lower == email.strip().lower()))


def get_by_order_number(session: Session, order_number: str) -> CustomerWithTier | None:
    """The owner of an order."""
    query = _with_tier().join(Order, Order.customer_id == Customer.id).where(Order.number == order_number.strip())
    return _one(session, query)


def create_customer(session: Session, policy: Policy, data: CustomerIn) -> Customer:
    """Insert a customer and compute its (initial) tier."""
    values = data.model_dump()
    values["created_at"] = values["created_at"] or utcnow()
    customer = Customer(**values, email_lower=data.email.lower())
    session.add(customer)
    session.flush()
    tiers.recompute_customer(session, policy, customer.id)
    return customer


def agent_panel(session: Session, customer_id: int, recent: int = 5) -> dict[str, object] | None:
    """Name, contact, lifetime value and the `recent` newest orders of one customer, for the agent handling that
    customer's escalation (the caller checks the agent may see it); None for an unknown customer."""
    found = get_customer(session, customer_id)
    if found is None:
        return None
    customer, tier = found
    return {"name": customer.name, "email": customer.email,
            "lifetime_value": round(tier.clv, 2) if tier else None,
            "lifetime_spend_cents": tier.revenue_total_cents if tier else None,
            "orders_total": tier.orders_total if tier else None,
            "recent_orders": list_orders(session, customer_id, limit=recent)}
