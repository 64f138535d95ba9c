"""Who the customer of a conversation is, as far as the bot has verified it."""

from __future__ import annotations

from rasa_sdk import Tracker


def verified_customer_id(tracker: Tracker) -> int | None:
    """The routing service's id of the customer, only once verified (shop token or order + email); None for a guest.

    Every look-up and decision goes through this: a customer id in a slot that was never verified counts for nothing.
    Actions call actions.identity.checked_identity first, so that a sign-in that has ended counts for nothing either.
    """
    customer_id = tracker.get_slot("customer_id")
    if not tracker.get_slot("verified") or customer_id is None:
        return None
    return int(customer_id)


def proven_order(tracker: Tracker) -> str | None:
    """The one order a guest proved with its number and email; None for a signed-in customer (or nobody).

    A guest's proof covers that order only: any other order needs its own proof, and a change of address needs a
    customer signed in through the shop.
    """
    if not tracker.get_slot("verified"):
        return None
    order = tracker.get_slot("verified_order")
    return order if isinstance(order, str) and order else None
