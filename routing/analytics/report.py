"""The operations report: every figure as JSON (ops.json), as CSV (ops.csv: one row per group, ops_daily.csv: one
row per day and tier) and as PNG charts, for `python -m routing.cli report ops`."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from routing.analytics.kpis import DIMENSIONS, KPI_NAMES


def _rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [{"group": "overall", "value": "all", **figures["overall"]}]
    for dimension in DIMENSIONS:
        rows += [{"group": dimension, "value": value, **kpis}
                 for value, kpis in figures[f"by_{dimension}"].items()]
    return rows


def _write_csv(path: Path, header: list[str], rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)  # a figure missing from the header raises
        writer.writeheader()
        writer.writerows(rows)


def summary(figures: dict[str, Any]) -> str:
    """A short table of the per-tier and per-queue figures, for the terminal."""

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.0f}%"

    def sec(v: float | None) -> str:
        return "-" if v is None else f"{v:.0f}s"

    last_day = (datetime.fromisoformat(figures["until"]) - timedelta(days=1)).date().isoformat()
    lines = [f"Operations {figures['since'][:10]} .. {last_day} (UTC days, both included)",
             f"{'group':<22}{'contacts':>9}{'contain':>9}{'escal':>7}{'p50':>7}{'p90':>7}{'SL':>6}{'aband':>7}"
             f"{'AHT':>7}{'CSAT':>6}"]
    for row in _rows(figures):
        if row["group"] in ("overall", "tier", "queue"):
            lines.append(f"{row['group'] + ':' + str(row['value']):<22}{row['contacts']:>9}"
                         f"{pct(row['containment_rate']):>9}{pct(row['escalation_rate']):>7}"
                         f"{sec(row['first_response_p50_seconds']):>7}{sec(row['first_response_p90_seconds']):>7}"
                         f"{pct(row['service_level']):>6}{pct(row['abandonment_rate']):>7}"
                         f"{sec(row['average_handle_seconds']):>7}{pct(row['csat_score']):>6}")
    return "\n".join(lines)


def charts(figures: dict[str, Any], out_dir: Path) -> list[Path]:
    """Three charts: containment and escalation per tier over time, service level and abandonment per queue, and
    first-response p50/p90 per tier."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths: list[Path] = []
    days = list(figures["daily_by_tier"])
    tiers = sorted({t for per_tier in figures["daily_by_tier"].values() for t in per_tier})
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for tier in tiers:
        per_day = [figures["daily_by_tier"][d].get(tier, {}) for d in days]
        top.plot(days, [_pct(f.get("containment_rate")) for f in per_day], marker="o", label=tier)
        bottom.plot(days, [_pct(f.get("escalation_rate")) for f in per_day], marker="o", label=tier)
    top.set_ylabel("containment %")
    bottom.set_ylabel("escalation %")
    top.set_title("Per tier, per day")
    top.legend(loc="upper left", fontsize="small")
    bottom.tick_params(axis="x", labelrotation=60, labelsize="small")
    fig.tight_layout()
    paths.append(_save(fig, out_dir / "ops_tiers_over_time.png"))

    queues = [q for q in figures["by_queue"] if q != "-"]
    fig, ax = plt.subplots(figsize=(7, 4))
    x = range(len(queues))
    ax.bar([i - 0.2 for i in x], [_pct(figures["by_queue"][q]["service_level"]) for q in queues], 0.4,
           label="service level (own SLA) %")
    ax.bar([i + 0.2 for i in x], [_pct(figures["by_queue"][q]["abandonment_rate"]) for q in queues], 0.4,
           label="abandonment %")
    ax.set_xticks(list(x), queues)
    ax.set_title("Per queue")
    ax.legend(fontsize="small")
    fig.tight_layout()
    paths.append(_save(fig, out_dir / "ops_queues.png"))

    tier_names = list(figures["by_tier"])
    fig, ax = plt.subplots(figsize=(7, 4))
    x = range(len(tier_names))
    for offset, key, label in ((-0.2, "first_response_p50_seconds", "p50"),
                               (0.2, "first_response_p90_seconds", "p90")):
        ax.bar([i + offset for i in x], [figures["by_tier"][t][key] or 0 for t in tier_names], 0.4, label=label)
    ax.set_xticks(list(x), tier_names)
    ax.set_ylabel("seconds")
    ax.set_title("Time to first human response, per tier (fairness)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    paths.append(_save(fig, out_dir / "ops_first_response.png"))
    return paths


def _pct(value: float | None) -> float:
    return float("nan") if value is None else 100 * value


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(figures: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write ops.json, ops.csv, ops_daily.csv and the PNG charts into `out_dir`; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "ops.json"
    json_path.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    csv_path, daily_path = out_dir / "ops.csv", out_dir / "ops_daily.csv"
    _write_csv(csv_path, ["group", "value", *KPI_NAMES], _rows(figures))
    _write_csv(daily_path, ["day", "tier", *KPI_NAMES],
               [{"day": day, "tier": tier, **kpis} for day, per_tier in figures["daily_by_tier"].items()
                for tier, kpis in per_tier.items()])
    return [json_path, csv_path, daily_path, *charts(figures, out_dir)]
