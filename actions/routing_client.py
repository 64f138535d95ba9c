"""The one HTTP client of the action server: the routing service's /api/v1 (routing/*/views.py)."""

from __future__ import annotations

import asyncio
import weakref
from types import TracebackType
from typing import Any, Literal, TypedDict, cast

import httpx

from actions.config import ActionSettings, get_settings

Tier = Literal["platinum", "gold", "silver", "bronze"]


class Customer(TypedDict):
    """A customer as the routing service returns it."""

    id: int
    external_id: str
    name: str
    email: str
    tier: Tier
    tier_reason: str
    tier_policy_version: str


class SignIn(TypedDict):
    """A verified shop token: whom it names, and until when (ISO instant) its verification may be trusted."""

    customer: Customer
    expires_at: str


class Order(TypedDict, total=False):
    """An order as the routing service returns it."""

    number: str
    status: str
    placed_at: str
    shipped_at: str | None
    delivered_at: str | None
    carrier: str | None
    tracking_number: str | None
    total: str
    currency: str
    items: list[dict[str, Any]]
    return_status: str | None
    refund_status: str | None
    refund_amount: str | None
    invoice_number: str | None
    shipping_address: str | None
    estimated_delivery: DeliveryEstimate | None
    returnable_until: str | None


class DeliveryEstimate(TypedDict):
    """When an open order should arrive (ISO dates); `overdue` once the last day has passed."""

    earliest: str
    latest: str
    overdue: bool


class StartedReturn(TypedDict):
    """A started return: the reference for the parcel, the last day to send it, and what to do."""

    order: Order
    return_reference: str
    send_back_by: str
    instructions: str


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


class EscalationStatus(TypedDict):
    """What the routing service says about an escalation: where the customer stands."""

    id: int
    conversation_id: str
    status: str
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


class OpeningHours(TypedDict):
    """A queue's weekly opening hours in the routing policy (close "24:00" is midnight)."""

    timezone: str
    days: list[str]
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
    `transport` (e.g. `httpx.MockTransport`) replaces the network for fast tests of outage and refusal branches;
    such a client is closed when the block ends.
    """

    def __init__(self, settings: ActionSettings | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._settings = settings or get_settings()
        self._transport = transport
        self._http: httpx.AsyncClient | None = None

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
        data = await self._request("POST", "/identity/verify", json={"token": token}, none_on=401)
        return SignIn(customer=data["customer"], expires_at=data["expires_at"]) if data is not None else None

    async def verify_order(self, order_number: str, email: str) -> Customer | None:
        """The order's customer when the email is theirs; None otherwise (404)."""
        body = {"order_number": order_number, "email": email}
        data = await self._request("POST", "/identity/verify-order", json=body, none_on=404)
        return data["customer"] if data is not None else None

    async def orders(self, customer_id: int, limit: int = 5) -> list[Order]:
        """The customer's newest orders, newest first."""
        data = await self._request("GET", f"/customers/{customer_id}/orders", params={"limit": limit})
        return list(data["orders"])

    async def order(self, customer_id: int, order_number: str) -> Order | None:
        """One of the customer's orders; None when it is not theirs or does not exist (404)."""
        return cast("Order | None", await self._request("GET", f"/customers/{customer_id}/orders/{order_number}",
                                                        none_on=404))

    async def cancel_order(self, customer_id: int, order_number: str) -> Order | None:
        """Cancel one of the customer's orders; None when it is not theirs (404); RoutingRefused (409) once shipped."""
        path = f"/customers/{customer_id}/orders/{order_number}/cancel"
        return cast("Order | None", await self._change("POST", path))

    async def change_shipping_address(self, customer_id: int, order_number: str, address: str) -> Order | None:
        """Ship one of the customer's orders to `address`; None when not theirs; RoutingRefused (409) once shipped."""
        return cast("Order | None", await self._change(
            "PUT", f"/customers/{customer_id}/orders/{order_number}/shipping-address", json={"address": address}))

    async def start_return(self, customer_id: int, order_number: str) -> StartedReturn | None:
        """Start the return of a delivered order; None when not theirs; RoutingRefused (409) when not returnable."""
        return cast("StartedReturn | None",
                    await self._change("POST", f"/customers/{customer_id}/orders/{order_number}/return"))

    async def decide(
        self,
        conversation_id: str,
        customer_id: int | None,
        intent: str,
        bot_failures: int,
        human_requests: int,
        facts: dict[str, Any] | None = None,
    ) -> Decision:
        """Ask for a routing decision (self-service or escalate) for this turn."""
        body = {
            "conversation_id": conversation_id,
            "customer_id": customer_id,
            "intent": intent,
            "bot_failures": bot_failures,
            "human_requests": human_requests,
            "facts": facts or {},
        }
        return cast(Decision, await self._request("POST", "/decisions", json=body))

    async def availability(self, tier: str) -> Availability:
        """The state and opening hours of the queue that serves `tier`."""
        return cast(Availability, await self._request("GET", "/queues/availability", params={"tier": tier}))

    async def escalate(self, packet: dict[str, Any]) -> EscalationStatus:
        """Create the escalation (the handoff packet); the same idempotency key returns the same escalation."""
        return cast(EscalationStatus, await self._request("POST", "/escalations", json=packet))

    async def open_escalation(self, conversation_id: str) -> EscalationStatus | None:
        """The conversation's open escalation (waiting, assigned or active), if any."""
        return cast("EscalationStatus | None", await self._request(
            "GET", "/escalations/open", params={"conversation_id": conversation_id}, none_on=404))

    async def forward_customer_message(self, escalation_id: int, text: str, idempotency_key: str,
                                       sender: str = "customer") -> bool:
        """Give the agent the customer's message (or, `sender` "notice", the bot's notice about the conversation);
        False when the escalation is no longer open."""
        body = {"text": text, "idempotency_key": idempotency_key, "sender": sender}
        data = await self._request("POST", f"/escalations/{escalation_id}/customer-messages", json=body,
                                   none_on=(404, 409))
        return data is not None

    async def request_callback(self, escalation_id: int, contact: dict[str, str | None]) -> EscalationStatus | None:
        """The customer leaves contact details for a callback; None when the escalation is gone."""
        return cast("EscalationStatus | None", await self._request(
            "POST", f"/escalations/{escalation_id}/callback", json={"contact": contact}, none_on=(404, 409)))

    async def _change(self, method: str, path: str, **kwargs: Any) -> Any:
        """An order change: None on 404 (not the customer's order)."""
        return await self._request(method, path, none_on=404, **kwargs)

    async def _request(self, method: str, path: str, none_on: int | tuple[int, ...] | None = None,
                       **kwargs: Any) -> Any:
        if self._http is None:
            raise RuntimeError("RoutingClient must be used as an async context manager")
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise RoutingUnavailable(f"{method} {path}: {error!r}") from error
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


def _reason(response: httpx.Response) -> str:
    """The service's `detail` (a sentence, or the first invalid field's message), else the status text."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        detail = detail[0].get("msg")
    return str(detail) if detail else response.reason_phrase
