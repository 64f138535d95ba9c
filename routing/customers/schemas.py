"""API shapes of customers."""

from __future__ import annotations

from pydantic import BaseModel, Field

from routing.customers.models import Customer
from routing.inputs import EMAIL_PATTERN, InputModel
from routing.policy.definition import Policy
from routing.sqltypes import UtcDatetime
from routing.tiers.models import CustomerTier
from routing.tiers.service import effective_tier

__all__ = ["EMAIL_PATTERN", "CustomerIn", "CustomerOut", "TierOverrideIn"]


class CustomerOut(BaseModel):
    """A customer as the bot sees it, with the tier that applies now."""

    id: int
    external_id: str
    name: str
    email: str
    tier: str
    tier_reason: str
    tier_policy_version: str

    @classmethod
    def build(cls, policy: Policy, customer: Customer, row: CustomerTier | None) -> CustomerOut:
        """From the models; an active manual override wins."""
        current = effective_tier(policy, customer, row)
        return cls(id=customer.id, external_id=customer.external_id, name=customer.name, email=customer.email,
                   tier=current.tier, tier_reason=current.reason, tier_policy_version=current.policy_version)


class CustomerIn(InputModel):
    """A new customer (CSV import, shop sync)."""

    external_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@:-]+$")
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=320, pattern=EMAIL_PATTERN)
    phone: str | None = Field(default=None, max_length=40)
    address_line: str | None = Field(default=None, max_length=300)
    city: str | None = Field(default=None, max_length=120)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    created_at: UtcDatetime | None = None
    support_contacts: int = Field(default=0, ge=0)


class TierOverrideIn(InputModel):
    """A manual tier override with its author, reason and optional expiry."""

    tier: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=3, max_length=500)
    author: str = Field(min_length=1, max_length=120)
    expires_at: UtcDatetime | None = None
