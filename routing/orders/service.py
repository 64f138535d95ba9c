"""Order look-ups scoped to their owner, and order changes that recompute the owner's tier incrementally."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.customers.models import Customer
from routing.errors import Conflict, InvalidField, NotFound
from routing.orders.models import Order, OrderItem
from routing.orders.schemas import OrderIn, OrderUpdate
from routing.policy.definition import Policy
from routing.tiers import service as tiers


class OrderNotFound(NotFound):
    """No such order, or not this customer's (the same answer: nobody learns of others' orders)."""

    detail = "No such order for this customer."


class OrderConflict(Conflict):
    """The order is in a state that does not allow the change; the message says why, for the customer."""


@dataclass(frozen=True)
class StartedReturn:
    """A return that was started (or had been already): its reference and the last day to send the items."""

    order: Order
    reference: str
    send_back_by: date


def list_orders(session: Session, customer_id: int, limit: int = 5) -> list[Order]:
    """A customer's newest orders first."""
    query = (select(Order).where(Order.customer_id == customer_id)
             .order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit))
    return list(session.scalars(query))


def owned_order(session: Session, customer_id: int, number: str, lock: bool = False) -> Order:
    """The order `number` only if it belongs to `customer_id`, else OrderNotFound; `lock` holds its row until the
    transaction ends."""
    query = select(Order).where(Order.number == number.strip(), Order.customer_id == customer_id)
    order = session.scalar(query.with_for_update() if lock else query)
    if order is None:
        raise OrderNotFound()
    return order


def _not_changeable(order: Order, change: str) -> str:
    """Why `change` is no longer possible for an order that has left the warehouse or was closed."""
    match order.status:
        case "shipped":
            return f"Order {order.number} has already shipped, so {change} is no longer possible."
        case "delivered":
            return f"Order {order.number} has already been delivered, so {change} is no longer possible."
        case "returned":
            return f"Order {order.number} was returned, so {change} is no longer possible."
        case _:
            return f"Order {order.number} was cancelled, so {change} is no longer possible."


def cancel_order(session: Session, policy: Policy, customer_id: int, number: str) -> Order:
    """Cancel the customer's order if it has not shipped (an already cancelled order stays as it is); the owner's
    tier is recomputed.

    OrderNotFound when it is not the customer's order; OrderConflict once it has shipped.
    """
    order = owned_order(session, customer_id, number, lock=True)
    if order.status == "cancelled":
        return order
    if order.status not in ("placed", "processing"):
        raise OrderConflict(_not_changeable(order, "cancelling it"))
    order.status = "cancelled"
    session.flush()
    tiers.recompute_customer(session, policy, order.customer_id)
    return order


def change_shipping_address(session: Session, customer_id: int, number: str, address: str) -> Order:
    """Ship the customer's order to `address` (validated by the schema) if it has not shipped yet.

    OrderNotFound when it is not the customer's order; OrderConflict once it has shipped or was cancelled.
    """
    order = owned_order(session, customer_id, number, lock=True)
    if order.status not in ("placed", "processing"):
        raise OrderConflict(_not_changeable(order, "changing its shipping address"))
    order.shipping_address = address
    session.flush()
    return order


def return_reference(order: Order) -> str:
    """The reference the customer writes on the parcel of a return."""
    return f"RMA-{order.number}"


def returnable_until(order: Order, policy: Policy, today: date) -> date | None:
    """The last day a return of this delivered order can be started; None when it cannot (or no longer)."""
    if order.status != "delivered" or order.delivered_at is None or order.return_status is not None:
        return None
    last_day = (order.delivered_at + timedelta(days=policy.returns.window_days)).date()
    return last_day if last_day >= today else None


def start_return(session: Session, policy: Policy, customer_id: int, number: str, now: datetime) -> StartedReturn:
    """Start the return of a delivered order within the policy's return window (again: the same return); the
    owner's tier is recomputed.

    OrderNotFound when it is not the customer's order; OrderConflict when it is not delivered, the window has
    passed or a return was already received or rejected.
    """
    order = owned_order(session, customer_id, number, lock=True)
    if order.return_status == "requested":  # asked again: the same return, with the same send-back date
        requested = (order.return_requested_at or now).date()
        return StartedReturn(order, return_reference(order), requested + timedelta(days=policy.returns.send_back_days))
    if order.return_status is not None or order.status == "returned":
        raise OrderConflict(f"Order {order.number} already has a return that was {order.return_status or 'received'}.")
    if order.status in ("placed", "processing"):
        raise OrderConflict(f"Order {order.number} has not shipped yet: it can still be cancelled instead.")
    if order.status == "cancelled":
        raise OrderConflict(f"Order {order.number} was cancelled, so there is nothing to return.")
    if order.status == "shipped" or order.delivered_at is None:
        raise OrderConflict(f"Order {order.number} has not been delivered yet; it can be returned once it arrives.")
    if returnable_until(order, policy, now.date()) is None:
        raise OrderConflict(f"Order {order.number} was delivered on {order.delivered_at.date().isoformat()}, more "
                            f"than {policy.returns.window_days} days ago, so the return window has closed.")
    order.return_status = "requested"
    order.return_requested_at = now
    session.flush()
    tiers.recompute_customer(session, policy, order.customer_id)  # returns count against the lifetime value
    return StartedReturn(order, return_reference(order), now.date() + timedelta(days=policy.returns.send_back_days))


def create_order(session: Session, policy: Policy, data: OrderIn) -> Order:
    """Insert an order for an existing customer and recompute that customer's tier."""
    customer_id = session.scalar(select(Customer.id).where(Customer.external_id == data.customer_external_id))
    if customer_id is None:
        raise InvalidField(("body", "customer_external_id"), f"unknown customer {data.customer_external_id!r}")
    if session.scalar(select(Order.id).where(Order.number == data.number)) is not None:
        raise OrderConflict(f"order {data.number!r} already exists")
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
        raise OrderNotFound(f"unknown order {number!r}")
    for key, value in changes.model_dump(exclude_unset=True).items():
        setattr(order, key, value)
    session.flush()
    tiers.recompute_customer(session, policy, order.customer_id)
    return order
