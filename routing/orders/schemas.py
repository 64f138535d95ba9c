"""API shapes of orders (see notes/routing_api.md); money goes out as decimal strings."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from routing.orders.models import Order
from routing.sqltypes import UtcDatetime

OrderStatus = Literal["placed", "processing", "shipped", "delivered", "cancelled", "returned"]
ReturnStatus = Literal["requested", "received", "rejected"]
RefundStatus = Literal["pending", "refunded", "rejected"]


def money(cents: int | None) -> str | None:
    """Cents -> "123.45"."""
    return None if cents is None else f"{cents // 100}.{cents % 100:02d}" if cents >= 0 else f"-{money(-cents)}"


class OrderItemOut(BaseModel):
    sku: str
    name: str
    quantity: int
    unit_price: str


class OrderOut(BaseModel):
    """An order as the bot shows it to its owner."""

    number: str
    status: OrderStatus
    placed_at: datetime
    shipped_at: datetime | None
    delivered_at: datetime | None
    carrier: str | None
    tracking_number: str | None
    total: str
    currency: str
    items: list[OrderItemOut]
    return_status: ReturnStatus | None
    refund_status: RefundStatus | None
    refund_amount: str | None
    invoice_number: str | None

    @classmethod
    def build(cls, order: Order) -> "OrderOut":
        return cls(number=order.number, status=order.status, placed_at=order.placed_at,  # type: ignore[arg-type]
                   shipped_at=order.shipped_at, delivered_at=order.delivered_at, carrier=order.carrier,
                   tracking_number=order.tracking_number, total=money(order.total_cents) or "0.00",
                   currency=order.currency,
                   items=[OrderItemOut(sku=i.sku, name=i.name, quantity=i.quantity,
                                       unit_price=money(i.unit_price_cents) or "0.00") for i in order.items],
                   return_status=order.return_status, refund_status=order.refund_status,  # type: ignore[arg-type]
                   refund_amount=money(order.refund_cents), invoice_number=order.invoice_number)


class OrderList(BaseModel):
    orders: list[OrderOut]


class OrderItemIn(BaseModel):
    sku: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1)
    unit_price_cents: int = Field(ge=0)


class OrderIn(BaseModel):
    """A new order of an existing customer (shop sync, CSV import)."""

    number: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9-]+$")
    customer_external_id: str = Field(min_length=1, max_length=64)
    status: OrderStatus
    placed_at: UtcDatetime
    shipped_at: UtcDatetime | None = None
    delivered_at: UtcDatetime | None = None
    carrier: str | None = Field(default=None, max_length=40)
    tracking_number: str | None = Field(default=None, max_length=64)
    total_cents: int = Field(ge=0)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    return_status: ReturnStatus | None = None
    refund_status: RefundStatus | None = None
    refund_cents: int | None = Field(default=None, ge=0)
    invoice_number: str | None = Field(default=None, max_length=32)
    shipping_address: str | None = Field(default=None, max_length=500)
    items: list[OrderItemIn] = Field(default_factory=list)


class OrderUpdate(BaseModel):
    """Changes to an order's fulfilment, return or refund state (only the fields given change)."""

    status: OrderStatus | None = None
    shipped_at: UtcDatetime | None = None
    delivered_at: UtcDatetime | None = None
    carrier: str | None = Field(default=None, max_length=40)
    tracking_number: str | None = Field(default=None, max_length=64)
    return_status: ReturnStatus | None = None
    refund_status: RefundStatus | None = None
    refund_cents: int | None = Field(default=None, ge=0)
