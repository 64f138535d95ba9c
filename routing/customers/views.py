"""Customer and tier look-ups for the bot; manual tier overrides for staff tools."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from routing.auth import require_service_token
from routing.customers import service
from routing.customers.deps import FoundCustomer
from routing.customers.schemas import CustomerOut, TierOverrideIn
from routing.db import SessionDep
from routing.errors import InvalidField
from routing.policy.deps import PolicyDep
from routing.tiers import service as tiers

router = APIRouter(prefix="/api/v1/customers", tags=["customers"], dependencies=[Depends(require_service_token)])


@router.get("/lookup", response_model=CustomerOut)
def lookup(session: SessionDep, policy: PolicyDep,
           external_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
           email: Annotated[str | None, Query(min_length=3, max_length=320)] = None,
           order_number: Annotated[str | None, Query(min_length=1, max_length=32)] = None) -> CustomerOut:
    """Find a customer by exactly one of external_id, email or order_number."""
    given = {k: v for k, v in (("external_id", external_id), ("email", email), ("order_number", order_number)) if v}
    if len(given) != 1:
        raise InvalidField(("query", "external_id|email|order_number"),
                           "give exactly one of external_id, email or order_number")
    key, value = next(iter(given.items()))
    finder = {"external_id": service.get_by_external_id, "email": service.get_by_email,
              "order_number": service.get_by_order_number}[key]
    found = finder(session, value)
    if found is None:
        raise service.CustomerNotFound()
    return CustomerOut.build(policy, *found)


@router.get("/{customer_id}", response_model=CustomerOut)
def get_customer(found: FoundCustomer, policy: PolicyDep) -> CustomerOut:
    """A customer with the tier that applies now."""
    return CustomerOut.build(policy, *found)


@router.put("/{customer_id}/tier-override", response_model=CustomerOut)
def put_override(found: FoundCustomer, body: TierOverrideIn, session: SessionDep, policy: PolicyDep) -> CustomerOut:
    """Force a tier (author, reason, optional expiry)."""
    if body.tier not in policy.rules:
        raise InvalidField(("body", "tier"), f"unknown tier {body.tier!r}; known: {', '.join(policy.tier_names)}")
    tiers.set_override(session, policy, found[0], body.tier, body.reason, body.author, body.expires_at)
    return CustomerOut.build(policy, *found)


@router.delete("/{customer_id}/tier-override", response_model=CustomerOut)
def delete_override(found: FoundCustomer, session: SessionDep, policy: PolicyDep) -> CustomerOut:
    """Remove the manual override."""
    tiers.clear_override(session, found[0])
    return CustomerOut.build(policy, *found)
