"""One definition of the figures (routing/analytics/kpis.py KPIS): what `figures` computes, the CSV columns and the
dashboard's labels all come from it, and every figure the dashboard's page names exists."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from routing.analytics.kpis import KPI_NAMES, KPIS, figures
from routing.analytics.report import _write_csv

DASHBOARD = Path(__file__).resolve().parents[2] / "routing" / "web" / "static" / "dashboard.js"


def test_figures_computes_exactly_the_defined_kpis_in_their_order() -> None:
    assert list(figures([], [])) == list(KPI_NAMES)
    assert len(set(KPI_NAMES)) == len(KPIS)
    assert all(kpi.label and kpi.kind in ("count", "rate", "seconds", "score") for kpi in KPIS)


def test_a_figure_missing_from_the_csv_header_is_an_error_not_a_silent_gap(tmp_path: Path) -> None:
    row = {"group": "overall", "value": "all", **figures([], [])}
    _write_csv(tmp_path / "ok.csv", ["group", "value", *KPI_NAMES], [row])
    with (tmp_path / "ok.csv").open() as handle:
        assert next(csv.reader(handle)) == ["group", "value", *KPI_NAMES]
    try:
        _write_csv(tmp_path / "short.csv", ["group", "value", *KPI_NAMES[:-1]], [row])
    except ValueError as error:
        assert KPI_NAMES[-1] in str(error)
    else:
        raise AssertionError("a figure without a column was written silently")


def test_every_figure_the_dashboard_names_is_defined() -> None:
    script = DASHBOARD.read_text(encoding="utf-8")
    lists = re.findall(r"const (?:SERIES|QUEUE_COLUMNS|FAIRNESS_RATES|FAIRNESS_ROWS) = \[(.*?)\];", script, re.S)
    named = {name for body in lists for name in re.findall(r'"([a-z0-9_]+)"', body)}
    assert len(lists) == 4 and named, "the dashboard's figure lists moved: update this test"
    assert named <= set(KPI_NAMES), named - set(KPI_NAMES)
