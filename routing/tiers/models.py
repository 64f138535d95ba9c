"""The current computed value tier of each customer, with the features that produced it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from routing.db import Base
from routing.sqltypes import UTCDateTime


class CustomerTier(Base):
    """One row per customer (primary key = customer id, so the tier is a single indexed read)."""

    __tablename__ = "customer_tiers"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    tier: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500))
    policy_version: Mapped[str] = mapped_column(String(40))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revenue_12m_cents: Mapped[int] = mapped_column(Integer)
    orders_12m: Mapped[int] = mapped_column(Integer)
    orders_total: Mapped[int] = mapped_column(Integer)
    revenue_total_cents: Mapped[int] = mapped_column(Integer)
    frequency_per_year: Mapped[float] = mapped_column(Float)
    recency_days: Mapped[int | None] = mapped_column(Integer)
    aov_cents: Mapped[int] = mapped_column(Integer)
    tenure_days: Mapped[int] = mapped_column(Integer)
    return_support_cost_cents: Mapped[int] = mapped_column(Integer)
    clv: Mapped[float] = mapped_column(Float, index=True)
    clv_percentile: Mapped[float] = mapped_column(Float)
