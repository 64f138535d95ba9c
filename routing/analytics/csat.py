"""CSAT: store the customer's rating of the conversation a person just ended.

Only the conversation's own customer may rate it, and once. The browser calls the endpoint without any sign-in, so
the conversation id alone would let anyone who learns or guesses it rate (or re-rate) the chat. When a person ends
the chat, the routing service sends the conversation a key, `rating_key` (HMAC-SHA256 of the escalation and the
conversation under CONCIERGE_CSAT_SECRET), with the end of the handoff; the bot hands it to the customer's widget,
and the widget posts it with the rating. The key names the escalation rated; the first rating stands (the same
answer sent again is accepted, a different one is refused).
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from clock import utcnow
from routing.analytics.models import CsatRating
from routing.analytics.schemas import CsatIn
from routing.errors import Conflict, Forbidden, NotFound
from routing.escalations.models import Escalation, Status
from routing.escalations.rating_keys import rating_key

RATING_WINDOW = timedelta(hours=24)  # a rating is accepted for a day after the person ended the chat
RATED_STATUSES = (Status.RESOLVED, Status.RETURNED_TO_BOT)
MAX_CANDIDATES = 100  # a conversation's latest escalations that a key is checked against


class NothingToRate(NotFound):
    """The key's escalation was not ended by a person in the last 24 hours."""

    detail = "No conversation with a person ended here in the last 24 hours."


class AlreadyRated(Conflict):
    """The chat has a different rating already (409)."""


def _keyed_escalation(session: Session, data: CsatIn, secret: str) -> Escalation:
    """The conversation's escalation whose key was sent; Forbidden (403) when none."""
    if not data.rating_key:
        raise Forbidden("A rating needs the rating key the chat widget received when the chat ended.")
    sent = data.rating_key.encode()
    for esc in session.scalars(select(Escalation).where(Escalation.conversation_id == data.conversation_id)
                               .order_by(Escalation.id.desc()).limit(MAX_CANDIDATES)):
        if hmac.compare_digest(rating_key(secret, esc.id, esc.conversation_id).encode(), sent):
            return esc
    raise Forbidden("This rating key does not belong to this conversation.")


def rate(session: Session, data: CsatIn, secret: str, now: datetime | None = None) -> CsatRating:
    """Store the rating of the escalation the key names, when a person ended it in the last 24 hours. The first
    rating stands: the same answer sent again (the widget retried) is returned as stored, a different one is
    AlreadyRated (409)."""
    now = now or utcnow()
    esc = _keyed_escalation(session, data, secret)
    if esc.status not in RATED_STATUSES or esc.closed_at is None or esc.closed_at < now - RATING_WINDOW:
        raise NothingToRate()
    comment = (data.comment or "").strip() or None
    rating = session.scalars(select(CsatRating).where(CsatRating.escalation_id == esc.id)).first()
    if rating is not None:
        if (rating.rating, rating.comment) != (data.rating, comment):
            raise AlreadyRated("This chat has been rated already; a rating cannot be changed.")
        return rating
    rating = CsatRating(escalation_id=esc.id, conversation_id=esc.conversation_id, rating=data.rating,
                        comment=comment, created_at=now)
    session.add(rating)
    session.flush()
    return rating
