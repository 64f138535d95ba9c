"""The key that lets the customer of a conversation rate the chat a person just ended (HMAC-SHA256 of the escalation
and the conversation under CONCIERGE_CSAT_SECRET). The outbox signs it when it sends the end of the handoff
(routing/escalations/delivery.py); the CSAT endpoint checks it (routing/analytics/csat.py)."""

from __future__ import annotations

import hashlib
import hmac


def rating_key(secret: str, escalation_id: int, conversation_id: str) -> str:
    """The key that lets the customer of `conversation_id` rate escalation `escalation_id` (hex HMAC-SHA256)."""
    return hmac.new(secret.encode(), f"{escalation_id}:{conversation_id}".encode(), hashlib.sha256).hexdigest()
