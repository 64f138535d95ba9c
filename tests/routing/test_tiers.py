"""Tier computation, reasons, overrides with expiry, incremental recompute."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from routing.customers.schemas import CustomerIn
from routing.customers.service import create_customer, get_by_external_id
from routing.orders.schemas import OrderIn, OrderUpdate
from routing.orders.service import create_order, update_order
from routing.policy.definition import Policy
from routing.tiers import service as tiers
from routing.tiers.models import CustomerTier
from routing.tiers.service import Features, classify, clv_of, reason_text

pytestmark = pytest.mark.clock  # about hours, SLAs, expiry or dates: CI runs it at other instants too

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def features(**kw: object) -> Features:
    base = {"customer_id": 1, "revenue_12m_cents": 1_420_000, "orders_12m": 31, "revenue_total_cents": 2_000_000,
                "orders_total": 40, "returns": 0, "support_contacts": 0, "last_order_at": NOW - timedelta(days=3),
                "created_at": NOW - timedelta(days=730)}
    base.update(kw)
    return Features(**base)


def test_clv_formula(policy: Policy) -> None:
    clv, frequency, aov, cost = clv_of(policy, features(returns=2, support_contacts=5), NOW)
    assert aov == 50_000 and frequency == pytest.approx(20.0)
    assert cost == round(100 * (2 * policy.clv.return_cost + 5 * policy.clv.support_contact_cost))
    expected = 500 * 20 * policy.clv.expected_lifespan_years * policy.clv.margin - cost / 100
    assert clv == pytest.approx(expected)


def test_unprofitable_customer_has_negative_clv_and_says_why(policy: Policy) -> None:
    f = features(revenue_total_cents=5000, orders_total=1, orders_12m=1, revenue_12m_cents=5000, returns=6,
                 support_contacts=30)
    clv, *_ = clv_of(policy, f, NOW)
    assert clv < 0
    assert "costs more to serve" in reason_text(policy, classify(policy, clv, 0.0), f, clv, 0.0)


def test_classification_and_reason_text(policy: Policy) -> None:
    assert [classify(policy, 1.0, p) for p in (99.5, 98, 95, 60, 10)] == \
        ["platinum", "platinum", "gold", "silver", "bronze"]
    text = reason_text(policy, "platinum", features(), 9999.0, 98.2)
    assert text == "Platinum: $14,200 in the last 12 months over 31 orders; top 2% by lifetime value"
    assert "no orders yet" in reason_text(policy, "bronze", features(orders_total=0, orders_12m=0), 0, 0)


def test_absolute_thresholds(policy: Policy) -> None:
    from routing.policy.definition import TierDefinition

    tiers_abs = [TierDefinition(name="platinum", display_name="P", min_clv=5000),
                 TierDefinition(name="gold", display_name="G", min_clv=1000),
                 TierDefinition(name="silver", display_name="S", min_clv=100),
                 TierDefinition(name="bronze", display_name="B", min_clv_percentile=0)]
    absolute = policy.model_copy(update={"tiers": tiers_abs})
    assert [classify(absolute, v, 50) for v in (6000, 1000, 150, 5)] == ["platinum", "gold", "silver", "bronze"]


def test_bulk_recompute_ranks_everyone(demo_db: sessionmaker[Session], policy: Policy) -> None:
    with demo_db.begin() as session:
        assert tiers.recompute_all(session, policy) == 304
        rows = session.query(CustomerTier).all()
    counts = {t: sum(1 for r in rows if r.tier == t) for t in policy.tier_names}
    assert counts["platinum"] < counts["gold"] < counts["silver"] < counts["bronze"]
    assert all(r.policy_version == policy.version and r.reason.startswith(r.tier.title()) for r in rows)


def test_new_order_recomputes_tier_incrementally(demo_db: sessionmaker[Session], policy: Policy) -> None:
    with demo_db.begin() as session:
        customer = create_customer(session, policy, CustomerIn(external_id="new-1", name="New One",
                                                               email="New.One@example.com"))
        assert session.get(CustomerTier, customer.id).tier == "bronze"
        for k in range(12):
            create_order(session, policy, OrderIn(number=f"N-{k}", customer_external_id="new-1", status="delivered",
                                                  placed_at=utcnow() - timedelta(days=10 + k), total_cents=150_000))
        row = session.get(CustomerTier, customer.id)
        assert row is not None and row.tier == "platinum" and row.orders_12m == 12
        assert "$18,000 in the last 12 months over 12 orders" in row.reason
        for k in range(12):  # all refunded: revenue gone, tier drops
            update_order(session, policy, f"N-{k}", OrderUpdate(status="returned", return_status="received",
                                                                refund_status="refunded", refund_cents=150_000))
        row = session.get(CustomerTier, customer.id)
        assert row is not None and row.tier == "bronze" and row.revenue_12m_cents == 0


def test_override_wins_until_it_expires(demo_db: sessionmaker[Session], policy: Policy) -> None:
    with demo_db.begin() as session:
        customer, row = get_by_external_id(session, "cust-00001")
        computed = tiers.effective_tier(policy, customer, row)
        assert not computed.overridden
        tiers.set_override(session, policy, customer, "gold", "key account", "alice",
                           utcnow() + timedelta(days=7))
        current = tiers.effective_tier(policy, customer, row)
        assert current.tier == "gold" and current.overridden
        assert "manual override by alice" in current.reason and "key account" in current.reason
        later = tiers.effective_tier(policy, customer, row, now=utcnow() + timedelta(days=8))
        assert later.tier == computed.tier and not later.overridden
        with pytest.raises(ValueError, match="unknown tier"):
            tiers.set_override(session, policy, customer, "diamond", "x", "alice", None)
        tiers.clear_override(session, customer)
        assert tiers.effective_tier(policy, customer, row).tier == computed.tier
