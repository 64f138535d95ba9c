"""API shapes of orders; money goes out as decimal strings."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from routing.inputs import InputModel
from routing.orders.delivery import DeliveryEstimate
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


class DeliveryEstimateOut(BaseModel):
    """When an open order should arrive (business days from the policy's processing and transit times)."""

    earliest: date
    latest: date
    overdue: bool


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
    shipping_address: str | None
    estimated_delivery: DeliveryEstimateOut | None
    returnable_until: date | None

    @classmethod
    def build(cls, order: Order, estimate: DeliveryEstimate | None, returnable_until: date | None) -> OrderOut:
        """The API shape of `order`, with its delivery estimate and the last day a return can be started."""
        return cls(number=order.number, status=order.status, placed_at=order.placed_at,
                   shipped_at=order.shipped_at, delivered_at=order.delivered_at, carrier=order.carrier,
                   tracking_number=order.tracking_number, total=money(order.total_cents) or "0.00",
                   currency=order.currency,
                   items=[OrderItemOut(sku=i.sku, name=i.name, quantity=i.quantity,
                                       unit_price=money(i.unit_price_cents) or "0.00") for i in order.items],
                   return_status=order.return_status, refund_status=order.refund_status,
                   refund_amount=money(order.refund_cents), invoice_number=order.invoice_number,
                   shipping_address=order.shipping_address,
                   estimated_delivery=None if estimate is None else DeliveryEstimateOut(
                       earliest=estimate.earliest, latest=estimate.latest, overdue=estimate.overdue),
                   returnable_until=returnable_until)


class OrderList(BaseModel):
    orders: list[OrderOut]


class OrderItemIn(InputModel):
    sku: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1)
    unit_price_cents: int = Field(ge=0)


class OrderIn(InputModel):
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


class OrderUpdate(InputModel):
    """Changes to an order's fulfilment, return or refund state (only the fields given change; an order always has a
    status, so `"status": null` is refused)."""

    status: OrderStatus | None = None
    shipped_at: UtcDatetime | None = None
    delivered_at: UtcDatetime | None = None
    carrier: str | None = Field(default=None, max_length=40)
    tracking_number: str | None = Field(default=None, max_length=64)
    return_status: ReturnStatus | None = None
    refund_status: RefundStatus | None = None
    refund_cents: int | None = Field(default=None, ge=0)

    @field_validator("status", mode="before")
    @classmethod
    def _status_not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("an order always has a status")
        return value


_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


class ShippingAddressIn(InputModel):
    """A new shipping address: plain text, one or more lines, at most 500 characters."""

    address: str = Field(min_length=1, max_length=500)

    @field_validator("address")
    @classmethod
    def _plain_address(cls, value: str) -> str:
        if _CONTROL.search(value):
            raise ValueError("the address may not contain control characters")
        lines = [" ".join(line.split()) for line in value.splitlines()]
        address = "\n".join(line for line in lines if line)
        if len(address) < 5 or not any(ch.isalpha() for ch in address):
            raise ValueError("give a full address: street and number, postcode and city")
        return address


class ReturnOut(BaseModel):
    """A started return: its reference, the last day to send the items back, and what to do."""

    order: OrderOut
    return_reference: str
    send_back_by: date
    instructions: str
