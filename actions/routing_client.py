"""The one HTTP client of the action server: the routing service's /api/v1 (routing/*/views.py).

The TypedDicts below are the wire shapes of what the client sends and reads. The routing service's OpenAPI is the
source they follow: tests/routing/test_contract.py fails when a field is added, renamed or retyped on either side
without the other. Every answer is checked against its shape before it is returned (actions/typed_json.py); one
that does not fit is an outage (RoutingUnavailable), logged with the reason, never a KeyError in an action.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from types import TracebackType
from typing import Any, Literal, TypedDict, TypeVar

import httpx

from actions.config import ActionSettings, get_settings
from actions.routing_breaker import Breaker, Ticket, breaker_for
from actions.typed_json import ShapeError, validated

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Customer(TypedDict):
    """A customer as the routing service returns it (`tier`: one of the routing policy's tiers)."""

    id: int
    external_id: str
    name: str
    email: str
    tier: str
    tier_reason: str
    tier_policy_version: str


class TokenCheck(TypedDict):
    """A shop's sign-in token to verify."""

    token: str


class OrderCheck(TypedDict):
    """An order number and the email the customer says is its own."""

    order_number: str
    email: str


class VerifiedCustomer(TypedDict):
    """The answer of both identity checks; `expires_at` (ISO instant) only for a shop token."""

    customer: Customer
    expires_at: str | None


class SignIn(TypedDict):
    """A verified shop token: whom it names, and until when (ISO instant) its verification may be trusted."""

    customer: Customer
    expires_at: str


class OrderItem(TypedDict):
    """One line of an order (`unit_price`: a decimal string)."""

    sku: str
    name: str
    quantity: int
    unit_price: str


class DeliveryEstimate(TypedDict):
    """When an open order should arrive (ISO dates); `overdue` once the last day has passed."""

    earliest: str
    latest: str
    overdue: bool


class Order(TypedDict):
    """An order as the routing service returns it (instants and dates as ISO strings, money as decimal strings)."""

    number: str
    status: Literal["placed", "processing", "shipped", "delivered", "cancelled", "returned"]
    placed_at: str
    shipped_at: str | None
    delivered_at: str | None
    carrier: str | None
    tracking_number: str | None
    total: str
    currency: str
    items: list[OrderItem]
    return_status: Literal["requested", "received", "rejected"] | None
    refund_status: Literal["pending", "refunded", "rejected"] | None
    refund_amount: str | None
    invoice_number: str | None
    shipping_address: str | None
    estimated_delivery: DeliveryEstimate | None
    returnable_until: str | None


class OrderList(TypedDict):
    """A customer's newest orders, newest first."""

    orders: list[Order]


class AddressChange(TypedDict):
    """A new shipping address (plain text, one or more lines)."""

    address: str


class StartedReturn(TypedDict):
    """A started return: the reference for the parcel, the last day to send it, and what to do."""

    order: Order
    return_reference: str
    send_back_by: str
    instructions: str


class Facts(TypedDict, total=False):
    """What the conversation established that the routing service keeps with a decision or an escalation (its
    Facts: bounded, unknown keys refused)."""

    order_number: str | None
    order_query: str | None
    email: str | None


class DecisionRequest(TypedDict):
    """What the bot asks for a routing decision (`customer_id` None: not verified, routed as the anonymous tier)."""

    conversation_id: str
    customer_id: int | None
    intent: str
    bot_failures: int
    human_requests: int
    facts: Facts


class Decision(TypedDict):
    """A routing decision (stored for audit by the routing service)."""

    decision: Literal["self_service", "escalate"]
    queue: str | None
    priority: int
    sla_seconds: int | None
    reason: str
    rule: str
    tier: str
    offer_human: bool
    decision_id: int


class TranscriptLine(TypedDict):
    """One line of the conversation before the handoff (`at`: ISO instant)."""

    role: Literal["customer", "bot", "agent"]
    text: str
    at: str | None


class Contact(TypedDict):
    """How to reach the customer for a callback or ticket."""

    email: str | None
    phone: str | None
    name: str | None


class EscalationPacket(TypedDict):
    """The handoff packet (actions/handoff.py builds it; the routing service refuses keys it does not know)."""

    conversation_id: str
    idempotency_key: str
    customer_id: int | None
    tier: str
    tier_reason: str
    queue: str
    priority: int
    sla_seconds: int | None
    reason: str
    rule: str
    intent: str
    facts: Facts
    summary: str
    transcript: list[TranscriptLine]
    contact: Contact | None


EscalationState = Literal["waiting", "assigned", "active", "resolved", "returned_to_bot", "abandoned", "expired",
                          "callback_requested", "ticket"]


class EscalationStatus(TypedDict):
    """What the routing service says about an escalation: where the customer stands."""

    id: int
    conversation_id: str
    status: EscalationState
    queue: str
    queue_display_name: str
    position: int | None
    estimated_wait_seconds: int | None
    queue_open: bool
    staffed: bool
    alternative: Literal["callback", "ticket"] | None
    expires_at: str | None
    next_open_at: str | None
    closes_at: str | None
    queue_timezone: str | None


class CustomerMessage(TypedDict):
    """A message for the agent: the customer's words, or (`sender` "notice") the bot's notice about them."""

    text: str
    idempotency_key: str
    sender: Literal["customer", "notice"]


class CallbackRequest(TypedDict):
    """The customer's contact details for a callback instead of waiting."""

    contact: Contact


class OpeningHours(TypedDict):
    """A queue's weekly opening hours in the routing policy (close "24:00" is midnight)."""

    timezone: str
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]]
    open: str
    close: str


