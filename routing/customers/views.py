"""Customer and tier look-ups for the bot; manual tier overrides for staff tools."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from routing.db import SessionDep
from routing.auth import require_service_token
from routing.customers import service
from routing.customers.schemas import CustomerOut, TierOverrideIn
from routing.policy.deps import get_policy
from routing.policy.schema import Policy
from routing.tiers import service as tiers

router = APIRouter(prefix="/api/v1/customers", tags=["customers"], dependencies=[Depends(require_service_token)])
PolicyDep = Annotated[Policy, Depends(get_policy)]
NOT_FOUND = "No such customer."


@router.get("/lookup", response_model=CustomerOut)
def lookup(session: SessionDep, policy: PolicyDep,
           external_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
           email: Annotated[str | None, Query(min_length=3, max_length=320)] = None,
           order_number: Annotated[str | None, Query(min_length=1, max_length=32)] = None) -> CustomerOut:
    """Find a customer by exactly one of external_id, email or order_number."""
    given = {k: v for k, v in (("external_id", external_id), ("email", email), ("order_number", order_number)) if v}
    if len(given) != 1:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{
            "loc": ["query", "external_id|email|order_number"], "type": "value_error",
            "msg": "give exactly one of external_id, email or order_number"}])
    key, value = next(iter(given.items()))
    finder = {"external_id": service.get_by_external_id, "email": service.get_by_email,
              "order_number": service.get_by_order_number}[key]
    found = finder(session, value)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return CustomerOut.build(policy, *found)


@router.get("/{customer_id}", response_model=CustomerOut)
def get_customer(customer_id: int, session: SessionDep, policy: PolicyDep) -> CustomerOut:
    """A customer with the tier that applies now."""
    found = service.get_customer(session, customer_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return CustomerOut.build(policy, *found)


@router.put("/{customer_id}/tier-override", response_model=CustomerOut)
def put_override(customer_id: int, body: TierOverrideIn, session: SessionDep, policy: PolicyDep) -> CustomerOut:
    """Force a tier (author, reason, optional expiry)."""
    found = service.get_customer(session, customer_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    if body.tier not in policy.rules:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{
            "loc": ["body", "tier"], "type": "value_error",
            "msg": f"unknown tier {body.tier!r}; known: {', '.join(policy.tier_names)}"}])
    tiers.set_override(session, policy, found[0], body.tier, body.reason, body.author, body.expires_at)
    return CustomerOut.build(policy, *found)


@router.delete("/{customer_id}/tier-override", response_model=CustomerOut)
def delete_override(customer_id: int, session: SessionDep, policy: PolicyDep) -> CustomerOut:
    """Remove the manual override."""
    found = service.get_customer(session, customer_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    tiers.clear_override(session, found[0])
    return CustomerOut.build(policy, *found)
