"""The Pareto picture: customers and revenue share per tier, as a Markdown table and a PNG chart."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.policy.definition import Policy
from routing.tiers.models import CustomerTier


@dataclass(frozen=True)
class TierShare:
    tier: str
    customers: int
    revenue_12m_cents: int
    customer_share: float
    revenue_share: float


def tier_shares(session: Session, policy: Policy) -> list[TierShare]:
    """Computed tiers (highest first) with their share of customers and of 12-month revenue."""
    rows = {t: (n, r) for t, n, r in session.execute(
        select(CustomerTier.tier, func.count(), func.coalesce(func.sum(CustomerTier.revenue_12m_cents), 0))
        .group_by(CustomerTier.tier)).tuples()}
    customers = sum(n for n, _ in rows.values()) or 1
    revenue = sum(max(int(r), 0) for _, r in rows.values()) or 1
    return [TierShare(t, rows.get(t, (0, 0))[0], int(rows.get(t, (0, 0))[1]), rows.get(t, (0, 0))[0] / customers,
                      max(int(rows.get(t, (0, 0))[1]), 0) / revenue) for t in policy.tier_names]


def markdown(policy: Policy, shares: list[TierShare]) -> str:
    """A Markdown table (readable on the console as is)."""
    lines = [f"Value tiers (policy {policy.version})", "",
             "| tier | customers | % customers | revenue 12 m | % revenue |", "|---|---:|---:|---:|---:|"]
    for s in shares:
        lines.append(f"| {policy.tier(s.tier).display_name} | {s.customers:,} | {100 * s.customer_share:.1f}% | "
                     f"${s.revenue_12m_cents / 100:,.0f} | {100 * s.revenue_share:.1f}% |")
    return "\n".join(lines) + "\n"


def chart(policy: Policy, shares: list[TierShare], path: Path) -> None:
    """A grouped bar chart: % of customers vs % of revenue per tier."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [policy.tier(s.tier).display_name for s in shares]
    x = range(len(shares))
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.bar([i - 0.2 for i in x], [100 * s.customer_share for s in shares], 0.4, label="% of customers")
    ax.bar([i + 0.2 for i in x], [100 * s.revenue_share for s in shares], 0.4, label="% of 12-month revenue")
    ax.set_xticks(list(x), labels)
    ax.set_ylabel("%")
    ax.set_title(f"Customers and revenue per tier (policy {policy.version})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(session: Session, policy: Policy, out_dir: Path) -> tuple[str, Path, Path]:
    """Write tiers.md and tiers.png into `out_dir`; returns (markdown, md path, png path)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    shares = tier_shares(session, policy)
    text = markdown(policy, shares)
    md_path, png_path = out_dir / "tiers.md", out_dir / "tiers.png"
    md_path.write_text(text + "\n![customers and revenue per tier](tiers.png)\n", encoding="utf-8")
    chart(policy, shares, png_path)
    return text, md_path, png_path
