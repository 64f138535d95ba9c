"""The conversations the load generator replays: Concierge's routine questions and the bare bot's own topics."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.rest_load import Dialogue

GREETING, DELIVERY = "hi", "how long does delivery take"
PAYMENT, BYE = "what payment methods do you accept", "I'm done, bye"


def concierge_dialogue(order_number: str, email: str) -> Dialogue:
    """greet (action_session_start) -> track order (verify_order_form + its validation action, which asks for
    the email) -> email (verification via the routing service, then action_order_status) -> two static answers
    -> goodbye: six turns, three of them running custom actions."""
    return (GREETING, f"where is my order {order_number}", email, DELIVERY, PAYMENT, BYE)


def demo_orders(database_url: str, limit: int = 12) -> list[tuple[str, str]]:
    """(order number, email) pairs of the demo accounts' shipped or delivered orders in the routing database."""
    from routing.customers.models import Customer
    from routing.db import make_engine
    from routing.demo import DEMO_ACCOUNTS
    from routing.orders.models import Order

    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            rows = session.execute(
                select(Order.number, Customer.email)
                .join(Customer, Order.customer_id == Customer.id)
                .where(Customer.external_id.in_([a[0] for a in DEMO_ACCOUNTS]))
                .where(Order.status.in_(("shipped", "delivered")))
                .order_by(Order.id)
                .limit(limit)
            ).all()
    finally:
        engine.dispose()
    if not rows:
        raise RuntimeError("the routing database has no demo orders to ask about")
    return [(str(number), str(email)) for number, email in rows]
