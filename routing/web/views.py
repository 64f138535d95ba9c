"""The pages: a demo shop with the chat widget, and the agent console (static files + small config endpoints)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from clock import utcnow
from routing.identity.service import issue_token

STATIC = Path(__file__).resolve().parent / "static"
DEMO_LOGINS = ["demo-platinum", "demo-gold", "demo-silver", "demo-bronze"]

router = APIRouter(include_in_schema=False)


class ShopLogin(BaseModel):
    """A demo shop sign-in: the shop's own login id of the customer."""

    external_id: str = Field(min_length=1, max_length=64)


@router.get("/shop")
def shop_page() -> FileResponse:
    """Demo shop page with the chat widget."""
    return FileResponse(STATIC / "shop.html")


@router.get("/console")
def console_page() -> FileResponse:
    """Agent console."""
    return FileResponse(STATIC / "console.html")


@router.get("/web/config")
def web_config(request: Request) -> dict[str, object]:
    """What the pages need to know: where Rasa's socket.io is, the demo sign-ins (development only), and the
    service's time (`now`), so that timers in the browser count on the service's clock, not the visitor's."""
    settings = request.app.state.settings
    return {
        "rasa_url": settings.rasa_public_url or settings.rasa_url,
        "now": utcnow().isoformat(),
        "demo_logins": DEMO_LOGINS if settings.env == "development" else [],
    }


@router.post("/shop/login")
def shop_login(body: ShopLogin, request: Request) -> dict[str, str]:
    """Stand-in for the shop's own login (development only): signs the customer token the widget carries.

    A real shop signs this token on its server after its own login; Concierge only verifies it.
    """
    settings = request.app.state.settings
    if settings.env != "development":
        raise HTTPException(status_code=404, detail="Not found")
    return {"token": issue_token(settings.identity_secret, body.external_id)}
