"""Order look-ups scoped to their owner, and order changes that recompute the owner's tier incrementally."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.customers.models import Customer
from routing.orders.models import Order, OrderItem
from routing.orders.schemas import OrderIn, OrderUpdate
from routing.policy.schema import Policy
from routing.tiers import service as tiers


class OrderError(ValueError):
    """The order cannot be created or changed as asked; `field` names the offending input field."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def list_orders(session: Session, customer_id: int, limit: int = 5) -> list[Order]:
    """A customer's newest orders first."""
    query = (select(Order).where(Order.customer_id == customer_id)
             .order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit))
    return list(session.scalars(query))


def get_customer_order(session: Session, customer_id: int, number: str) -> Order | None:
    """The order `number` only if it belongs to `customer_id`."""
    return session.scalar(select(Order).where(Order.number == number.strip(), Order.customer_id == customer_id))


def create_order(session: Session, policy: Policy, data: OrderIn) -> Order:
    """Insert an order for an existing customer and recompute that customer's tier."""
    customer_id = session.scalar(select(Customer.id).where(Customer.external_id == data.customer_external_id))
    if customer_id is None:
        raise OrderError(f"unknown customer {data.customer_external_id!r}", "customer_external_id")
    if session.scalar(select(Order.id).where(Order.number == data.number)) is not None:
        raise OrderError(f"order {data.number!r} already exists", "number")
    values = data.model_dump(exclude={"customer_external_id", "items"})
    order = Order(**values, customer_id=customer_id, items=[OrderItem(**i.model_dump()) for i in data.items])
    session.add(order)
    session.flush()
    tiers.recompute_customer(session, policy, customer_id)
    return order


def update_order(session: Session, policy: Policy, number: str, changes: OrderUpdate) -> Order:
    """Apply the given changes and recompute the owner's tier."""
    order = session.scalar(select(Order).where(Order.number == number))
    if order is None:
        raise OrderError(f"unknown order {number!r}", "order_number")
    for key, value in changes.model_dump(exclude_unset=True).items():
        setattr(order, key, value)
    session.flush()
    tiers.recompute_customer(session, policy, order.customer_id)
    return order