class Availability(TypedDict):
    """A queue's state and opening hours, as of `now` on the routing service's clock (ISO instants)."""

    queue: str
    display_name: str
    open: bool
    staffed: bool
    online_agents: int
    waiting: int
    estimated_wait_seconds: int | None
    next_open_at: str | None
    closes_at: str | None
    hours: OpeningHours
    out_of_hours: str
    now: str


class RoutingError(Exception):
    """The routing service gave no usable answer (the base of the two cases below)."""


class RoutingUnavailable(RoutingError):
    """The routing service could not be reached, timed out, or failed (5xx)."""


class RoutingRefused(RoutingError):
    """The routing service refused the request (4xx): `status` and the service's `reason` (for a 409, what the
    customer is told: the order's state does not allow the change)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status}: {reason}")
        self.status = status
        self.reason = reason


# Kept idle connections are dropped before the routing service's own keep-alive timeout (uvicorn: 5 s) ends them.
KEEPALIVE_EXPIRY_SECONDS = 2.0
_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[ActionSettings, httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)


def _pooled_http(settings: ActionSettings) -> httpx.AsyncClient:
    """The HTTP client shared by every action run on the running event loop with these settings.

    Created on first use (never at import) and kept open, so calls reuse connections instead of paying for a new
    client (its TLS context alone costs about 10 ms of CPU) and a new TCP connection each time.
    """
    per_settings = _pools.setdefault(asyncio.get_running_loop(), {})
    http = per_settings.get(settings)
    if http is None or http.is_closed:
        http = per_settings[settings] = _http_client(settings)
    return http


def _http_client(settings: ActionSettings, transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"{settings.routing_url}/api/v1",
        headers={"Authorization": f"Bearer {settings.service_token}"},
        timeout=httpx.Timeout(settings.timeout_seconds),
        limits=httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS),
        transport=transport,
    )


class RoutingClient:
    """Async client for the routing service; use as `async with RoutingClient() as client:`.

    Connections are pooled per event loop and shared between action runs; leaving the block does not close them.
    Calls pass the service's circuit breaker (actions/routing_breaker.py): while the service hangs, they fail at once.
    `transport` (e.g. `httpx.MockTransport`) replaces the network for fast tests of outage and refusal branches;
    such a client is closed when the block ends, and has a breaker of its own unless `breaker` is given.
    """

    def __init__(self, settings: ActionSettings | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, breaker: Breaker | None = None) -> None:
        self._settings = settings or get_settings()
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        cooldown = self._settings.breaker_seconds
        self._breaker = breaker or (Breaker(cooldown) if transport is not None
                                    else breaker_for(self._settings.routing_url, cooldown))

    async def __aenter__(self) -> RoutingClient:
        self._http = _pooled_http(self._settings) if self._transport is None else _http_client(self._settings,
                                                                                              self._transport)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._transport is not None and self._http is not None:
            await self._http.aclose()
        self._http = None

    async def verify_token(self, token: str) -> SignIn | None:
        """The customer the shop's signed token names, and the token's expiry; None when it is expired, forged or
        unknown (401)."""
        body: TokenCheck = {"token": token}
        data = await self._fetch_or_none(VerifiedCustomer, "POST", "/identity/verify", json=body, none_on=401)
        if data is None:
            return None
        expires_at = data["expires_at"]
        if expires_at is None:  # a verified token always has an expiry: without one it could not be trusted
            raise _malformed("POST /identity/verify (VerifiedCustomer)", ".expires_at: null for a verified token")
        return SignIn(customer=data["customer"], expires_at=expires_at)

    async def verify_order(self, order_number: str, email: str) -> Customer | None:
        """The order's customer when the email is theirs; None otherwise (404)."""
        body: OrderCheck = {"order_number": order_number, "email": email}
        data = await self._fetch_or_none(VerifiedCustomer, "POST", "/identity/verify-order", json=body, none_on=404)
        return data["customer"] if data is not None else None

    async def orders(self, customer_id: int, limit: int = 5) -> list[Order]:
        """The customer's newest orders, newest first."""
        data = await self._fetch(OrderList, "GET", f"/customers/{customer_id}/orders", params={"limit": limit})
        return data["orders"]

    async def order(self, customer_id: int, order_number: str) -> Order | None:
        """One of the customer's orders; None when it is not theirs or does not exist (404)."""
        return await self._fetch_or_none(Order, "GET", f"/customers/{customer_id}/orders/{order_number}",
                                         none_on=404)

    async def cancel_order(self, customer_id: int, order_number: str) -> Order | None:
        """Cancel one of the customer's orders; None when it is not theirs (404); RoutingRefused (409) once shipped."""
        path = f"/customers/{customer_id}/orders/{order_number}/cancel"
        return await self._fetch_or_none(Order, "POST", path, none_on=404)

    async def change_shipping_address(self, customer_id: int, order_number: str, address: str) -> Order | None:
        """Ship one of the customer's orders to `address`; None when not theirs; RoutingRefused (409) once shipped."""
        path, body = f"/customers/{customer_id}/orders/{order_number}/shipping-address", AddressChange(address=address)
        return await self._fetch_or_none(Order, "PUT", path, json=body, none_on=404)

    async def start_return(self, customer_id: int, order_number: str) -> StartedReturn | None:
        """Start the return of a delivered order; None when not theirs; RoutingRefused (409) when not returnable."""
        path = f"/customers/{customer_id}/orders/{order_number}/return"
        return await self._fetch_or_none(StartedReturn, "POST", path, none_on=404)

    async def decide(
        self,
        conversation_id: str,
        customer_id: int | None,
        intent: str,
        bot_failures: int,
        human_requests: int,
        facts: Facts | None = None,
    ) -> Decision:
        """Ask for a routing decision (self-service or escalate) for this turn."""
        body: DecisionRequest = {
            "conversation_id": conversation_id,
            "customer_id": customer_id,
            "intent": intent,
            "bot_failures": bot_failures,
            "human_requests": human_requests,
            "facts": facts or {},
        }
        return await self._fetch(Decision, "POST", "/decisions", json=body)

    async def availability(self, tier: str) -> Availability:
        """The state and opening hours of the queue that serves `tier`."""
        return await self._fetch(Availability, "GET", "/queues/availability", params={"tier": tier})

    async def escalate(self, packet: EscalationPacket) -> EscalationStatus:
        """Create the escalation (the handoff packet); the same idempotency key returns the same escalation."""
        return await self._fetch(EscalationStatus, "POST", "/escalations", json=packet)

    async def open_escalation(self, conversation_id: str) -> EscalationStatus | None:
        """The conversation's open escalation (waiting, assigned or active), if any."""
        return await self._fetch_or_none(EscalationStatus, "GET", "/escalations/open",
                                         params={"conversation_id": conversation_id}, none_on=404)

    async def forward_customer_message(self, escalation_id: int, text: str, idempotency_key: str,
                                       sender: Literal["customer", "notice"] = "customer") -> bool:
        """Give the agent the customer's message (or, `sender` "notice", the bot's notice about the conversation);
        False when the escalation is no longer open. The answer (the message's id) is not read."""
        body: CustomerMessage = {"text": text, "idempotency_key": idempotency_key, "sender": sender}
        data = await self._request("POST", f"/escalations/{escalation_id}/customer-messages", json=body,
                                   none_on=(404, 409))
        return data is not None

    async def request_callback(self, escalation_id: int, contact: Contact) -> EscalationStatus | None:
        """The customer leaves contact details for a callback; None when the escalation is gone."""
        body: CallbackRequest = {"contact": contact}
        return await self._fetch_or_none(EscalationStatus, "POST", f"/escalations/{escalation_id}/callback",
                                         json=body, none_on=(404, 409))

    async def _fetch(self, shape: type[T], method: str, path: str, **kwargs: Any) -> T:
        """The answer, checked against `shape`."""
        return _checked(shape, await self._request(method, path, **kwargs), f"{method} {path}")

    async def _fetch_or_none(self, shape: type[T], method: str, path: str, none_on: int | tuple[int, ...],
                             **kwargs: Any) -> T | None:
        """The answer, checked against `shape`; None for the statuses in `none_on`."""
        data = await self._request(method, path, none_on=none_on, **kwargs)
        return None if data is None else _checked(shape, data, f"{method} {path}")

    async def _request(self, method: str, path: str, none_on: int | tuple[int, ...] | None = None,
                       **kwargs: Any) -> Any:
        if self._http is None:
            raise RuntimeError("RoutingClient must be used as an async context manager")
        ticket = self._breaker.admit()
        if ticket is None:
            raise RoutingUnavailable(f"{method} {path}: not sent, the routing service did not answer lately (next "
                                     f"try in {self._breaker.retry_in():.1f}s)")
        response = await self._send(ticket, method, path, **kwargs)
        codes = none_on if isinstance(none_on, tuple) else (none_on,)
        if response.status_code in codes:
            return None
        if 400 <= response.status_code < 500:
            raise RoutingRefused(response.status_code, _reason(response))
        if response.is_error:
            raise RoutingUnavailable(f"{method} {path}: HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as error:
            raise RoutingUnavailable(f"{method} {path}: the answer is not JSON") from error

    async def _send(self, ticket: Ticket, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The call, its outcome told to the breaker: an answer (any status), a time-out, or a quick failure."""
        assert self._http is not None
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as error:
            self._breaker.timed_out(ticket)
            raise RoutingUnavailable(f"{method} {path}: {error!r}") from error
        except httpx.HTTPError as error:
            self._breaker.failed(ticket)
            raise RoutingUnavailable(f"{method} {path}: {error!r}") from error
        except BaseException:
            self._breaker.failed(ticket)  # cancelled: a trial call must not hold the circuit open
            raise
        self._breaker.answered(ticket)
        return response


def _checked(shape: type[T], data: Any, call: str) -> T:
    """`data` as `shape`; RoutingUnavailable (like an outage: the answer cannot be used) when it does not fit."""
    try:
        return validated(shape, data)
    except ShapeError as error:
        raise _malformed(f"{call} ({getattr(shape, '__name__', shape)})", str(error)) from error


def _malformed(call: str, problem: str) -> RoutingUnavailable:
    logger.error("malformed answer of the routing service to %s: %s", call, problem)
    return RoutingUnavailable(f"malformed answer to {call}: {problem}")


def _reason(response: httpx.Response) -> str:
    """The service's `detail` (a sentence, or the first invalid field's message), else the status text."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        detail = detail[0].get("msg")
    return str(detail) if detail else response.reason_phrase
