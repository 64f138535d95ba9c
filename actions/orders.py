"""Order look-ups for a verified customer: status and tracking, refund status, invoice."""

from __future__ import annotations

from abc import ABC, abstractmethod
from urllib.parse import quote

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.config import get_settings
from actions.customer import proven_order, verified_customer_id
from actions.identity import checked_identity
from actions.messages import say
from actions.routing_client import Order, RoutingClient, RoutingError
from actions.verification import normalise_order_number


def day(timestamp: str | None) -> str:
    """'2024-05-01T10:00:00+00:00' -> '2024-05-01'."""
    return (timestamp or "")[:10] or "an unknown date"


class OrderLookupAction(Action, ABC):
    """Finds the order the customer means (the one they named, else `pick` among their newest) and answers.

    When the routing service cannot be reached the customer gets MESSAGES[`unavailable`]: an honest "can't look
    that up right now" with an alternative. A guest's proof covers the one order they proved: that order is the one
    looked at, another is refused until proved; `needs_sign_in` refuses guests altogether.
    """

    unavailable = "service_unavailable"
    needs_sign_in = False

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = await checked_identity(dispatcher, tracker)
        return events + await self.look_up(dispatcher, tracker)

    async def look_up(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        customer_id = verified_customer_id(tracker)
        if customer_id is None:
            # verify_order_form already told the customer why it stopped; allow a fresh try next time
            return [SlotSet("verify_attempts", 0.0)]
        number = normalise_order_number(tracker.get_slot("order_number"))
        proven = proven_order(tracker)
        if proven is not None:
            if self.needs_sign_in:
                say(dispatcher, "address_needs_sign_in")
                return [SlotSet("pending_change", None)]
            if number is not None and number != proven:
                say(dispatcher, "proof_covers_one_order", proven=proven, number=number)
                return [SlotSet("order_number", None), SlotSet("pending_change", None)]
            number = proven
        try:
            async with RoutingClient() as client:
                if number is not None:
                    order = await client.order(customer_id, number)
                else:
                    order = self.pick(await client.orders(customer_id, limit=10))
        except RoutingError:
            say(dispatcher, self.unavailable)
            return []
        if order is None:
            if number is None:
                say(dispatcher, "no_orders")
            else:
                say(dispatcher, "order_not_found", number=number)
            return [SlotSet("order_number", None)]
        return [SlotSet("order_number", order["number"]), *self.answer(dispatcher, order)]

    def pick(self, orders: list[Order]) -> Order | None:
        """The order to talk about when the customer named none (orders are newest first)."""
        return orders[0] if orders else None

    @abstractmethod
    def answer(self, dispatcher: CollectingDispatcher, order: Order) -> list[EventType]:
        """Tell the customer about `order`; return slot events (e.g. a change awaiting confirmation)."""


class ActionOrderStatus(OrderLookupAction):
    """Status, carrier and tracking number of the named or latest order."""

    def name(self) -> str:
        return "action_order_status"

    def answer(self, dispatcher: CollectingDispatcher, order: Order) -> list[EventType]:
        say_status(dispatcher, order)
        return []


def say_status(dispatcher: CollectingDispatcher, order: Order) -> None:
    """The order's status, with carrier and tracking number once shipped."""
    say(
        dispatcher,
        f"order_{order['status']}",
        number=order["number"],
        placed_on=day(order.get("placed_at")),
        shipped_on=day(order.get("shipped_at")),
        delivered_on=day(order.get("delivered_at")),
        carrier=order.get("carrier") or "our carrier",
        tracking_number=order.get("tracking_number") or "not available yet",
    )


class ActionRefundStatus(OrderLookupAction):
    """Refund status of the named order, else of the newest order with a refund."""

    def name(self) -> str:
        return "action_refund_status"

    def pick(self, orders: list[Order]) -> Order | None:
        with_refund = [order for order in orders if order.get("refund_status")]
        return next(iter(with_refund or orders), None)

    def answer(self, dispatcher: CollectingDispatcher, order: Order) -> list[EventType]:
        status = order.get("refund_status") or "none"
        say(
            dispatcher,
            f"refund_{status}",
            number=order["number"],
            amount=order.get("refund_amount") or order.get("total", ""),
            currency=order.get("currency", ""),
        )
        return []


def invoice_url(invoice_number: str) -> str:
    """The invoice's page on the shop's website (CONCIERGE_SHOP_URL), which asks the customer to sign in."""
    return f"{get_settings().shop_url}/account/invoices/{quote(invoice_number)}"


class ActionInvoice(OrderLookupAction):
    """Invoice number and amount of the named order, else of the newest invoiced order."""

    def name(self) -> str:
        return "action_invoice"

    def pick(self, orders: list[Order]) -> Order | None:
        invoiced = [order for order in orders if order.get("invoice_number")]
        return next(iter(invoiced or orders), None)

    def answer(self, dispatcher: CollectingDispatcher, order: Order) -> list[EventType]:
        invoice_number = order.get("invoice_number")
        if not invoice_number:
            say(dispatcher, "invoice_missing", number=order["number"])
            return []
        say(
            dispatcher,
            "invoice",
            number=order["number"],
            invoice_number=invoice_number,
            total=order.get("total", ""),
            currency=order.get("currency", ""),
            url=invoice_url(invoice_number),
        )
        return []


class ActionDeliveryEstimate(OrderLookupAction):
    """When the named order, else the newest order still on its way, should arrive."""

    unavailable = "delivery_unavailable"

    def name(self) -> str:
        return "action_delivery_estimate"

    def pick(self, orders: list[Order]) -> Order | None:
        on_the_way = [order for order in orders if order.get("estimated_delivery")]
        return next(iter(on_the_way or orders), None)

    def answer(self, dispatcher: CollectingDispatcher, order: Order) -> list[EventType]:
        estimate = order.get("estimated_delivery")
        if not estimate:
            say_status(dispatcher, order)
            return []
        carrier = order.get("carrier")
        if estimate["overdue"]:
            say(dispatcher, "delivery_overdue", number=order["number"], latest=estimate["latest"],
                carrier=carrier or "the carrier")
            return []
        tracking = order.get("tracking_number")
        carrier_part = f" with {carrier}" if carrier else ""
        carrier_part += f" (tracking number {tracking})" if carrier and tracking else ""
        say(dispatcher, "delivery_estimate", number=order["number"], earliest=estimate["earliest"],
            latest=estimate["latest"], carrier_part=carrier_part)
        return []
