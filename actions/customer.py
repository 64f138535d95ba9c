"""Who the customer of a conversation is, as far as the bot has verified it."""

from __future__ import annotations

from rasa_sdk import Tracker


def verified_customer_id(tracker: Tracker) -> int | None:
    """The routing service's id of the customer, only once verified (shop token or order + email); None for a guest.

    Every look-up and decision goes through this: a customer id in a slot that was never verified counts for nothing.
    """
    customer_id = tracker.get_slot("customer_id")
    if not tracker.get_slot("verified") or customer_id is None:
        return None
    return int(customer_id)
