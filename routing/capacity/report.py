"""The staffing plan as files: plan.json (everything), plan.csv (one row per queue and hour of the week) and
plan_heatmap.png (per queue: agents needed, and needed minus staffed, by weekday and hour)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from routing.capacity.service import CapacityPlan

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
COLUMNS = ("queue", "weekday", "day", "hour", "open", "forecast_per_hour", "agents_needed", "agents_staffed",
           "agents_needed_erlang_c", "agents_needed_erlang_a", "service_level", "abandon_rate")


def rows(plan: CapacityPlan) -> list[dict[str, Any]]:
    return [{"queue": q.queue, "day": DAY_NAMES[h.weekday], **vars(h)}
            for q in plan.queues for h in q.hours]


def summary(plan: CapacityPlan) -> str:
    """Per queue: method, inputs, and the busiest hour, for the terminal."""
    lines = [f"Staffing plan from {plan.since:%Y-%m-%d %H:%M} to {plan.until:%Y-%m-%d %H:%M} UTC: {plan.method}"]
    for q in plan.queues:
        peak = max(q.hours, key=lambda h: (h.agents_needed, h.forecast_per_hour))
        patience = f"{q.patience_seconds:.0f} s ({q.patience_from})" if q.patience_seconds else "none"
        lines.append(
            f"{q.queue:<10} {q.method}, {q.target_level:.0%} in {q.target_seconds} s, AHT {q.aht_seconds:.0f} s"
            f"{'' if q.aht_from_history else ' (default)'}, patience {patience}, max_chats {q.max_chats}, "
            f"roster {q.roster}; {q.offered} offered, {q.abandoned} abandoned; peak {DAY_NAMES[peak.weekday]} "
            f"{peak.hour:02d}:00 {q.timezone}: {peak.forecast_per_hour:g}/h -> {peak.agents_needed} agents")
    return "\n".join(lines)


def heatmap(plan: CapacityPlan, path: Path) -> Path:
    """Per queue, two panels: agents needed, and needed - staffed (red: short, blue: spare); closed hours blank."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(plan.queues), 2, figsize=(16, 2.6 * len(plan.queues)), squeeze=False)
    for (left, right), q in zip(axes, plan.queues, strict=True):
        closed = float("nan")  # left blank: the queue takes no live chats then
        needed = [[closed] * 24 for _ in range(7)]
        gap = [[closed] * 24 for _ in range(7)]
        for h in q.hours:
            if h.open:
                needed[h.weekday][h.hour] = h.agents_needed
                gap[h.weekday][h.hour] = h.agents_needed - h.agents_staffed
        top = max([abs(v) for row in gap for v in row if v == v] or [1]) or 1
        for ax, grid, title, cmap, limits in (
                (left, needed, f"{q.queue}: agents needed ({q.method})", "YlOrRd", (0, None)),
                (right, gap, f"{q.queue}: needed - staffed (roster {q.roster})", "coolwarm", (-top, top))):
            image = ax.imshow(grid, aspect="auto", cmap=cmap, vmin=limits[0], vmax=limits[1])
            ax.set_yticks(range(7), DAY_NAMES)
            ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
            ax.set_title(title, fontsize="medium")
            ax.set_xlabel(f"hour ({q.timezone})", fontsize="small")
            for day in range(7):
                for hour in range(24):
                    if grid[day][hour] == grid[day][hour]:  # not NaN
                        ax.text(hour, day, f"{grid[day][hour]:g}", ha="center", va="center", fontsize=6)
            fig.colorbar(image, ax=ax, fraction=0.02)
    fig.suptitle(plan.method, fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_plan(plan: CapacityPlan, out_dir: Path) -> list[Path]:
    """Write plan.json, plan.csv and plan_heatmap.png into `out_dir`; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = out_dir / "plan.json", out_dir / "plan.csv"
    json_path.write_text(json.dumps(plan.as_dict(), indent=2) + "\n", encoding="utf-8")
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows(plan))
    return [json_path, csv_path, heatmap(plan, out_dir / "plan_heatmap.png")]
