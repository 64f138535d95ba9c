"""API shapes of identity verification."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from routing.customers.schemas import EMAIL_PATTERN, CustomerOut
from routing.inputs import InputModel


class TokenIn(InputModel):
    token: str = Field(min_length=1, max_length=4096)


class OrderEmailIn(InputModel):
    order_number: str = Field(min_length=1, max_length=32)
    email: str = Field(max_length=320, pattern=EMAIL_PATTERN)


class DemoTokenIn(InputModel):
    external_id: str = Field(min_length=1, max_length=64)


class TokenOut(BaseModel):
    token: str


class VerifiedCustomer(BaseModel):
    customer: CustomerOut
    expires_at: datetime | None = Field(
        description="until when the shop's sign-in token is valid (token verification only: null for an order "
                    "and its email): a caller may trust its verification until then, and must ask again after")
