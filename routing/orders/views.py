"""Order look-ups (only the owner's), and the shop's order sync (create/update recompute the tier)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from sqlalchemy.orm import Session

from routing.db import get_session
from routing.auth import require_service_token
from routing.orders import service
from routing.orders.schemas import OrderIn, OrderList, OrderOut, OrderUpdate
from routing.policy.deps import get_policy
from routing.policy.schema import Policy

router = APIRouter(prefix="/api/v1", tags=["orders"], dependencies=[Depends(require_service_token)])
SessionDep = Annotated[Session, Depends(get_session)]
PolicyDep = Annotated[Policy, Depends(get_policy)]


@router.get("/customers/{customer_id}/orders", response_model=OrderList)
def list_orders(customer_id: int, session: SessionDep,
                limit: Annotated[int, Query(ge=1, le=50)] = 5) -> OrderList:
    """The customer's newest orders first."""
    return OrderList(orders=[OrderOut.build(o) for o in service.list_orders(session, customer_id, limit)])


@router.get("/customers/{customer_id}/orders/{order_number}", response_model=OrderOut)
def get_order(customer_id: int, order_number: Annotated[str, Path(max_length=32)], session: SessionDep
              ) -> OrderOut:
    """One order of this customer; 404 when it is someone else's or unknown."""
    order = service.get_customer_order(session, customer_id, order_number)
    if order is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such order for this customer.")
    return OrderOut.build(order)


@router.post("/orders", response_model=OrderOut, status_code=status.HTTP_201_CREATED)
def create_order(body: OrderIn, session: SessionDep, policy: PolicyDep) -> OrderOut:
    """Record a new order (shop sync); the customer's tier is recomputed."""
    try:
        return OrderOut.build(service.create_order(session, policy, body))
    except service.OrderError as exc:
        if exc.field == "number":
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            [{"loc": ["body", exc.field], "type": "value_error", "msg": str(exc)}]) from exc


@router.patch("/orders/{order_number}", response_model=OrderOut)
def update_order(order_number: str, body: OrderUpdate, session: SessionDep, policy: PolicyDep) -> OrderOut:
    """Change an order's state (shop sync); the customer's tier is recomputed."""
    try:
        return OrderOut.build(service.update_order(session, policy, order_number, body))
    except service.OrderError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
