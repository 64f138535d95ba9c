"""Tier computation: order history -> features -> CLV -> tier with an agent-readable reason; overrides."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Select, case, delete, func, insert, select
from sqlalchemy.orm import Session

from clock import utcnow
from routing.customers.models import Customer
from routing.orders.models import Order
from routing.policy.definition import Policy
from routing.tiers.models import CustomerTier


@dataclass(frozen=True)
class Features:
    """Value features of one customer at one moment."""

    customer_id: int
    revenue_12m_cents: int
    orders_12m: int
    revenue_total_cents: int
    orders_total: int
    returns: int
    support_contacts: int
    last_order_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class EffectiveTier:
    """The tier that applies now (an active manual override wins over the computed one)."""

    tier: str
    reason: str
    policy_version: str
    overridden: bool


def _features_query(since: datetime) -> Select[Any]:
    valid = Order.status != "cancelled"
    refunded = case((Order.refund_status == "refunded", func.coalesce(Order.refund_cents, 0)), else_=0)
    net = Order.total_cents - refunded
    recent = valid & (Order.placed_at >= since)
    return (
        select(
            Customer.id,
            Customer.created_at,
            Customer.support_contacts,
            func.coalesce(func.sum(case((recent, net), else_=0)), 0),
            func.coalesce(func.sum(case((recent, 1), else_=0)), 0),
            func.coalesce(func.sum(case((valid, net), else_=0)), 0),
            func.coalesce(func.sum(case((valid, 1), else_=0)), 0),
            func.coalesce(func.sum(case((Order.return_status.in_(("requested", "received")), 1), else_=0)), 0),
            func.max(case((valid, Order.placed_at), else_=None)),
        )
        .select_from(Customer)
        .outerjoin(Order, Order.customer_id == Customer.id)
        .group_by(Customer.id, Customer.created_at, Customer.support_contacts)
    )


def load_features(session: Session, now: datetime, window_months: int, customer_id: int | None = None
                  ) -> list[Features]:
    """Features of every customer (or of one) computed in a single aggregate query."""
    query = _features_query(now - timedelta(days=round(window_months * 365 / 12)))
    if customer_id is not None:
        query = query.where(Customer.id == customer_id)
    rows = session.execute(query).all()
    return [Features(cid, int(r12), int(n12), int(rt), int(nt), int(ret), int(sc), _aware(last), _aware(created) or now)
            for cid, created, sc, r12, n12, rt, nt, ret, last in rows]


def _aware(value: datetime | str | None) -> datetime | None:
    """Aggregates over SQLite may come back as naive datetimes or strings; make them UTC-aware."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def clv_of(policy: Policy, f: Features, now: datetime) -> tuple[float, float, int, int]:
    """(CLV, orders per year, average order value in cents, return/support cost in cents)."""
    model = policy.clv
    tenure_days = max((now - f.created_at).days, 0)
    years = max(tenure_days, model.min_tenure_days_for_frequency) / 365.0
    frequency = f.orders_total / years
    aov_cents = round(f.revenue_total_cents / f.orders_total) if f.orders_total else 0
    cost_cents = round(100 * (f.returns * model.return_cost + f.support_contacts * model.support_contact_cost))
    clv = (aov_cents / 100) * frequency * model.expected_lifespan_years * model.margin - cost_cents / 100
    return round(clv, 2), frequency, aov_cents, cost_cents


def classify(policy: Policy, clv: float, percentile: float) -> str:
    """The first tier (highest first) whose threshold the customer meets."""
    for tier in policy.tiers:
        if tier.min_clv_percentile is not None and percentile >= tier.min_clv_percentile:
            return tier.name
        if tier.min_clv is not None and clv >= tier.min_clv:
            return tier.name
    return policy.tiers[-1].name


def reason_text(policy: Policy, tier: str, f: Features, clv: float, percentile: float) -> str:
    """E.g. "Platinum: $14,200 in the last 12 months over 31 orders; top 2% by lifetime value"."""
    label = policy.tier(tier).display_name
    months = policy.clv.window_months
    if f.orders_12m:
        spend = (f"${f.revenue_12m_cents / 100:,.0f} in the last {months} months over {f.orders_12m} "
                 f"order{'s' if f.orders_12m != 1 else ''}")
    elif f.orders_total:
        spend = f"no orders in the last {months} months ({f.orders_total} before)"
    else:
        spend = "no orders yet"
    if clv < 0:
        rank = "costs more to serve than it earns (returns and support contacts)"
    elif percentile >= 50:
        rank = f"top {max(1, math.ceil(100 - percentile))}% by lifetime value"
    else:
        rank = "lifetime value below the median"
    return f"{label}: {spend}; {rank}"


