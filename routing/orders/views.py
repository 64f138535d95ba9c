"""Order look-ups and self-service changes (cancel, new shipping address, return), only ever the owner's; and the
shop's order sync (create/update recompute the tier)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from clock import utcnow
from routing.auth import require_service_token
from routing.db import SessionDep
from routing.inputs import PathId
from routing.orders import service
from routing.orders.delivery import estimate_delivery
from routing.orders.models import Order
from routing.orders.schemas import OrderIn, OrderList, OrderOut, OrderUpdate, ReturnOut, ShippingAddressIn
from routing.policy.definition import Policy
from routing.policy.deps import PolicyDep

router = APIRouter(prefix="/api/v1", tags=["orders"], dependencies=[Depends(require_service_token)])
OrderNumber = Annotated[str, Path(max_length=32)]
NO_ORDER = service.OrderNotFound.detail
RETURN_INSTRUCTIONS = ("Pack the items with everything they came with, write {reference} on the parcel and drop it "
                       "at any post office by {send_back_by}: the return label is in your confirmation email. The "
                       "refund goes to your original payment method within 5 to 10 business days after it arrives.")


def _out(order: Order, policy: Policy) -> OrderOut:
    today = utcnow().date()
    return OrderOut.build(order, estimate_delivery(order, policy.delivery, today),
                          service.returnable_until(order, policy, today))


@router.get("/customers/{customer_id}/orders", response_model=OrderList)
def list_orders(customer_id: PathId, session: SessionDep, policy: PolicyDep,
                limit: Annotated[int, Query(ge=1, le=50)] = 5) -> OrderList:
    """The customer's newest orders first."""
    return OrderList(orders=[_out(o, policy) for o in service.list_orders(session, customer_id, limit)])


@router.get("/customers/{customer_id}/orders/{order_number}", response_model=OrderOut)
def get_order(customer_id: PathId, order_number: OrderNumber, session: SessionDep, policy: PolicyDep) -> OrderOut:
    """One order of this customer; 404 when it is someone else's or unknown."""
    return _out(service.owned_order(session, customer_id, order_number), policy)


@router.post("/customers/{customer_id}/orders/{order_number}/cancel", response_model=OrderOut,
             responses={404: {"description": NO_ORDER}, 409: {"description": "the order has already shipped"}})
def cancel_order(customer_id: PathId, order_number: OrderNumber, session: SessionDep, policy: PolicyDep) -> OrderOut:
    """Cancel the customer's order before it ships; cancelling a cancelled order again changes nothing."""
    return _out(service.cancel_order(session, policy, customer_id, order_number), policy)


@router.put("/customers/{customer_id}/orders/{order_number}/shipping-address", response_model=OrderOut,
            responses={404: {"description": NO_ORDER}, 409: {"description": "the order has already shipped"}})
def change_shipping_address(customer_id: PathId, order_number: OrderNumber, body: ShippingAddressIn,
                            session: SessionDep, policy: PolicyDep) -> OrderOut:
    """Ship the customer's order to a new address; only before it ships."""
    return _out(service.change_shipping_address(session, customer_id, order_number, body.address), policy)


@router.post("/customers/{customer_id}/orders/{order_number}/return", response_model=ReturnOut,
             responses={404: {"description": NO_ORDER}, 409: {"description": "the order cannot be returned"}})
def start_return(customer_id: PathId, order_number: OrderNumber, session: SessionDep, policy: PolicyDep) -> ReturnOut:
    """Start the return of a delivered order within the return window; starting it again gives the same return."""
    started = service.start_return(session, policy, customer_id, order_number, utcnow())
    return ReturnOut(order=_out(started.order, policy), return_reference=started.reference,
                     send_back_by=started.send_back_by,
                     instructions=RETURN_INSTRUCTIONS.format(reference=started.reference,
                                                             send_back_by=started.send_back_by.isoformat()))


@router.post("/orders", response_model=OrderOut, status_code=status.HTTP_201_CREATED)
def create_order(body: OrderIn, session: SessionDep, policy: PolicyDep) -> OrderOut:
    """Record a new order (shop sync); the customer's tier is recomputed."""
    return _out(service.create_order(session, policy, body), policy)


@router.patch("/orders/{order_number}", response_model=OrderOut)
def update_order(order_number: str, body: OrderUpdate, session: SessionDep, policy: PolicyDep) -> OrderOut:
    """Change an order's state (shop sync); the customer's tier is recomputed."""
    return _out(service.update_order(session, policy, order_number, body), policy)
