"""Figures and their report: printed lines, reports/bench.json and the Markdown table reports/bench.md."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SKIPPED = "skipped"


@dataclass(frozen=True)
class Figure:
    """One measured number (or a status text such as "skipped") with its unit and target."""

    section: str
    name: str
    value: float | int | str
    unit: str = ""
    target: str = ""
    met: bool | None = None


@dataclass(frozen=True)
class Table:
    """Figures that read better side by side (CPU per turn and process, a profile's functions)."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str = ""


@dataclass
class Report:
    """Everything one `python -m bench` run found."""

    mode: str
    machine: dict[str, object]
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)  # JSON-like figures per section
    notes: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)

    def add(self, figure: Figure) -> Figure:
        """Record a figure and print it at once."""
        self.figures.append(figure)
        print(f"  {figure.section} | {figure.name}: {format_value(figure.value, figure.unit)}"
              + (f"  (target {figure.target}: {verdict(figure.met)})" if figure.target else ""), flush=True)
        return figure

    def add_table(self, table: Table) -> Table:
        """Record a table and print it at once."""
        self.tables.append(table)
        print("\n".join(["", *table_lines(table)]), flush=True)
        return table


def format_value(value: float | int | str, unit: str = "") -> str:
    """Human-readable value: texts as they are, NaN as "n/a", numbers with 3 significant digits (at least)."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 100:
        text = f"{int(value):,}"
    elif abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip()


def verdict(met: bool | None) -> str:
    return {True: "met", False: "NOT met", None: "-"}[met]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table_lines(table: Table) -> list[str]:
    """A table in Markdown: its title, header, rows and note."""
    lines = [f"### {table.title}", "", "| " + " | ".join(_cell(c) for c in table.columns) + " |",
             "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
    return lines + (["", table.note] if table.note else [])


def render_markdown(report: Report) -> str:
    """The machine facts and a table of every figure (section, figure, value, target, met?)."""
    lines = [f"# Concierge benchmark ({report.mode} mode)", "", "| Machine | |", "|---|---|"]
    lines += [f"| {_cell(str(k))} | {_cell(str(v))} |" for k, v in report.machine.items()]
    lines += ["", "| Section | Figure | Value | Target | Met? |", "|---|---|---|---|---|"]
    for f in report.figures:
        cells = (f.section, f.name, format_value(f.value, f.unit), f.target or "-", verdict(f.met) if f.target else "-")
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    for table in report.tables:
        lines += ["", *table_lines(table)]
    if report.notes:
        lines += ["", "Notes:", ""] + [f"- {note}" for note in report.notes]
    return "\n".join(lines) + "\n"


def _json_safe(value: object) -> object:
    """NaN/inf become null (strict JSON); containers are walked."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def to_json(report: Report) -> str:
    return json.dumps(_json_safe(asdict(report)), indent=2, allow_nan=False) + "\n"


def write(report: Report, out_dir: Path, stem: str = "bench") -> tuple[Path, Path]:
    """Write <stem>.json and <stem>.md into `out_dir`; returns both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / f"{stem}.json", out_dir / f"{stem}.md"
    json_path.write_text(to_json(report))
    md_path.write_text(render_markdown(report))
    return json_path, md_path
