"""CSAT: store the customer's rating of the conversation a person just ended."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from clock import utcnow
from routing.analytics.models import CsatRating
from routing.analytics.schemas import CsatIn
from routing.errors import NotFound
from routing.escalations.models import Escalation, Status

RATING_WINDOW = timedelta(hours=24)  # a rating is accepted for a day after the person ended the chat
RATED_STATUSES = (Status.RESOLVED, Status.RETURNED_TO_BOT)


class NothingToRate(NotFound):
    """The conversation has no chat with a person that ended in the last 24 hours."""

    detail = "No conversation with a person ended here in the last 24 hours."


def rate(session: Session, data: CsatIn, now: datetime | None = None) -> CsatRating:
    """Store the rating of the conversation's latest escalation closed by an agent; a second answer replaces the
    first (the customer changed their mind, or the widget sent it again)."""
    now = now or utcnow()
    esc = session.scalars(select(Escalation).where(
        Escalation.conversation_id == data.conversation_id, Escalation.status.in_(RATED_STATUSES),
        Escalation.closed_at >= now - RATING_WINDOW).order_by(Escalation.closed_at.desc(), Escalation.id.desc())
    ).first()
    if esc is None:
        raise NothingToRate()
    comment = (data.comment or "").strip() or None
    rating = session.scalars(select(CsatRating).where(CsatRating.escalation_id == esc.id)).first()
    if rating is None:
        rating = CsatRating(escalation_id=esc.id, conversation_id=esc.conversation_id)
        session.add(rating)
    rating.rating, rating.comment, rating.created_at = data.rating, comment, now
    session.flush()
    return rating
