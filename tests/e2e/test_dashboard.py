"""The console's dashboard in Chromium against a real routing service (no Rasa needed) on a fixed clock and the demo
history of `demo simulate` (fixed seed): a lead sees the charts drawn, the queue and fairness tables with the very
figures of the API, and the staffing panel; an agent sees only their own figures. Saves docs/dashboard.png and
docs/dashboard-fairness.png."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from launcher.ports import free_base_port
from launcher.settings import StackSettings
from launcher.stack import ROUTING_BIN, Stack, process_specs
from tests.e2e.agents import sign_in_console
from tests.e2e.browser import chromium, wait_until

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
# Monday 30 Nov 2026, 00:00 UTC: the demo history is the four weeks before; the dashboard's default range ends today
CLOCK_START = "2026-11-30T00:00:00Z"
CHARTS = ("chart-over-time", "chart-fairness-rates", "chart-fairness-waits")


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A routing service alone on a fixed clock, with the demo shop, the demo agents and four weeks of history."""
    var_dir = tmp_path_factory.mktemp("dashboard-var")
    settings = replace(StackSettings(env="development", routing_database_url="").with_ports(
        free_base_port(19000, 19500), var_dir), demo_customers=400, seed_demo=True)
    clock = {"CONCIERGE_CLOCK_START": CLOCK_START, "CONCIERGE_CLOCK_ANCHOR": repr(time.time())}
    env = {**settings.child_env(), **clock}
    python = str(ROUTING_BIN / "python")
    for argv in (["init", "--demo-customers", "400"], ["demo", "simulate", "--weeks", "4", "--seed", "7"]):
        subprocess.run([python, "-m", "routing.cli", *argv], cwd=ROOT, env=env, check=True, capture_output=True,
                       timeout=300)
    routing = process_specs(settings)[0]
    routing.env = clock
    with open(var_dir / "routing.log", "w") as log:
        stack = Stack(settings, log=log, specs=[routing])
        try:
            stack.launch(timeout=120)
        except Exception:
            log.flush()
            raise AssertionError((var_dir / "routing.log").read_text()[-4000:]) from None
        try:
            yield settings.routing_url
        finally:
            stack.stop()


def _api(page: Page, path: str) -> tuple[int, Any]:
    """A same-origin GET from the page (its session cookie goes along)."""
    status, body = page.evaluate(
        """async (path) => { const r = await fetch(path); return [r.status, await r.json().catch(() => null)]; }""",
        path)
    return int(status), body


def _open_dashboard(page: Page, url: str, login: str) -> None:
    sign_in_console(page, url, login)
    page.get_by_test_id("dashboard-link").click()
    expect(page.get_by_test_id("dashboard")).to_be_visible()
    wait_until(page, "document.getElementById('dashboard').dataset.loaded")
    for chart in CHARTS:
        wait_until(page, f"document.getElementById('{chart}').dataset.rendered === 'true'")


def _painted_pixels(page: Page, canvas: str) -> int:
    """How many pixels of a chart's canvas are painted (a blank canvas has none)."""
    return int(page.evaluate(
        """(id) => { const c = document.getElementById(id);
             const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
             let n = 0; for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++; return n; }""", canvas))


def _table(page: Page, testid: str) -> dict[tuple[str, str], str]:
    """(row, column) -> data-value of every figure cell of a table."""
    cells = page.evaluate(
        """(id) => [...document.querySelectorAll(`[data-testid=${id}] tbody td[data-kpi]`)].map(
             (td) => [td.closest("tr").dataset.row, td.dataset.col, td.dataset.value])""", testid)
    return {(row, col): value for row, col, value in cells}


def _expected(value: Any) -> str:
    return "" if value is None else str(value)


def _query(page: Page) -> str:
    since = page.get_by_test_id("filter-since").input_value()
    until = page.get_by_test_id("filter-until").input_value()
    return f"since={since}&until={until}"


