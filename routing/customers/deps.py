"""Get-or-404 dependency of the customer named in the path (`/customers/{customer_id}/...`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from routing.customers.service import CustomerNotFound, CustomerWithTier, get_customer
from routing.db import SessionDep
from routing.inputs import PathId


def customer_or_404(customer_id: PathId, session: SessionDep) -> CustomerWithTier:
    """The customer with their tier row; CustomerNotFound (404) when there is none."""
    found = get_customer(session, customer_id)
    if found is None:
        raise CustomerNotFound()
    return found


FoundCustomer = Annotated[CustomerWithTier, Depends(customer_or_404, scope="function")]
