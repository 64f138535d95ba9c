"""The pages: a demo shop with the chat widget, and the agent console (static files + small config endpoints).
The demo shop's login is development-only (routing/dev/views.py)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from clock import utcnow
from routing.state import SettingsDep

STATIC = Path(__file__).resolve().parent / "static"
DEMO_LOGINS = ["demo-platinum", "demo-gold", "demo-silver", "demo-bronze"]

router = APIRouter(include_in_schema=False)


@router.get("/shop")
def shop_page() -> FileResponse:
    """Demo shop page with the chat widget."""
    return FileResponse(STATIC / "shop.html")


@router.get("/console")
def console_page() -> FileResponse:
    """Agent console."""
    return FileResponse(STATIC / "console.html")


@router.get("/console/dashboard")
def dashboard_page() -> FileResponse:
    """The console's dashboard: figures over time per tier, queues, fairness, staffing plan (docs/operations.md)."""
    return FileResponse(STATIC / "dashboard.html")


@router.get("/web/config")
def web_config(settings: SettingsDep) -> dict[str, object]:
    """What the pages need to know: where Rasa's socket.io is, the demo sign-ins (development only), and the
    service's time (`now`), so that timers in the browser count on the service's clock, not the visitor's."""
    return {
        "rasa_url": settings.rasa_public_url or settings.rasa_url,
        "now": utcnow().isoformat(),
        "demo_logins": DEMO_LOGINS if settings.env == "development" else [],
    }
