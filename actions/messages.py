"""Texts the custom actions compose (static answers live in domain.yml responses).

Placeholders are filled with str.format by `say`. Rasa's validator requires every domain response to appear
in a story or rule, so texts that only actions send are kept here.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

MESSAGES: dict[str, str] = {
    "please_rephrase": (
        "Sorry, I didn't quite understand that. Could you rephrase it? For example: \"where is my order?\" "
        "or \"what is your refund policy?\""
    ),
    "fallback_help": (
        "I'm sorry I keep missing what you need. I can help with orders, delivery, returns and refunds, "
        "payments, invoices and your account; or type \"human\" to ask for a person."
    ),
    "ask_order_number": (
        "To look that up I need to confirm it's your order. What is the order number? It looks like "
        "C-100042."
    ),
    "ask_email": "Thanks. And which email address did you use for that order?",
    "invalid_order_number": "That doesn't look like an order number. Order numbers look like C-100042.",
    "invalid_email": "That doesn't look like an email address. Please type it like name@example.com.",
    "verify_order_failed": "No order matches that number and email. Let's try again.",
    "verify_order_gave_up": (
        "I couldn't confirm that order, so I can't share its details. Please check the order confirmation"
        " email, or ask for customer service."
    ),
    "verified": "Thanks {customer_name}, I've confirmed your order.",
    "order_placed": "Order {number} was placed on {placed_on} and is waiting to be processed.",
    "order_processing": "Order {number} (placed on {placed_on}) is being prepared for shipping.",
    "order_shipped": (
        "Order {number} was shipped on {shipped_on} with {carrier}. Tracking number: {tracking_number}."
    ),
    "order_delivered": "Order {number} was delivered on {delivered_on}.",
    "order_cancelled": "Order {number} was cancelled.",
    "order_returned": "Order {number} was returned to us.",
    "no_orders": "I can't find any orders on your account yet.",
    "order_not_found": "I can't find order {number} on your account. Please check the number.",
    "refund_none": "There is no refund on order {number}. If you'd like one, say \"I want a refund\".",
    "refund_pending": (
        "The refund of {amount} {currency} for order {number} is being processed. Refunds reach your "
        "account within 5 to 10 business days."
    ),
    "refund_refunded": (
        "The refund of {amount} {currency} for order {number} has been paid back to your original payment"
        " method."
    ),
    "refund_rejected": (
        "The refund request for order {number} was not approved. If you disagree, I can pass it to our "
        "team: just say \"complaint\"."
    ),
    "invoice": (
        "The invoice for order {number} is {invoice_number} ({total} {currency}). You can download it as "
        "a PDF under Account > Orders."
    ),
    "invoice_missing": "Order {number} doesn't have an invoice yet; it is issued when the order ships.",
    "service_unavailable": "Sorry, I can't reach our order system right now. Please try again in a few minutes.",
    "handoff_waiting": (
        "I'm connecting you with our {queue} team. You're number {position} in line and {wait}. Keep typing "
        "here if you like: the person who takes your chat sees everything, so you won't have to repeat yourself."
    ),
    "handoff_unstaffed": (
        "Nobody from our {queue} team is online right now. I've put you in the queue with our conversation so "
        "far; if nobody can take it soon, we'll offer you a callback instead."
    ),
    "handoff_closed": (
        "Our {queue} team is closed right now, so I've opened a {alternative} for you with our conversation so "
        "far. Someone will contact you when the team is back; you won't have to repeat anything."
    ),
    "handoff_pending": (
        "I can't reach our support team's system right now. I've kept your request and will pass it on "
        "automatically as soon as it's back; you don't need to repeat anything."
    ),
    "handoff_relay_failed": (
        "Sorry, I couldn't pass that message on just now. Please send it again in a moment."
    ),
    "handoff_resumed": "Thanks for your patience. I'm back with you: is there anything else I can help with?",
    "handoff_expired_known_contact": (
        "I'm sorry: nobody from our team could take your chat in time. We'll call you back using the details "
        "on your account. Is there anything I can do for you meanwhile?"
    ),
    "handoff_expired_ask_contact": (
        "I'm sorry: nobody from our team could take your chat in time. If you type an email address or phone "
        "number, someone will get back to you (or say no to skip)."
    ),
    "callback_contact_invalid": "That doesn't look like an email address or a phone number. Could you type it again?",
    "callback_confirmed": "Thanks, we'll get back to you at {contact}. Anything else I can help with?",
    "callback_declined": "Alright. You can always reach us at support@example.com. Anything else I can help with?",
    "offer_human": "If you'd still prefer a person, just say \"human\" and I'll pass your request on.",
    "routing_unavailable": (
        "Sorry, I can't reach our support system right now. You can email support@example.com and a "
        "person will answer within one business day."
    ),
    "contact_human_agent": (
        "Our team answers chat requests Monday to Friday, 8:00-20:00. Meanwhile I can probably help: ask "
        "me about orders, refunds, payments or your account."
    ),
    "contact_customer_service": (
        "You can reach customer service by email at support@example.com or by phone at +1 555 0100, "
        "Monday to Friday 8:00-20:00 and Saturday 9:00-14:00."
    ),
    "complaint": (
        "I'm sorry about that. Please tell me what went wrong (with your order number if it's about an "
        "order); complaints are reviewed by our customer care team within 2 business days."
    ),
    "payment_issue": (
        "Sorry about the payment trouble. Declined payments are never charged; a pending charge "
        "disappears within 3 business days. If you were charged twice, the duplicate is refunded "
        "automatically within 5 business days."
    ),
    "get_refund": (
        "To get a refund, open Account > Orders, choose the order and click \"Return or refund\". Once we "
        "receive the item, the refund is paid to your original payment method within 5 to 10 business "
        "days."
    ),
}


def say(dispatcher: CollectingDispatcher, key: str, **values: Any) -> None:
    """Send MESSAGES[key] with its {placeholders} filled from `values`."""
    dispatcher.utter_message(text=MESSAGES[key].format(**values))