def _row(policy: Policy, f: Features, clv: float, frequency: float, aov: int, cost: int, percentile: float,
         now: datetime) -> dict[str, object]:
    tier = classify(policy, clv, percentile)
    return {
        "customer_id": f.customer_id, "tier": tier, "reason": reason_text(policy, tier, f, clv, percentile),
        "policy_version": policy.version, "computed_at": now, "revenue_12m_cents": f.revenue_12m_cents,
        "orders_12m": f.orders_12m, "orders_total": f.orders_total, "revenue_total_cents": f.revenue_total_cents,
        "frequency_per_year": round(frequency, 4),
        "recency_days": (now - f.last_order_at).days if f.last_order_at else None, "aov_cents": aov,
        "tenure_days": max((now - f.created_at).days, 0), "return_support_cost_cents": cost, "clv": clv,
        "clv_percentile": round(percentile, 3),
    }


def tier_rows(session: Session, policy: Policy, now: datetime) -> list[dict[str, object]]:
    """Every customer's computed tier row (percentiles over the whole base), not stored: what `recompute_all`
    writes (the benchmarks' million-customer fixture writes it by COPY)."""
    features = load_features(session, now, policy.clv.window_months)
    scored = [(f, *clv_of(policy, f, now)) for f in features]
    ordered = sorted(s[1] for s in scored)
    n = len(ordered)
    return [_row(policy, f, clv, freq, aov, cost, 100.0 * bisect.bisect_left(ordered, clv) / n, now)
            for f, clv, freq, aov, cost in scored]


def recompute_all(session: Session, policy: Policy, now: datetime | None = None) -> int:
    """Recompute every customer's tier (bulk; percentiles over the whole base). Returns the number of customers."""
    rows = tier_rows(session, policy, now or utcnow())
    session.execute(delete(CustomerTier))
    for start in range(0, len(rows), 5000):
        session.execute(insert(CustomerTier), rows[start:start + 5000])
    session.flush()
    return len(rows)


def recompute_customer(session: Session, policy: Policy, customer_id: int, now: datetime | None = None) -> CustomerTier:
    """Incremental recompute of one customer (after an order changed); percentile ranks against stored CLVs."""
    now = now or utcnow()
    (f,) = load_features(session, now, policy.clv.window_months, customer_id)
    clv, freq, aov, cost = clv_of(policy, f, now)
    others = CustomerTier.customer_id != customer_id
    below = session.scalar(select(func.count()).where(others, CustomerTier.clv < clv)) or 0
    total = (session.scalar(select(func.count()).where(others)) or 0) + 1
    values = _row(policy, f, clv, freq, aov, cost, 100.0 * below / total, now)
    row = session.get(CustomerTier, customer_id)
    if row is None:
        row = CustomerTier(**values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    session.flush()
    return row


def effective_tier(policy: Policy, customer: Customer, row: CustomerTier | None, now: datetime | None = None
                   ) -> EffectiveTier:
    """The tier that applies now: an unexpired manual override, else the computed tier."""
    now = now or utcnow()
    override = customer.tier_override
    expires = customer.tier_override_expires_at
    if override and override in policy.rules and (expires is None or expires > now):
        until = f" until {expires:%Y-%m-%d}" if expires else ""
        reason = (f"{policy.tier(override).display_name}: manual override by {customer.tier_override_author}"
                  f"{until} ({customer.tier_override_reason})")
        return EffectiveTier(override, reason, policy.version, True)
    if row is None:
        lowest = policy.tiers[-1]
        return EffectiveTier(lowest.name, f"{lowest.display_name}: not computed yet", policy.version, False)
    return EffectiveTier(row.tier, row.reason, row.policy_version, False)


def set_override(session: Session, policy: Policy, customer: Customer, tier: str, reason: str, author: str,
                 expires_at: datetime | None) -> None:
    """Force `tier` for `customer` until `expires_at` (None = until removed)."""
    if tier not in policy.rules:
        raise ValueError(f"unknown tier {tier!r}; known: {', '.join(policy.tier_names)}")
    customer.tier_override = tier
    customer.tier_override_reason = reason
    customer.tier_override_author = author
    customer.tier_override_expires_at = expires_at
    session.flush()


def clear_override(session: Session, customer: Customer) -> None:
    """Remove the manual override; the computed tier applies again."""
    customer.tier_override = None
    customer.tier_override_reason = None
    customer.tier_override_author = None
    customer.tier_override_expires_at = None
    session.flush()
