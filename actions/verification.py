"""verify_order_form: an order number plus that order's email proves who the customer is."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.customer import proven_order
from actions.forms import CompletingFormValidation, typed_answer
from actions.identity import checked_identity, identity_events, signed_in
from actions.messages import say
from actions.routing_client import RoutingClient, RoutingError, RoutingRefused

MAX_ATTEMPTS = 3
ORDER_NUMBER = re.compile(r"^\s*c-?\s*(\d{6})\s*$", re.IGNORECASE)
EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$")
# the words customers put around an order number or an email they type ("my order number is ...", "it's ...")
FILLER = frozenset({"my", "the", "order", "number", "no", "nr", "num", "id", "is", "it", "its", "it's", "this", "here",
                    "email", "e-mail", "mail", "address", "ok", "okay", "sure", "oh", "sorry", "yes"})
# an order number typed without its letter or with '#' ("100042", "#100042", "c 100042")
BARE_ORDER_NUMBER = re.compile(r"^[c#]?-?(\d{6})$", re.IGNORECASE)
SPELLED_EMAIL = re.compile(r"^[\w.+-]+( dot [\w.+-]+)* at [\w-]+( ?(\.|dot) ?[\w-]+)+$", re.IGNORECASE)
EDGE_PUNCTUATION = "\"'.,;:!?()[]<>"


def normalise_order_number(value: Any) -> str | None:
    """'c100042' -> 'C-100042'; None when it is not an order number."""
    match = ORDER_NUMBER.match(str(value)) if value is not None else None
    return f"C-{match.group(1)}" if match else None


def value_words(text: str) -> list[str]:
    """The words of a typed answer that may be the value itself: lower case, without the filler words around it and
    the punctuation at either end of each word."""
    words = (word.strip(EDGE_PUNCTUATION) for word in text.lower().split())
    return [word for word in words if word and word not in FILLER]


def order_number_attempt(text: str) -> str | None:
    """What a message typed as the answer to "what is the order number?" gives as one: 'C-100042' for an order number
    typed without its letter ('100042', '#100042'), the typed word when it cannot be one ('42', 'C-42': its validator
    refuses it with the order number's own correction), None when the message is not a value at all (a question, a
    sentence, a word without a digit)."""
    words = value_words(text)
    if len(words) == 2 and words[0] in ("c", "c-", "#"):
        words = [words[0] + words[1]]
    if len(words) != 1 or "@" in words[0] or not any(char.isdigit() for char in words[0]):
        return None
    bare = BARE_ORDER_NUMBER.match(words[0])
    return f"C-{bare.group(1)}" if bare else words[0]


def email_attempt(text: str) -> str | None:
    """What a message typed as the answer to "which email address?" gives as one when it is not a whole address:
    one word with an '@', a dot or a digit ('anna.berg@example', 'gmail.com', '12345') or an address spelled out
    ('anna at example dot com'), for the validator to refuse with the email's own correction; None when the message
    is not meant as an address."""
    words = value_words(text)
    if len(words) == 1 and any(char in "@." or char.isdigit() for char in words[0]):
        return words[0]
    spelled = " ".join(words)
    return spelled if SPELLED_EMAIL.match(spelled) else None


def covered(tracker: Tracker) -> bool:
    """Whether the customer's identity already covers the order in question: signed in (every order of theirs), or
    a guest asking about the order they proved (or naming none)."""
    if signed_in(tracker):
        return True
    proven = proven_order(tracker)
    number = normalise_order_number(tracker.get_slot("order_number"))
    return proven is not None and number in (None, proven)


class ValidateVerifyOrderForm(CompletingFormValidation):
    """Asks for order number and email unless the customer's identity covers the order; checks the pair with the
    routing service.

    A typed email alone grants nothing: only the pair confirmed by /identity/verify-order sets the identity slots,
    and a guest's pair covers that one order (`verified_order`): another order needs its own email. A signed-in
    customer's token is checked again first (checked_identity): once it has ended, the form asks for the pair.
    """

    def name(self) -> str:
        return "validate_verify_order_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events = await checked_identity(dispatcher, tracker)
        return events + await super().run(dispatcher, tracker, domain)

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if covered(tracker) or (tracker.get_slot("verify_attempts") or 0) >= MAX_ATTEMPTS:
            return []
        return domain_slots

    def extract_order_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The answer to the order number's question read from the text when the entity did not match it."""
        text = typed_answer(tracker, "order_number")
        attempt = order_number_attempt(text) if text else None
        return {"order_number": attempt} if attempt else {}

    def extract_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The answer to the email's question read from the text when the entity did not match it."""
        text = typed_answer(tracker, "email")
        attempt = email_attempt(text) if text else None
        return {"email": attempt} if attempt else {}

    def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        number = normalise_order_number(value)
        if number is None:
            say(dispatcher, "invalid_order_number")
            return {"order_number": None}
        proven = proven_order(tracker)
        if proven is not None and number != proven:
            return {"order_number": number, "email": None}  # another order: its own email proves it
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
        slots = {event["name"]: event["value"] for event in identity_events(customer, proven_order=number)}
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
