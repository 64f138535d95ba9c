"""Identity endpoints: nobody can fake a tier; a customer is who the shop's token or their order + email says."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status

from clock import utcnow
from routing.auth import require_service_token
from routing.customers import service as customers
from routing.customers.schemas import CustomerOut
from routing.db import SessionDep
from routing.errors import NotFound
from routing.identity.schemas import OrderEmailIn, TokenIn, VerifiedCustomer
from routing.identity.service import IdentityError, verified_token
from routing.policy.deps import PolicyDep
from routing.state import OrderThrottleDep, SettingsDep

router = APIRouter(prefix="/api/v1/identity", tags=["identity"], dependencies=[Depends(require_service_token)])
NO_ORDER = "No order matches that number and email."


@router.post("/verify", response_model=VerifiedCustomer, responses={401: {"description": "invalid token"}})
def verify(body: TokenIn, settings: SettingsDep, session: SessionDep, policy: PolicyDep) -> VerifiedCustomer:
    """The customer named by a valid shop token, and the token's expiry; 401 when expired, forged or unknown."""
    try:
        verified = verified_token(settings.identity_secret, body.token, settings.identity_issuer,
                                  settings.identity_audience)
    except IdentityError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from exc
    found = customers.get_by_external_id(session, verified.subject)
    if found is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "The sign-in token is not valid.")
    return VerifiedCustomer(customer=CustomerOut.build(policy, *found), expires_at=verified.expires_at)


@router.post("/verify-order", response_model=VerifiedCustomer, responses={404: {"description": NO_ORDER}})
def verify_order(body: OrderEmailIn, throttle: OrderThrottleDep, session: SessionDep,
                 policy: PolicyDep) -> VerifiedCustomer:
    """The order's customer when the email matches (case-insensitive); otherwise the same 404 for every miss. After
    5 misses for one order number (or 10 for one email) in 15 minutes: 429 with Retry-After, even for the right pair."""
    now = utcnow()
    keys = {"order": body.order_number.strip().upper(), "email": body.email.strip().lower()}
    wait = throttle.retry_after(keys, now)
    if wait:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, f"Too many attempts; try again in {wait} seconds.",
                            headers={"Retry-After": str(wait)})
    found = customers.get_by_order_number(session, body.order_number)
    if found is None or found[0].email_lower != keys["email"]:
        throttle.failed(keys, now)
        raise NotFound(NO_ORDER)
    throttle.succeeded("order", keys["order"])
    return VerifiedCustomer(customer=CustomerOut.build(policy, *found), expires_at=None)
