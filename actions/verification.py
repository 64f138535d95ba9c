"""verify_order_form: an order number plus that order's email proves who the customer is."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.forms import CompletingFormValidation
from actions.identity import identity_events
from actions.messages import say
from actions.routing_client import RoutingClient, RoutingError, RoutingRefused

MAX_ATTEMPTS = 3
ORDER_NUMBER = re.compile(r"^\s*c-?\s*(\d{6})\s*$", re.IGNORECASE)
EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$")


def normalise_order_number(value: Any) -> str | None:
    """'c100042' -> 'C-100042'; None when it is not an order number."""
    match = ORDER_NUMBER.match(str(value)) if value is not None else None
    return f"C-{match.group(1)}" if match else None


class ValidateVerifyOrderForm(CompletingFormValidation):
    """Asks for order number and email unless the customer is verified; checks the pair with the routing service.

    A typed email alone grants nothing: only the pair confirmed by /identity/verify-order sets the identity slots.
    """

    def name(self) -> str:
        return "validate_verify_order_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("verified") or (tracker.get_slot("verify_attempts") or 0) >= MAX_ATTEMPTS:
            return []
        return domain_slots

    def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        number = normalise_order_number(value)
        if number is None:
            say(dispatcher, "invalid_order_number")
        return {"order_number": number}

    def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        email = str(value).strip() if value is not None else ""
        if not EMAIL.match(email):
            say(dispatcher, "invalid_email")
            return {"email": None}
        return {"email": email}

    async def complete(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        number = normalise_order_number(tracker.get_slot("order_number"))
        email = str(tracker.get_slot("email"))
        try:
            async with RoutingClient() as client:
                customer = await client.verify_order(number or "", email)
        except RoutingRefused as refused:
            say(dispatcher, "verify_order_throttled" if refused.status == 429 else "service_unavailable")
            return {"order_number": None, "email": None, "verify_attempts": float(MAX_ATTEMPTS)}
        except RoutingError:
            say(dispatcher, "service_unavailable")
            return {"verify_attempts": float(MAX_ATTEMPTS)}
        if customer is None:
            attempts = (tracker.get_slot("verify_attempts") or 0) + 1
            gave_up = attempts >= MAX_ATTEMPTS
            say(dispatcher, "verify_order_gave_up" if gave_up else "verify_order_failed")
            return {"order_number": None, "email": None, "verify_attempts": float(attempts)}
        say(dispatcher, "verified", customer_name=customer["name"])
        slots = {event["name"]: event["value"] for event in identity_events(customer)}
        return {**slots, "order_number": number, "email": email}


class ActionAskOrderNumber(Action):
    """verify_order_form's question for the order number."""

    def name(self) -> str:
        return "action_ask_order_number"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        say(dispatcher, "ask_order_number")
        return []


class ActionAskEmail(Action):
    """verify_order_form's question for the order's email address."""

    def name(self) -> str:
        return "action_ask_email"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        say(dispatcher, "ask_email")
        return []
