"""Texts the custom actions compose (static answers live in domain.yml responses).

Placeholders are filled with str.format by `say`. Rasa's validator requires every domain response to appear
in a story or rule, so texts that only actions send are kept here.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

MESSAGES: dict[str, str] = {  # what the Rasa process says itself is in bot_runtime/texts.py
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
    "verify_order_throttled": (
        "There have been too many attempts to confirm this order, so I've paused checking it for your security. "
        "Please try again in a quarter of an hour, or sign in on the shop's website."
    ),
    "verified": "Thanks {customer_name}, I've confirmed your order.",
    "sign_in_ended": (
        "Your sign-in with the shop has ended (it expired, or you signed out), so I can no longer use your account. "
        "Please sign in again on the shop's website, or I can check one order with its number and email."
    ),
    "proof_covers_one_order": (
        "You confirmed order {proven} with its email, so that's the order I can help with. For order {number}, "
        "I'll need the email address used for it, or you can sign in on the shop's website."
    ),
    "address_needs_sign_in": (
        "For your security, a new shipping address needs you to be signed in. Please sign in on the shop's website "
        "and ask me again, or change it in your account there."
    ),
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
        "The invoice for order {number} is {invoice_number} ({total} {currency}): "
        "[download the PDF]({url}). It is also under Account > Orders."
    ),
    "invoice_missing": "Order {number} doesn't have an invoice yet; it is issued when the order ships.",
    "service_unavailable": (
        "Sorry, I can't look that up right now: our order system isn't answering. You can see your orders "
        "under Account > Orders on the website, or ask me again in a few minutes."
    ),
    "handoff_waiting": (
        "I'm connecting you with our {queue} team. You're number {position} in line and {wait}. Keep typing "
        "here if you like: the person who takes your chat sees everything, so you won't have to repeat yourself."
    ),
    "handoff_unstaffed": (
        "Nobody from our {queue} team is online right now. I've put you in the queue with our conversation so "
        "far; if nobody can take it soon, we'll offer you a callback instead."
    ),
    "handoff_closed": (
        "Our {queue} team is closed right now{reopens}, so I've opened a {alternative} for you with our "
        "conversation so far. Someone will contact you when the team is back; you won't have to repeat anything."
    ),
    "handoff_team_closed": (
        "Our {queue} team has just closed{reopens}. Your request stays in line with our conversation so far; if "
        "nobody can take it, we'll offer you a callback."
    ),
    "relay_refused_sign_in": (
        "I didn't pass that message on: this chat belongs to a customer signed in with the shop, and it came "
        "without their sign-in. If it's your chat, please sign in again on the shop's website and send it again."
    ),
    "kept_sign_in_unconfirmed": (
        "I couldn't confirm your sign-in with the shop when passing your request on (it may have expired), so it "
        "went ahead without your account. If you sign in again on the shop's website and write here, I'll use it."
    ),
    "handoff_pending": (
        "I can't reach our support team's system right now. I've kept your request and will pass it on "
        "automatically as soon as it's back; you don't need to repeat anything."
    ),
    "handoff_relay_kept": (
        "Our support system can't be reached for a moment. I've kept your message and will pass it on, with any "
        "others you send, as soon as it's back; you don't need to send anything again."
    ),
    "handoff_refused": (
        "I'm sorry: I couldn't pass your request on because of a problem on our side, and I've reported it. Please "
        "email support@example.com and a person will answer within one business day."
    ),
    "handoff_gave_up": (
        "I'm sorry: our support system has been unreachable for too long, so I couldn't pass your request on. "
        "Please email support@example.com and a person will answer within one business day."
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
    "callback_closed": "I couldn't add your details to that request: it was closed in the meantime. You can reach us "
                       "at support@example.com, or ask me for a person again. Anything else I can help with?",
    "callback_declined": "Alright. You can always reach us at support@example.com. Anything else I can help with?",
    "ask_affirmation": "Sorry, I'm not sure I understood. Did you mean one of these?",
    "ask_affirmation_none": "Sorry, I'm not sure I understood. Could you say it in other words?",
    "something_else": "Something else",
    "ask_rephrase": (
        "Sorry, I still didn't get that. Could you say it in other words? For example: \"where is my order?\" or "
        "\"how do I reset my password?\""
    ),
    "talk_to_person": "Talk to a person",
    "restarted": "Okay, let's start over. How can I help you?",
    "offer_human": "If you'd still prefer a person, just say \"human\" and I'll pass your request on.",
    "routing_unavailable": (
        "Sorry, I can't reach our support system right now. You can email support@example.com and a "
        "person will answer within one business day."
    ),
    # opening hours: {hours} and {state} come from the routing policy (actions/hours.py), never written here
    "contact_human_agent": (
        "Our {queue} team answers chats {hours}. {state} Meanwhile I can probably help: ask me about orders, "
        "refunds, payments or your account."
    ),
    "contact_human_agent_no_hours": (
        "Our {queue} team has no chat hours scheduled at the moment. I can probably help: ask me about orders, "
        "refunds, payments or your account, or email support@example.com."
    ),
    "contact_human_agent_hours_unknown": (
        "I can't check our team's opening hours right now. Meanwhile I can probably help: ask me about orders, "
        "refunds, payments or your account."
    ),
    "contact_customer_service": (
        "You can reach customer service by email at support@example.com at any time, or here in the chat: our "
        "{queue} team answers {hours}. {state}"
    ),
    "contact_customer_service_no_hours": (
        "You can reach customer service by email at support@example.com at any time; our {queue} team has no "
        "chat hours scheduled at the moment."
    ),
    "contact_customer_service_hours_unknown": (
        "You can reach customer service by email at support@example.com at any time. I can't check our team's "
        "chat hours right now; please ask me again in a few minutes."
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
        "I can start a return for you. Once we receive the item, the refund is paid to your original payment "
        "method within 5 to 10 business days."
    ),
    "cancel_order": "You can cancel an order free of charge until it ships.",
    # delivery estimates (action_delivery_estimate)
    "delivery_estimate": (
        "Order {number} should arrive between {earliest} and {latest}{carrier_part}."
    ),
    "delivery_overdue": (
        "Order {number} should have arrived by {latest} and is running late, sorry. If it isn't there by "
        "tomorrow, say \"customer service\" and we'll chase it with {carrier}."
    ),
    "delivery_unavailable": (
        "Sorry, I can't look up your order right now. Standard delivery usually takes 3 to 5 business days after "
        "shipping; the tracking link in your shipping email shows the latest date."
    ),
    # cancellation (action_offer_cancellation, action_cancel_order)
    "cancel_confirm": "Cancel order {number} ({items}, total {total} {currency})?",
    "cancel_done": (
        "Done: order {number} is cancelled. If you already paid, the money goes back to your original payment "
        "method within 5 to 10 business days."
    ),
    "cancel_already": "Order {number} is already cancelled; there's nothing more to do.",
    "cancel_refused_shipped": (
        "Order {number} shipped on {shipped_on}, so it can't be cancelled any more. Once it arrives you can "
        "return it free of charge within 30 days: just tell me \"I want to return it\"."
    ),
    "cancel_refused_delivered": (
        "Order {number} was delivered on {delivered_on}, so it can't be cancelled, but you can return it. Say "
        "\"I want to return it\" and I'll start the return."
    ),
    "cancel_unavailable": (
        "Sorry, I can't reach our order system right now, so I can't cancel anything. You can cancel the order "
        "yourself under Account > Orders until it ships, or try again in a few minutes."
    ),
    # shipping address (action_check_address_change, shipping_address_form, action_change_address)
    "address_ask": (
        "What is the new shipping address for order {number}? Please type the name, street and number, postcode "
        "and city."
    ),
    "address_invalid": (
        "That doesn't look like a full address. Please type the street and number, postcode and city "
        "(at most 500 characters), or say \"stop\"."
    ),
    "address_confirm": "Ship order {number} to this address instead?\n{address}",
    "address_done": "Done: order {number} will be shipped to:\n{address}",
    "address_refused": (
        "Order {number} has already left our warehouse ({status}), so its address can't be changed any more. "
        "The carrier's tracking page lets you pick another delivery day or a pick-up point."
    ),
    "address_refused_closed": "Order {number} is {status}, so there's no delivery address to change.",
    "address_unavailable": (
        "Sorry, I can't reach our order system right now, so I can't change the address. You can change it "
        "yourself under Account > Orders until the order ships, or try again in a few minutes."
    ),
    # returns (action_offer_return, action_start_return)
    "return_confirm": "Start a return for order {number} ({items}, delivered on {delivered_on})?",
    "return_done": "Your return for order {number} is open. Return reference: {reference}. {instructions}",
    "return_already": (
        "A return for order {number} is already open. Please send the items back with the label from the "
        "return email."
    ),
    "return_closed": (
        "Order {number} was delivered on {delivered_on} and its return window has closed, so it can no longer "
        "be returned through the chat. If it is faulty, say \"complaint\" and our team will look at it."
    ),
    "return_not_delivered": (
        "Order {number} hasn't been delivered yet ({status}); you can start a return once it arrives."
    ),
    "return_not_shipped": (
        "Order {number} hasn't shipped yet, so there's no need for a return: I can cancel it instead. Just say "
        "\"cancel my order\"."
    ),
    "return_unavailable": (
        "Sorry, I can't reach our order system right now, so I can't start the return. You can start it "
        "yourself under Account > Orders > \"Return or refund\", or try again in a few minutes."
    ),
    # confirmations (shared)
    "change_refused": "Sorry, I couldn't do that: {reason}",
    "change_kept": "Alright, I haven't changed anything on order {number}.",
    "change_expired": "Sorry, I've lost track of what you were confirming. What would you like to do?",
    # another order task asked for in the middle of a form (actions/digressions.py)
    "switch_offer": "We were {doing}. Would you like to {other} instead?",
    "switch_same": "Sure, that's what we're doing.",
    "switch_done": "Alright, let's {other}.",
    "switch_kept": "Alright, let's carry on {doing}.",
    # a message not understood in the middle of a form: the form's question follows
    "form_rephrase": "Sorry, I didn't understand that.",
}

YES_NO = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]


# What the two-stage fallback offers when it is unsure ("Did you mean ...?"), per intent it may suggest.
INTENT_TITLES: dict[str, str] = {
    "cancel_order": "Cancel an order",
    "change_order": "Change an order",
    "place_order": "Place an order",
    "track_order": "Where is my order?",
    "check_cancellation_fee": "Cancellation fees",
    "check_invoice": "See an invoice",
    "get_invoice": "Get an invoice",
    "check_payment_methods": "Payment methods",
    "payment_issue": "A problem with a payment",
    "check_refund_policy": "Refund policy",
    "get_refund": "Get a refund",
    "track_refund": "Where is my refund?",
    "delivery_options": "Delivery options",
    "delivery_period": "How long delivery takes",
    "change_shipping_address": "Change the shipping address",
    "set_up_shipping_address": "Add a shipping address",
    "create_account": "Create an account",
    "delete_account": "Delete my account",
    "edit_account": "Edit my account",
    "recover_password": "Reset my password",
    "registration_problems": "Trouble signing up",
    "switch_account": "Switch accounts",
    "contact_customer_service": "Contact customer service",
    "contact_human_agent": "Talk to a person",
    "complaint": "Make a complaint",
    "review": "Leave a review",
    "newsletter_subscription": "The newsletter",
}


def say(dispatcher: CollectingDispatcher, key: str, custom: dict[str, Any] | None = None,
        buttons: list[dict[str, str]] | None = None, **values: Any) -> None:
    """Send MESSAGES[key] with its {placeholders} filled from `values`, and `buttons` (title, payload) if any.

    `custom` rides along as the message's custom payload (on socket.io a separate `bot_uttered` event carrying
    `custom["data"]`, which the chat widget reads).
    """
    dispatcher.utter_message(text=MESSAGES[key].format(**values), json_message=custom, buttons=buttons or [])


def ask_yes_no(dispatcher: CollectingDispatcher, key: str, **values: Any) -> None:
    """Send MESSAGES[key] as a question with Yes / No buttons (payloads /affirm and /deny)."""
    say(dispatcher, key, buttons=YES_NO, **values)
