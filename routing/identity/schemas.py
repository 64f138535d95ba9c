"""API shapes of identity verification."""

from __future__ import annotations

from pydantic import BaseModel, Field

from routing.customers.schemas import EMAIL_PATTERN, CustomerOut


class TokenIn(BaseModel):
    token: str = Field(min_length=1, max_length=4096)


class OrderEmailIn(BaseModel):
    order_number: str = Field(min_length=1, max_length=32)
    email: str = Field(max_length=320, pattern=EMAIL_PATTERN)


class DemoTokenIn(BaseModel):
    external_id: str = Field(min_length=1, max_length=64)


class TokenOut(BaseModel):
    token: str


class VerifiedCustomer(BaseModel):
    customer: CustomerOut
