"""Deterministic demo shop: heavy-tailed customers, two years of orders, returns/refunds, four demo accounts.

`generate(n, seed, now)` is pure (same arguments -> same rows); `load_demo` bulk-inserts into an empty database,
computes tiers and pins the demo accounts ("demo-platinum" ...) to their tier with a "demo account" override.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from clock import utcnow
from routing.customers.models import Customer
from routing.orders.models import Order, OrderItem
from routing.policy.definition import Policy
from routing.tiers import service as tiers

FIRST = ("ava", "ben", "chloe", "david", "emma", "felix", "grace", "henry", "isla", "jack", "kate", "liam", "mia",
         "noah", "olivia", "paul", "quinn", "ruby", "sam", "tara", "umar", "vera", "will", "xena", "yusuf", "zoe",
         "aiko", "bruno", "carmen", "dmitri", "elena", "farah", "goran", "hana", "ivan", "jun", "kofi", "lena")
LAST = ("smith", "jones", "garcia", "miller", "davis", "martin", "lopez", "wilson", "clark", "lewis", "walker",
        "young", "allen", "king", "wright", "scott", "green", "baker", "adams", "nelson", "hill", "campbell",
        "mitchell", "roberts", "carter", "phillips", "evans", "turner", "torres", "parker", "collins", "edwards")
CITIES = (("New York", "10001"), ("Chicago", "60601"), ("Austin", "73301"), ("Seattle", "98101"),
          ("Denver", "80202"), ("Boston", "02108"), ("Miami", "33101"), ("Portland", "97201"))
STREETS = ("Main St", "Oak Ave", "Pine Rd", "Maple Dr", "Cedar Ln", "Elm St", "Lake Rd", "Hill St")
CATALOG = (("SKU-1001", "Merino wool sweater", 8900), ("SKU-1002", "Leather weekender bag", 24900),
           ("SKU-1003", "Running shoes", 12900), ("SKU-1004", "Cotton t-shirt", 2400),
           ("SKU-1005", "Rain jacket", 15900),
           ("SKU-1006", "Silk scarf", 6900), ("SKU-1007", "Denim jeans", 7900), ("SKU-1008", "Ceramic mug set", 3400),
           ("SKU-1009", "Espresso machine", 44900), ("SKU-1010", "Linen bedding set", 18900),
           ("SKU-1011", "Noise-cancelling headphones", 29900), ("SKU-1012", "Yoga mat", 4900))
CARRIERS = ("UPS", "FedEx", "USPS", "DHL")
HISTORY_DAYS = 730
FIRST_ORDER_NUMBER = 100001
DEMO_ACCOUNTS = (  # external id, tier, name, orders in the last year, average order value in cents
    ("demo-platinum", "platinum", "Patricia Platinum", 30, 47000),
    ("demo-gold", "gold", "Gordon Gold", 14, 21000),
    ("demo-silver", "silver", "Sylvia Silver", 6, 9000),
    ("demo-bronze", "bronze", "Bruce Bronze", 1, 2400),
)


@dataclass
class DemoShop:
    """Rows ready for bulk insert (explicit ids, so that orders and items can reference them)."""

    customers: list[dict[str, object]] = field(default_factory=list)
    orders: list[dict[str, object]] = field(default_factory=list)
    items: list[dict[str, object]] = field(default_factory=list)


def _items(rng: random.Random, total_cents: int) -> list[tuple[str, str, int, int]]:
    """Line items whose prices add up exactly to `total_cents`."""
    lines = rng.randint(1, 3)
    picks = rng.sample(CATALOG, lines)
    weights = [p[2] for p in picks]
    shares = [total_cents * w // sum(weights) for w in weights]
    shares[0] += total_cents - sum(shares)
    return [(sku, name, 1, share) for (sku, name, _), share in zip(picks, shares, strict=True)]


def _order(rng: random.Random, now: datetime, placed: datetime, total: int, return_rate: float) -> dict[str, object]:
    age = (now - placed).total_seconds() / 86400
    row: dict[str, object] = {"placed_at": placed, "total_cents": total, "currency": "USD", "status": "delivered",
                              "shipped_at": None, "delivered_at": None, "carrier": None, "tracking_number": None,
                              "return_status": None, "refund_status": None, "refund_cents": None}
    if rng.random() < 0.03:
        row["status"] = "cancelled"
        return row
    if age < 1:
        row["status"] = "placed"
    elif age < 2:
        row["status"] = "processing"
    else:
        row["shipped_at"] = placed + timedelta(days=1, hours=rng.randint(0, 12))
        row["carrier"] = rng.choice(CARRIERS)
        row["tracking_number"] = f"1Z{rng.randrange(10**15, 10**16)}"
        if age < 6:
            row["status"] = "shipped"
        else:
            row["delivered_at"] = placed + timedelta(days=rng.randint(3, 5))
            if rng.random() < return_rate:
                row["status"] = "returned"
                row["return_status"] = "received"
                row["refund_status"] = "refunded" if age > 20 else "pending"
                row["refund_cents"] = total
    return row


def generate(n: int, seed: int = 42, now: datetime | None = None) -> DemoShop:
    """A shop of `n` regular customers (ids 1..n) plus the four demo accounts; same seed and `now` -> same rows."""
    now = (now or utcnow()).replace(microsecond=0)
    rng = random.Random(seed)
    shop = DemoShop()
    pending: list[tuple[int, dict[str, object], list[tuple[str, str, int, int]]]] = []

    def add_customer(cid: int, external_id: str, name: str, email: str, created: datetime, support: int) -> str:
        city, postal = rng.choice(CITIES)
        street = f"{rng.randint(1, 999)} {rng.choice(STREETS)}"
        shop.customers.append({
            "id": cid, "external_id": external_id, "name": name, "email": email, "email_lower": email.lower(),
            "phone": f"+1-555-{rng.randint(1000, 9999)}", "address_line": street, "city": city,
            "postal_code": postal, "country": "US", "created_at": created, "support_contacts": support})
        return f"{street}, {city} {postal}, US"

    for cid in range(1, n + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        created = now - timedelta(days=rng.uniform(20, HISTORY_DAYS + 400))
        unprofitable = rng.random() < 0.01
        support = rng.choice((0, 0, 0, 0, 1, 1, 2, 3)) + (rng.randint(15, 40) if unprofitable else 0)
        address = add_customer(cid, f"cust-{cid:05d}", f"{first.title()} {last.title()}",
                               f"{first}.{last}{cid}@example.com", created, support)
        activity = min(rng.paretovariate(1.4), 40.0)
        count = 0 if rng.random() < 0.06 else max(1, int(activity * rng.uniform(0.7, 1.5)))
        aov = rng.lognormvariate(math.log(4500), 0.45) * activity ** 0.35
        start = max(created, now - timedelta(days=HISTORY_DAYS))
        span = (now - start).total_seconds()
        for _ in range(count):
            placed = start + timedelta(seconds=rng.uniform(0, span))
            total = max(500, int(aov * rng.uniform(0.6, 1.4)))
            order = _order(rng, now, placed, total, 0.6 if unprofitable else 0.05)
            order["shipping_address"] = address
            pending.append((cid, order, _items(rng, total)))

    for offset, (external_id, tier, name, count, aov) in enumerate(DEMO_ACCOUNTS, start=1):
        cid = n + offset
        address = add_customer(cid, external_id, name, f"{tier}@example.com", now - timedelta(days=700),
                               1 if tier != "bronze" else 0)
        for k in range(count):
            placed = now - timedelta(days=20 + k * (330 // max(count, 1)), hours=k)
            order = _order(rng, now, placed, aov + rng.randint(-500, 500), 0.0)
            order["shipping_address"] = address
            pending.append((cid, order, _items(rng, cast(int, order["total_cents"]))))
        for status, days in (("shipped", 3), ("delivered", 9), ("returned", 12)):  # the showcase orders
            placed = now - timedelta(days=days)
            order = _order(random.Random(0), now, placed, aov, 0.0)
            if status == "shipped":
                order.update(status="shipped", delivered_at=None)
            if status == "returned":
                order.update(status="returned", return_status="received", refund_status="pending",
                             refund_cents=order["total_cents"])
            order["shipping_address"] = address
            pending.append((cid, order, _items(rng, cast(int, order["total_cents"]))))

    pending.sort(key=lambda p: (cast(datetime, p[1]["placed_at"]), p[0]))
    for oid, (cid, order, items) in enumerate(pending, start=1):
        number = FIRST_ORDER_NUMBER + oid - 1
        order.update(id=oid, customer_id=cid, number=f"C-{number}",
                     invoice_number=None if order["status"] == "cancelled" else f"INV-{number}")
        shop.orders.append(order)
        for sku, name, qty, price in items:
            shop.items.append({"order_id": oid, "sku": sku, "name": name, "quantity": qty, "unit_price_cents": price})
    return shop


def revenue_by_customer(shop: DemoShop) -> dict[int, int]:
    """Net revenue (cents) per customer id, cancelled and refunded orders excluded."""
    revenue = {cast(int, c["id"]): 0 for c in shop.customers}
    for o in shop.orders:
        if o["status"] != "cancelled":
            refunded = cast("int | None", o["refund_cents"]) if o["refund_status"] == "refunded" else 0
            revenue[cast(int, o["customer_id"])] += cast(int, o["total_cents"]) - (refunded or 0)
    return revenue


def insert_shop(session: Session, shop: DemoShop, chunk: int = 5000) -> None:
    """Bulk-insert the rows (core executemany) and move PostgreSQL id sequences past them."""
    for model, rows in ((Customer, shop.customers), (Order, shop.orders), (OrderItem, shop.items)):
        for start in range(0, len(rows), chunk):
            session.execute(insert(model), rows[start:start + chunk])
    if session.get_bind().dialect.name == "postgresql":
        for table in ("customers", "orders", "order_items"):
            session.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), "
                                 "(SELECT COALESCE(MAX(id), 1) FROM " + table + "))"), {"t": table})
    session.flush()


def load_demo(session: Session, policy: Policy, n: int, seed: int = 42, now: datetime | None = None) -> bool:
    """Load the demo shop when there are no customers yet, compute tiers, pin demo accounts. True if loaded."""
    if session.scalar(select(func.count()).select_from(Customer)):
        return False
    now = now or utcnow()
    insert_shop(session, generate(n, seed, now))
    tiers.recompute_all(session, policy, now)
    pin_demo_accounts(session, policy, now)
    return True


def pin_demo_accounts(session: Session, policy: Policy, now: datetime | None = None) -> None:
    """Give each demo account its named tier with a "demo account" override when the computation disagrees."""
    from routing.tiers.models import CustomerTier

    for external_id, tier, *_ in DEMO_ACCOUNTS:
        customer = session.scalar(select(Customer).where(Customer.external_id == external_id))
        if customer is None or tier not in policy.rules:
            continue
        computed = session.get(CustomerTier, customer.id)
        if computed is None or computed.tier != tier:
            tiers.set_override(session, policy, customer, tier, "demo account", "demo", None)
