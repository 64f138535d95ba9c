"""Order changes a verified customer makes in the chat: cancel, new shipping address, return; each confirmed first.

After verify_order_form an offer action checks the order: when the change is possible it asks a yes/no question
and sets `pending_change` (which the rules read); otherwise it explains why not and what to do instead. The
customer's "yes" runs the change (a change action only acts on the question asked right before), "no" runs
action_keep_order. The routing service checks every change again (409 with the reason).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.customer import proven_order, verified_customer_id
from actions.identity import checked_identity
from actions.messages import ask_yes_no, say
from actions.orders import OrderLookupAction, day, say_status
from actions.routing_client import Order, RoutingClient, RoutingError, RoutingRefused
from actions.verification import normalise_order_number

PENDING = "pending_change"
NOT_SHIPPED = ("placed", "processing")
MAX_ADDRESS_LENGTH = 500
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def describe_items(order: Order) -> str:
    """'2 x Mug, 1 x Lamp' (at most three lines, then 'and N more')."""
    items = order.get("items") or []
    lines = [f"{item['quantity']} x {item['name']}" for item in items[:3]]
    if len(items) > 3:
        lines.append(f"and {len(items) - 3} more")
    return ", ".join(lines) or "no items"


def normalise_address(value: Any) -> str | None:
    """The address with tidy whitespace (one line per address line); None when it is not a plausible address."""
    text = str(value or "")
    if CONTROL.search(text):
        return None
    address = "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())
    plausible = (10 <= len(address) <= MAX_ADDRESS_LENGTH and any(c.isalpha() for c in address)
                 and any(c.isdigit() for c in address))
    return address if plausible else None


def answers_question_of(tracker: Tracker, action_name: str) -> bool:
    """Whether the customer's latest message answers what `action_name` asked right before it."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return False
            seen_user = True
        elif seen_user and event.get("event") == "action" and event.get("name") != "action_listen":
            return bool(event.get("name") == action_name)
    return False


def _first(orders: list[Order], statuses: tuple[str, ...]) -> Order | None:
    return next((order for order in orders if order.get("status") in statuses), orders[0] if orders else None)


class ActionOfferCancellation(OrderLookupAction):
    """Asks "Cancel order X (items, total)?" before the order ships; otherwise explains and offers a return."""

    unavailable = "cancel_unavailable"

    def name(self) -> str:
        return "action_offer_cancellation"

    def pick(self, orders: list[Order]) -> Order | None:
        return _first(orders, NOT_SHIPPED)

    def answer(self, dispatcher: CollectingDispatcher, order: Order) -> list[EventType]:
        number, status = order["number"], order["status"]
        if status in NOT_SHIPPED:
            ask_yes_no(dispatcher, "cancel_confirm", number=number, items=describe_items(order),
                       total=order.get("total", ""), currency=order.get("currency", ""))
            return [SlotSet(PENDING, "cancel_order")]
        if status == "cancelled":
            say(dispatcher, "cancel_already", number=number)
        elif status == "shipped":
            say(dispatcher, "cancel_refused_shipped", number=number, shipped_on=day(order.get("shipped_at")))
        elif status == "delivered":
            say(dispatcher, "cancel_refused_delivered", number=number, delivered_on=day(order.get("delivered_at")))
        else:
            say_status(dispatcher, order)
        return [SlotSet(PENDING, None)]


class ActionCheckAddressChange(OrderLookupAction):
    """Lets the address form ask for a new address only while the order has not shipped, and only a signed-in
    customer (a guest's order proof does not cover it); otherwise explains."""

    unavailable = "address_unavailable"
    needs_sign_in = True

    def name(self) -> str:
        return "action_check_address_change"

    def pick(self, orders: list[Order]) -> Order | None:
        return _first(orders, NOT_SHIPPED)

    def answer(self, dispatcher: CollectingDispatcher, order: Order) -> list[EventType]:
        number, status = order["number"], order["status"]
        if status in NOT_SHIPPED:
            return [SlotSet(PENDING, "change_address"), SlotSet("new_address", None)]
        if status in ("shipped", "delivered"):
            say(dispatcher, "address_refused", number=number, status=status)
        else:
            say(dispatcher, "address_refused_closed", number=number, status=status)
        return [SlotSet(PENDING, None)]


class ActionOfferReturn(OrderLookupAction):
    """Asks "Start a return for order X?" for a delivered order inside the return window; otherwise explains."""

    unavailable = "return_unavailable"

    def name(self) -> str:
        return "action_offer_return"

    def pick(self, orders: list[Order]) -> Order | None:
        returnable = [order for order in orders if order.get("returnable_until")]
        return returnable[0] if returnable else _first(orders, ("delivered",))

    def answer(self, dispatcher: CollectingDispatcher, order: Order) -> list[EventType]:
        number, status = order["number"], order["status"]
        if order.get("returnable_until"):
            ask_yes_no(dispatcher, "return_confirm", number=number, items=describe_items(order),
                       delivered_on=day(order.get("delivered_at")))
            return [SlotSet(PENDING, "start_return")]
        if order.get("return_status") == "requested":
            say(dispatcher, "return_already", number=number)
        elif status in NOT_SHIPPED:
            say(dispatcher, "return_not_shipped", number=number)
        elif status == "shipped":
            say(dispatcher, "return_not_delivered", number=number, status=status)
        elif status == "delivered" and not order.get("return_status"):
            say(dispatcher, "return_closed", number=number, delivered_on=day(order.get("delivered_at")))
        else:
            say_status(dispatcher, order)
        return [SlotSet(PENDING, None)]


