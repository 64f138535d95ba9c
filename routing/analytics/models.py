"""Customer satisfaction ratings: one 1-5 answer (and an optional comment) per escalation handled by a person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clock import utcnow
from routing.db import Base
from routing.sqltypes import UTCDateTime

COMMENT_MAX = 1000


class CsatRating(Base):
    """The customer's answer to "How satisfied were you?" after a handoff ended (the first answer stands)."""

    __tablename__ = "csat_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"), unique=True)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
