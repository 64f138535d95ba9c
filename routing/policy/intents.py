"""The intents the bot knows: the 27 Bitext customer-support labels plus conversational ones."""

from __future__ import annotations

BITEXT_INTENTS: frozenset[str] = frozenset({
    "cancel_order", "change_order", "place_order", "track_order", "check_cancellation_fee", "check_invoice",
    "get_invoice", "check_payment_methods", "payment_issue", "check_refund_policy", "get_refund", "track_refund",
    "delivery_options", "delivery_period", "change_shipping_address", "set_up_shipping_address", "create_account",
    "delete_account", "edit_account", "recover_password", "registration_problems", "switch_account",
    "contact_customer_service", "contact_human_agent", "complaint", "review", "newsletter_subscription",
})
CONVERSATION_INTENTS: frozenset[str] = frozenset({
    "greet", "goodbye", "affirm", "deny", "inform", "thanks", "bot_challenge", "chitchat", "restart", "nlu_fallback",
    "out_of_scope",
})
KNOWN_INTENTS: frozenset[str] = BITEXT_INTENTS | CONVERSATION_INTENTS