class ConfirmedChangeAction(Action, ABC):
    """Makes the change the customer just confirmed with "yes" to `question_action`; clears the pending change.

    Identity is checked again first; a guest may change only the order they proved (`needs_sign_in`: not at all).
    """

    question_action: str
    unavailable: str
    cleared_slots: tuple[str, ...] = (PENDING,)
    needs_sign_in = False

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = await checked_identity(dispatcher, tracker)
        events += [SlotSet(name, None) for name in self.cleared_slots]
        number = normalise_order_number(tracker.get_slot("order_number"))
        customer_id = verified_customer_id(tracker)
        if not answers_question_of(tracker, self.question_action) or customer_id is None or number is None:
            say(dispatcher, "change_expired")
            return events
        proven = proven_order(tracker)
        if proven is not None and self.needs_sign_in:
            say(dispatcher, "address_needs_sign_in")
            return events
        if proven is not None and number != proven:
            say(dispatcher, "proof_covers_one_order", proven=proven, number=number)
            return events
        refusal = self.refusal(tracker)
        if refusal is not None:
            say(dispatcher, "change_refused", reason=refusal)
            return events
        try:
            async with RoutingClient() as client:
                result = await self.change(client, customer_id, number, tracker)
        except RoutingRefused as refused:
            if refused.status != 409:  # anything but "the order's state does not allow it" is our fault, not theirs
                say(dispatcher, self.unavailable)
                return events
            say(dispatcher, "change_refused", reason=refused.reason or "the order can no longer be changed.")
            return events
        except RoutingError:
            say(dispatcher, self.unavailable)
            return events
        if result is None:
            say(dispatcher, "order_not_found", number=number)
            return events
        self.done(dispatcher, number, result)
        return events

    def refusal(self, tracker: Tracker) -> str | None:
        """Why the change cannot be asked for at all (told to the customer), or None."""
        return None

    @abstractmethod
    async def change(self, client: RoutingClient, customer_id: int, number: str, tracker: Tracker) -> Any:
        """Ask the routing service for the change; None when the order is not the customer's."""

    @abstractmethod
    def done(self, dispatcher: CollectingDispatcher, number: str, result: Any) -> None:
        """Tell the customer what changed."""


class ActionCancelOrder(ConfirmedChangeAction):
    """Cancels the order after the customer's "yes"."""

    question_action = "action_offer_cancellation"
    unavailable = "cancel_unavailable"

    def name(self) -> str:
        return "action_cancel_order"

    async def change(self, client: RoutingClient, customer_id: int, number: str, tracker: Tracker) -> Any:
        return await client.cancel_order(customer_id, number)

    def done(self, dispatcher: CollectingDispatcher, number: str, result: Any) -> None:
        say(dispatcher, "cancel_done", number=number)


class ActionChangeAddress(ConfirmedChangeAction):
    """Ships the order to the new address after the customer's "yes"."""

    question_action = "action_confirm_address_change"
    unavailable = "address_unavailable"
    cleared_slots = (PENDING, "new_address")
    needs_sign_in = True

    def name(self) -> str:
        return "action_change_address"

    def refusal(self, tracker: Tracker) -> str | None:
        return "that address is incomplete." if normalise_address(tracker.get_slot("new_address")) is None else None

    async def change(self, client: RoutingClient, customer_id: int, number: str, tracker: Tracker) -> Any:
        address = normalise_address(tracker.get_slot("new_address"))
        return await client.change_shipping_address(customer_id, number, address or "")

    def done(self, dispatcher: CollectingDispatcher, number: str, result: Any) -> None:
        say(dispatcher, "address_done", number=number, address=result.get("shipping_address") or "")


class ActionStartReturn(ConfirmedChangeAction):
    """Starts the return after the customer's "yes" and gives the return reference and instructions."""

    question_action = "action_offer_return"
    unavailable = "return_unavailable"

    def name(self) -> str:
        return "action_start_return"

    async def change(self, client: RoutingClient, customer_id: int, number: str, tracker: Tracker) -> Any:
        return await client.start_return(customer_id, number)

    def done(self, dispatcher: CollectingDispatcher, number: str, result: Any) -> None:
        say(dispatcher, "return_done", number=number, reference=result["return_reference"],
            instructions=result["instructions"])


class ActionKeepOrder(Action):
    """The customer said "no" (or stopped the address form): nothing changes."""

    def name(self) -> str:
        return "action_keep_order"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        say(dispatcher, "change_kept", number=tracker.get_slot("order_number") or "your order")
        return [SlotSet(PENDING, None), SlotSet("new_address", None)]


class ValidateShippingAddressForm(FormValidationAction):
    """shipping_address_form: a plausible address (street and number, postcode, city), at most 500 characters."""

    def name(self) -> str:
        return "validate_shipping_address_form"

    def validate_new_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        address = normalise_address(value)
        if address is None:
            say(dispatcher, "address_invalid")
        return {"new_address": address}


class ActionAskNewAddress(Action):
    """shipping_address_form's question for the new address."""

    def name(self) -> str:
        return "action_ask_new_address"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        say(dispatcher, "address_ask", number=tracker.get_slot("order_number") or "your order")
        return []


class ActionConfirmAddressChange(Action):
    """Shows the new address and asks "Ship order X there instead?" (yes/no)."""

    def name(self) -> str:
        return "action_confirm_address_change"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        address = tracker.get_slot("new_address")
        if not address or tracker.get_slot(PENDING) != "change_address":
            say(dispatcher, "change_expired")
            return [SlotSet(PENDING, None)]
        ask_yes_no(dispatcher, "address_confirm", number=tracker.get_slot("order_number"), address=address)
        return []
