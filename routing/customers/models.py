"""Customer table: the shop's verified login id, contact data, support cost and the manual tier override."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from clock import utcnow
from routing.db import Base
from routing.sqltypes import UTCDateTime


class Customer(Base):
    """A shop customer; `external_id` is the id of the shop's login (JWT `sub`)."""

    __tablename__ = "customers"
    __table_args__ = (Index("ix_customers_email_lower", "email_lower", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    email_lower: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    address_line: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(120))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    support_contacts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    tier_override: Mapped[str | None] = mapped_column(String(32))
    tier_override_reason: Mapped[str | None] = mapped_column(String(500))
    tier_override_author: Mapped[str | None] = mapped_column(String(120))
    tier_override_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
