"""Lists are read to their end: the closed-escalation export and the agents' escalation list answer pages with a
`Link: rel="next"` header, and the review export script follows it (real uvicorn, SQLite and PostgreSQL)."""

from __future__ import annotations

import importlib.util
import sys
from datetime import datetime, timedelta, timezone
from types import ModuleType

import httpx
from fastapi import FastAPI
from fixtures_human_support import BOT, SERVICE_TOKEN, add_agent, serve
from sqlalchemy import insert

from routing.escalations.models import Escalation
from routing.settings import ROOT

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


def _export_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("export_reviews_paged", ROOT / "scripts" / "export_reviews.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["export_reviews_paged"] = module
    spec.loader.exec_module(module)
    return module


def _escalations(app: FastAPI, count: int, status: str, **columns: object) -> None:
    """`count` escalations in one statement; every third shares a closing time (ties are broken by id)."""
    rows = [{"conversation_id": f"{status}-{n}", "idempotency_key": f"{status}-{n}", "tier": "gold", "queue": "general",
             "priority": n % 3, "enqueued_epoch": int(T0.timestamp()), "status": status, "transcript": [],
             "facts": {}, "created_at": T0 + timedelta(seconds=n // 2), "updated_at": T0,
             "closed_at": T0 + timedelta(seconds=n - n % 3) if status in ("resolved", "returned_to_bot") else None,
             **columns} for n in range(count)]
    with app.state.sessions.begin() as session:
        session.execute(insert(Escalation), rows)


def test_the_export_reads_every_closed_escalation_page_after_page(hs_app: FastAPI) -> None:
    _escalations(hs_app, 1203, "resolved")
    _escalations(hs_app, 40, "returned_to_bot")
    _escalations(hs_app, 30, "abandoned")  # not asked for
    with serve(hs_app) as base, httpx.Client(base_url=base, headers=BOT, timeout=30) as client:
        first = client.get("/api/v1/escalations")
        assert first.status_code == 200 and len(first.json()) == 500  # a page, and it says more follow
        assert "after=" in first.links["next"]["url"]

        exported = _export_script().closed_escalations(base, SERVICE_TOKEN, "resolved,returned_to_bot", None)
        ids = [row["id"] for row in exported]
        assert len(ids) == len(set(ids)) == 1243  # to the end, none twice
        keys = [(row["closed_at"], row["id"]) for row in exported]
        assert keys == sorted(keys)  # oldest first across pages

        since = (T0 + timedelta(seconds=1000)).isoformat().replace("+00:00", "Z")
        pages, url = 0, f"/api/v1/escalations?status=resolved&limit=100&since={since}"
        seen: list[int] = []
        while url:
            page = client.get(url)
            assert page.status_code == 200, page.text
            seen += [row["id"] for row in page.json()]
            url, pages = page.links.get("next", {}).get("url", ""), pages + 1
        assert len(seen) == len(set(seen)) == 201 and pages == 3  # the filter holds on every page

        last = client.get("/api/v1/escalations", params={"status": "returned_to_bot"})
        assert len(last.json()) == 40 and "link" not in last.headers  # a last page has no next link

        for bad in ("nonsense", "W10", "WyJ4IiwxXQ", "WyIyMDI2LTExLTAyVDA5OjAwOjAwIiwxXQ"):  # junk, [], ["x", 1], naive
            refused = client.get("/api/v1/escalations", params={"after": bad})
            assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["query", "after"]


def test_an_agent_pages_through_all_open_work(hs_app: FastAPI) -> None:
    add_agent(hs_app.state.sessions, "carol", ["general"])
    _escalations(hs_app, 450, "waiting")
    _escalations(hs_app, 20, "ticket")
    _escalations(hs_app, 25, "resolved")  # closed: not open work
    with serve(hs_app) as base, httpx.Client(base_url=base, timeout=30) as client:
        token = client.post("/api/v1/agent/login", json={"login": "carol", "password": "pw"}).json()["token"]
        client.headers["Authorization"] = f"Bearer {token}"
        default = client.get("/api/v1/agent/escalations")
        assert len(default.json()) == 200 and "next" in default.links

        listed: list[dict[str, object]] = []
        url = "/api/v1/agent/escalations?limit=97"
        while url:
            page = client.get(url)
            assert page.status_code == 200, page.text
            listed += page.json()
            url = page.links.get("next", {}).get("url", "")
        assert len(listed) == len({row["id"] for row in listed}) == 470
        order = [(-int(str(r["priority"])), str(r["created_at"]), int(str(r["id"]))) for r in listed]
        assert order == sorted(order)  # priority, then arrival, across pages

        tickets = client.get("/api/v1/agent/escalations", params={"status": "ticket", "limit": 20})
        assert len(tickets.json()) == 20 and "link" not in tickets.headers
        assert client.get("/api/v1/agent/escalations", params={"limit": 0}).status_code == 422
        assert client.get("/api/v1/agent/escalations", params={"after": "!!"}).status_code == 422

