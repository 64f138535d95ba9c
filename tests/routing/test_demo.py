"""Demo shop generator: deterministic, Pareto-shaped, loads fast, demo accounts get their tiers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from routing.customers import service as customers
from routing.customers.schemas import CustomerOut
from routing.demo import generate, revenue_by_customer
from routing.orders.models import Order
from routing.policy.definition import Policy


def test_same_seed_same_shop_and_other_seed_differs(demo_now: datetime) -> None:
    a, b, c = generate(500, 1, demo_now), generate(500, 1, demo_now), generate(500, 2, demo_now)
    assert a.customers == b.customers and a.orders == b.orders and a.items == b.items
    assert a.orders != c.orders


def test_top_fifth_of_customers_holds_most_revenue(demo_now: datetime) -> None:
    shop = generate(10_000, 42, demo_now)
    revenue = sorted(revenue_by_customer(shop).values(), reverse=True)
    share = sum(revenue[: len(revenue) // 5]) / sum(revenue)
    assert 0.7 <= share <= 0.9, share


def test_ids_emails_numbers_follow_the_contract(demo_now: datetime) -> None:
    shop = generate(20, 3, demo_now)
    first = shop.customers[0]
    assert first["external_id"] == "cust-00001"
    assert str(first["email"]).endswith("1@example.com")
    assert shop.orders[0]["number"] == "C-100001"
    assert {c["external_id"] for c in shop.customers[-4:]} == {"demo-platinum", "demo-gold", "demo-silver",
                                                               "demo-bronze"}
    statuses = {o["status"] for o in shop.orders}
    assert {"delivered", "shipped", "returned"} <= statuses
    for order in shop.orders:  # line items add up to the order total
        items = [i for i in shop.items if i["order_id"] == order["id"]]
        assert sum(int(i["unit_price_cents"]) * int(i["quantity"]) for i in items) == order["total_cents"]


def test_demo_accounts_have_their_tier_and_showcase_orders(demo_db: sessionmaker[Session], policy: Policy) -> None:
    with demo_db() as session:
        for tier in ("platinum", "gold", "silver", "bronze"):
            found = customers.get_by_email(session, f"{tier.upper()}@example.com")
            assert found is not None
            out = CustomerOut.build(policy, *found)
            assert out.tier == tier and out.external_id == f"demo-{tier}"
            orders = session.scalars(select(Order).where(Order.customer_id == out.id)).all()
            assert any(o.status == "shipped" and o.tracking_number for o in orders)
            assert any(o.status == "delivered" for o in orders)
            assert any(o.refund_status == "pending" for o in orders)
        assert session.scalar(select(func.count()).select_from(Order)) > 300
