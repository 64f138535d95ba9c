"""Delivery estimates: from an order's status and dates plus the policy's processing and transit times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from routing.orders.models import Order
from routing.policy.definition import DeliveryPolicy

SATURDAY = 5


@dataclass(frozen=True)
class DeliveryEstimate:
    """The window in which an order should arrive; `overdue` when its last day is already past."""

    earliest: date
    latest: date
    overdue: bool


def add_business_days(start: date, days: int) -> date:
    """The date `days` business days (Monday to Friday) after `start`."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < SATURDAY:
            days -= 1
    return current


def estimate_delivery(order: Order, policy: DeliveryPolicy, today: date) -> DeliveryEstimate | None:
    """When an open order should arrive; None once it was delivered, cancelled or returned."""
    transit = policy.transit(order.carrier)
    if order.status == "shipped" and order.shipped_at is not None:
        handed_over = order.shipped_at.date()
    elif order.status in ("placed", "processing"):
        handed_over = add_business_days(order.placed_at.date(), policy.processing_days)
    else:
        return None
    earliest = add_business_days(handed_over, transit.min)
    latest = add_business_days(handed_over, transit.max)
    return DeliveryEstimate(earliest=earliest, latest=latest, overdue=latest < today)