def test_a_lead_sees_charts_queues_fairness_and_staffing(dashboard_url: str) -> None:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))  # a script error (a refused request is no error)
        page.on("console", lambda m: errors.append(m.text)
                if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
        _open_dashboard(page, dashboard_url, "lena")
        assert page.get_by_test_id("dashboard").get_attribute("data-scope") == "all"
        expect(page.get_by_test_id("scope")).to_contain_text("Everyone's figures, 2026-11-03 to 2026-11-30")

        # the charts are drawn: Chart.js instances with one line / bar set per tier, and painted canvases
        for chart in CHARTS:
            assert _painted_pixels(page, chart) > 2000, chart
        tiers = page.evaluate("window.Chart.getChart('chart-over-time').data.datasets.map((d) => d.label)")
        assert tiers == ["platinum", "gold", "silver", "bronze"]

        # the queue table and the fairness table hold the API's figures
        status, api = _api(page, f"/api/v1/analytics/operations?{_query(page)}")
        assert status == 200 and api["scope"] == "all" and api["overall"]["contacts"] > 1000
        queues = _table(page, "queue-table")
        assert {row for row, _ in queues} == {"vip", "priority", "general"}
        for (queue, kpi), value in queues.items():
            assert value == _expected(api["by_queue"][queue][kpi]), (queue, kpi)
        fairness = _table(page, "fairness-table")
        assert {col for _, col in fairness} == {"platinum", "gold", "silver", "bronze"}
        for (kpi, tier), value in fairness.items():
            assert value == _expected(api["by_tier"][tier][kpi]), (tier, kpi)
        vip_sl = page.locator("[data-testid=queue-table] tr[data-row=vip] td[data-kpi=service_level]")
        expect(vip_sl).to_have_text(f"{100 * api['by_queue']['vip']['service_level']:.1f}%")
        summary = page.locator("[data-testid=summary] dd[data-kpi=contacts]")
        expect(summary).to_have_text(str(api["overall"]["contacts"]))

        # the staffing panel: the plan beside today's staffing, or says the plan is not there
        expect(page.get_by_test_id("staffing")).to_be_visible()
        plan_status, plan = _api(page, "/api/v1/capacity/plan?weeks=4")
        wait_until(page, "document.getElementById('staffing').dataset.plan")
        if plan_status == 404:
            expect(page.get_by_test_id("plan-status")).to_contain_text("not available")
        else:
            assert plan_status == 200
            expect(page.get_by_test_id("plan-heatmap")).to_have_count(len(plan["queues"]))
        expect(page.get_by_test_id("staffing-now").first).to_contain_text("agents online")

        DOCS.mkdir(exist_ok=True)
        page.screenshot(path=str(DOCS / "dashboard.png"), full_page=True)
        page.get_by_test_id("fairness").screenshot(path=str(DOCS / "dashboard-fairness.png"))

        # a filter narrows every panel: gold only
        page.get_by_test_id("filter-tier").select_option("gold")
        before = page.get_by_test_id("dashboard").get_attribute("data-loaded")
        page.get_by_test_id("filter-apply").click()
        wait_until(page, f"document.getElementById('dashboard').dataset.loaded !== '{before}'")
        status, gold = _api(page, f"/api/v1/analytics/operations?{_query(page)}&tier=gold")
        assert status == 200 and set(gold["by_tier"]) == {"gold"}
        assert {col for _, col in _table(page, "fairness-table")} == {"gold"}
        for (queue, kpi), value in _table(page, "queue-table").items():
            assert value == _expected(gold["by_queue"][queue][kpi]), (queue, kpi)
        expect(page.get_by_test_id("scope")).to_contain_text("only tier gold")

        # a bad range is refused with the service's words
        page.get_by_test_id("filter-since").fill("2026-12-05")
        page.get_by_test_id("filter-apply").click()
        expect(page.get_by_test_id("filter-error")).to_contain_text("is after until")
        assert not errors, errors


def test_an_agent_sees_only_their_own_figures(dashboard_url: str) -> None:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        _open_dashboard(page, dashboard_url, "alice")
        assert page.get_by_test_id("dashboard").get_attribute("data-scope") == "own"
        expect(page.get_by_test_id("scope")).to_contain_text("Your own figures (alice)")
        expect(page.get_by_test_id("filter-agent")).to_be_disabled()
        expect(page.get_by_test_id("filter-agent")).to_have_value("alice")
        expect(page.get_by_test_id("staffing")).to_be_hidden()
        status, own = _api(page, f"/api/v1/analytics/operations?{_query(page)}")
        assert status == 200 and set(own["by_agent"]) == {"alice"} and own["overall"]["escalations"] > 0
        for (queue, kpi), value in _table(page, "queue-table").items():
            assert value == _expected(own["by_queue"][queue][kpi]), (queue, kpi)
        assert {row for row, _ in _table(page, "queue-table")} <= {"vip", "priority"}  # alice's queues only
        summary = page.locator("[data-testid=summary] dd[data-kpi=contacts]")
        expect(summary).to_have_text(str(own["overall"]["contacts"]))
        # nobody else's figures, however asked
        assert _api(page, f"/api/v1/analytics/operations?{_query(page)}&agent=bob")[0] == 403
        assert _api(page, "/api/v1/analytics/staffing")[0] == 403


def _documented_plan() -> dict[str, Any]:
    """A plan in the documented shape of GET /api/v1/capacity/plan (docs/operations.md): vip needs 2 agents on
    weekdays 9-17 and has 1 staffed on Monday 9:00, enough elsewhere."""
    hours = [{"weekday": d, "hour": h, "forecast_per_hour": 3.5 if d < 5 and 9 <= h < 17 else 0.0,
              "agents_needed": 2 if d < 5 and 9 <= h < 17 else 0,
              "agents_staffed": 1 if (d, h) == (0, 9) else (2 if d < 5 and 9 <= h < 17 else 0)}
             for d in range(7) for h in range(24)]
    return {"weeks": 4, "method": "erlang-c", "queues": [
        {"queue": "vip", "target_level": 0.8, "target_seconds": 20, "hours": hours}]}


def test_the_staffing_plan_is_shown_beside_todays_staffing(dashboard_url: str) -> None:
    """The plan's panel reads the documented shape. While this service has no plan endpoint (it comes with the
    capacity planner), the browser is answered that shape for it; once it exists, its real answer is used."""
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        sign_in_console(page, dashboard_url, "lena")
        real_status, _ = _api(page, "/api/v1/capacity/plan?weeks=4")
        if real_status == 404:
            page.route("**/api/v1/capacity/plan?weeks=4", lambda route: route.fulfill(json=_documented_plan()))
        page.goto(f"{dashboard_url}/console/dashboard")
        wait_until(page, "document.getElementById('staffing').dataset.plan")
        assert page.get_by_test_id("staffing").get_attribute("data-plan") == "shown"
        status, plan = _api(page, "/api/v1/capacity/plan?weeks=4")
        assert status == 200
        heatmaps = page.get_by_test_id("plan-heatmap")
        expect(heatmaps).to_have_count(len(plan["queues"]))
        first = plan["queues"][0]
        grid = page.locator(f"[data-testid=plan-heatmap][data-queue={first['queue']}]")
        expect(grid.locator("tbody td")).to_have_count(7 * 24)
        monday_nine = next(h for h in first["hours"] if (h["weekday"], h["hour"]) == (0, 9))
        cell = grid.locator("tbody tr").nth(0).locator("td").nth(9)
        expect(cell).to_have_text(f"{monday_nine['agents_needed']}/{monday_nine['agents_staffed']}")
        short = sum(1 for h in first["hours"] if h["agents_staffed"] < h["agents_needed"])
        expect(grid.locator("td.short")).to_have_count(short)
        expect(page.locator(f".plan-queue[data-queue={first['queue']}] [data-testid=staffing-now]")).to_contain_text(
            "agents online")
