"""Development-only endpoints, mounted only when CONCIERGE_ENV=development (outside it they do not exist: 404).

They stand in for the shop: its login (the demo shop page signs a customer token) and a token for a demo customer
(tests and scripts). A real shop signs customer tokens on its own server; Concierge only verifies them.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import Field

from routing.auth import require_service_token
from routing.customers import service as customers
from routing.db import SessionDep
from routing.errors import NotFound
from routing.identity.schemas import DemoTokenIn, TokenOut
from routing.identity.service import issue_token
from routing.inputs import InputModel
from routing.settings import Settings
from routing.state import SettingsDep
from routing.web.views import DEMO_LOGINS

router = APIRouter(include_in_schema=False)


def _token(settings: Settings, external_id: str) -> str:
    return issue_token(settings.identity_secret, external_id, issuer=settings.identity_issuer,
                       audience=settings.identity_audience)


class ShopLogin(InputModel):
    """A demo shop sign-in: the shop's own login id of the customer."""

    external_id: str = Field(min_length=1, max_length=64)


@router.post("/shop/login")
def shop_login(body: ShopLogin, settings: SettingsDep) -> dict[str, str]:
    """The demo shop's login: signs the customer token the widget carries, for the demo accounts only."""
    if body.external_id not in DEMO_LOGINS:
        raise NotFound("Only the demo accounts can sign in on the demo shop.")
    return {"token": _token(settings, body.external_id)}


@router.post("/api/v1/identity/demo-token", response_model=TokenOut, dependencies=[Depends(require_service_token)])
def demo_token(body: DemoTokenIn, settings: SettingsDep, session: SessionDep) -> TokenOut:
    """A token for a demo customer, as the shop's website would issue it."""
    if customers.get_by_external_id(session, body.external_id) is None:
        raise NotFound("No such customer.")
    return TokenOut(token=_token(settings, body.external_id))
