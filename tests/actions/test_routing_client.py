"""The routing client's answers to refusals, outages and malformed answers, in milliseconds with httpx.MockTransport
(beside the action tests against the real routing service)."""

from __future__ import annotations

import asyncio
import json
import logging
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx
import pytest
from helpers import make_tracker, texts, verified_slots
from rasa_sdk.executor import CollectingDispatcher

from actions import decisions, handoff, order_changes
from actions.config import ActionSettings
from actions.decisions import ActionRoute
from actions.messages import MESSAGES
from actions.routing_client import (
    Availability,
    Decision,
    EscalationPacket,
    OrderList,
    RoutingClient,
    RoutingRefused,
    RoutingUnavailable,
)
from actions.typed_json import ShapeError, validated

SETTINGS = ActionSettings(routing_url="http://routing.test", service_token="t")


def _client(answer: Callable[[httpx.Request], httpx.Response]) -> RoutingClient:
    return RoutingClient(SETTINGS, transport=httpx.MockTransport(answer))


async def _cancel(client: RoutingClient) -> Any:
    async with client:
        return await client.cancel_order(7, "C-100001")


def test_refusals_carry_status_and_reason() -> None:
    conflict = _client(lambda r: httpx.Response(409, json={"detail": "Order C-100001 has already shipped."}))
    with pytest.raises(RoutingRefused) as refused:
        asyncio.run(_cancel(conflict))
    assert refused.value.status == 409 and refused.value.reason == "Order C-100001 has already shipped."

    invalid = _client(lambda r: httpx.Response(422, json={"detail": [{"loc": ["body", "x"], "msg": "too long"}]}))
    with pytest.raises(RoutingRefused) as refused:
        asyncio.run(_cancel(invalid))
    assert refused.value.status == 422 and refused.value.reason == "too long"

    assert asyncio.run(_cancel(_client(lambda r: httpx.Response(404, json={})))) is None  # not theirs


@pytest.mark.parametrize("answer", [
    lambda r: httpx.Response(500, text="boom"),
    lambda r: httpx.Response(200, text="not json"),
    lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused", request=r)),
    lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=r)),
])
def test_outages_are_unavailable(answer: Callable[[httpx.Request], httpx.Response]) -> None:
    with pytest.raises(RoutingUnavailable):
        asyncio.run(_cancel(_client(answer)))


def test_the_cancel_action_tells_a_refusal_and_an_outage_apart(monkeypatch: pytest.MonkeyPatch,
                                                               domain: dict[str, Any]) -> None:
    def run(answer: Callable[[httpx.Request], httpx.Response]) -> list[str]:
        monkeypatch.setattr(order_changes, "RoutingClient",
                            partial(RoutingClient, SETTINGS, transport=httpx.MockTransport(answer)))
        customer = {"id": 7, "external_id": "demo-gold", "name": "Ada", "tier": "gold", "tier_reason": "test"}
        tracker = make_tracker(slots={**verified_slots(customer), "order_number": "C-100001"}, intent="affirm")
        tracker.events.insert(0, {"event": "action", "name": "action_offer_cancellation"})
        tracker.events.insert(1, {"event": "bot", "text": "Cancel order C-100001?"})
        dispatcher = CollectingDispatcher()
        asyncio.run(order_changes.ActionCancelOrder().run(dispatcher, tracker, domain))
        return texts(dispatcher)

    assert run(lambda r: httpx.Response(409, json={"detail": "it shipped."})) == [
        MESSAGES["change_refused"].format(reason="it shipped.")]
    assert run(lambda r: httpx.Response(503)) == [MESSAGES["cancel_unavailable"]]


def test_a_throttled_order_check_is_explained_and_stops_asking(monkeypatch: pytest.MonkeyPatch,
                                                                domain: dict[str, Any]) -> None:
    from actions import verification

    throttled = httpx.MockTransport(lambda r: httpx.Response(429, json={"detail": "Too many attempts"},
                                                             headers={"Retry-After": "600"}))
    monkeypatch.setattr(verification, "RoutingClient", partial(RoutingClient, SETTINGS, transport=throttled))
    tracker = make_tracker(slots={"order_number": "C-100001", "email": "a@b.cc"}, intent="inform")
    dispatcher = CollectingDispatcher()
    slots = asyncio.run(verification.ValidateVerifyOrderForm().complete(dispatcher, tracker, domain))
    assert texts(dispatcher) == [MESSAGES["verify_order_throttled"]]
    assert slots["verify_attempts"] == float(verification.MAX_ATTEMPTS) and slots["email"] is None


DECISION: Decision = {"decision": "escalate", "queue": "vip", "priority": 90, "sla_seconds": 60,
                      "reason": "A complaint is handled by a person.", "rule": "tier.sensitive_intent",
                      "tier": "platinum", "offer_human": True, "decision_id": 41}
ORDER = {"number": "C-100001", "status": "shipped", "placed_at": "2026-10-01T10:00:00+00:00",
         "shipped_at": "2026-10-02T10:00:00+00:00", "delivered_at": None, "carrier": "UPS",
         "tracking_number": "1Z999", "total": "123.45", "currency": "USD",
         "items": [{"sku": f"SKU-{n}", "name": "Kettle", "quantity": 1, "unit_price": "41.15"} for n in range(3)],
         "return_status": None, "refund_status": None, "refund_amount": None, "invoice_number": "INV-1",
         "shipping_address": "1 Main St", "returnable_until": None,
         "estimated_delivery": {"earliest": "2026-10-03", "latest": "2026-10-05", "overdue": False}}
AVAILABILITY = {"queue": "vip", "display_name": "VIP team", "open": True, "staffed": True, "online_agents": 3,
                "waiting": 1, "estimated_wait_seconds": 0, "next_open_at": None,
                "closes_at": "2026-10-01T18:00:00+00:00", "out_of_hours": "callback",
                "now": "2026-10-01T10:00:00+00:00",
                "hours": {"timezone": "America/New_York", "days": ["mon", "tue", "wed", "thu", "fri"],
                          "open": "08:00", "close": "18:00"}}


async def _decide(client: RoutingClient) -> Decision:
    async with client:
        return await client.decide("conv-1", 7, "complaint", 0, 1)


def _answering(body: Any) -> RoutingClient:
    return _client(lambda r: httpx.Response(200, content=json.dumps(body).encode(),
                                            headers={"Content-Type": "application/json"}))


def test_an_answer_that_fits_is_returned_as_sent() -> None:
    assert asyncio.run(_decide(_answering(DECISION))) == DECISION
    added = {**DECISION, "explanation": "a field this bot does not know yet"}  # the service may add one first
    assert asyncio.run(_decide(_answering(added))) == added


@pytest.mark.parametrize(("answer", "named"), [
    ({k: v for k, v in DECISION.items() if k != "priority"}, ".priority: missing"),
    ({**DECISION, "priority": "90"}, ".priority: expected int, got str '90'"),
    ({**DECISION, "priority": True}, ".priority: expected int, got bool True"),
    ({**DECISION, "decision": "maybe"}, ".decision: expected 'self_service' | 'escalate', got str 'maybe'"),
    ({**DECISION, "reason": None}, ".reason: expected str, got null"),
    ({**DECISION, "queue": 3}, ".queue: expected str, got int 3"),
    ([DECISION], f"expected object (Decision), got list {[DECISION]!r:.60}"),
    (None, "expected object (Decision), got null"),
])
def test_a_malformed_answer_is_an_outage_named_and_logged(answer: Any, named: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="actions.routing_client"), \
            pytest.raises(RoutingUnavailable) as unavailable:
        asyncio.run(_decide(_answering(answer)))
    assert str(unavailable.value) == f"malformed answer to POST /decisions (Decision): {named}"
    assert [r.getMessage() for r in caplog.records] == [
        f"malformed answer of the routing service to POST /decisions (Decision): {named}"]


def test_nested_answers_are_checked_to_the_last_field() -> None:
    broken = [ORDER, {**ORDER, "items": [*ORDER["items"][:2], {**ORDER["items"][2], "quantity": "1"}]}]

    async def orders() -> Any:
        async with _answering({"orders": broken}) as client:
            return await client.orders(7)

    with pytest.raises(RoutingUnavailable, match=r"\(OrderList\): \.orders\[1\]\.items\[2\]\.quantity: expected int"):
        asyncio.run(orders())


def test_a_verified_token_without_an_expiry_is_malformed() -> None:
    customer = {"id": 7, "external_id": "demo-gold", "name": "Ada", "email": "ada@example.com", "tier": "gold",
                "tier_reason": "test", "tier_policy_version": "1"}

    async def verify(expires_at: str | None) -> Any:
        async with _answering({"customer": customer, "expires_at": expires_at}) as client:
            return await client.verify_token("a.b.c")

    assert asyncio.run(verify("2026-11-01T13:00:00+00:00")) == {"customer": customer,
                                                                 "expires_at": "2026-11-01T13:00:00+00:00"}
    with pytest.raises(RoutingUnavailable, match=r"\.expires_at: null for a verified token"):
        asyncio.run(verify(None))


def test_the_route_action_treats_a_malformed_decision_as_an_outage(monkeypatch: pytest.MonkeyPatch,
                                                                    domain: dict[str, Any]) -> None:
    malformed = httpx.MockTransport(lambda r: httpx.Response(200, json={**DECISION, "decision": "maybe"}))
    monkeypatch.setattr(decisions, "RoutingClient", partial(RoutingClient, SETTINGS, transport=malformed))
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(intent="payment_issue", sender_id="test-malformed")
    events = asyncio.run(ActionRoute().run(dispatcher, tracker, domain))
    assert texts(dispatcher) == [MESSAGES["routing_unavailable"]]
    assert {e["name"]: e["value"] for e in events if e.get("event") == "slot"}["routing_decision"] is None


def test_checking_an_answer_costs_microseconds() -> None:
    """The check runs on every answer: well under 0.1 ms (typically 1-5 µs, 5 orders with their items ~10-40 µs
    on a busy 2-core machine, about as long as decoding their JSON)."""
    for shape, answer in ((Decision, DECISION), (Availability, AVAILABILITY), (OrderList, {"orders": [ORDER] * 5})):
        validated(shape, answer)
        samples = []
        for _ in range(200):
            start = time.perf_counter()
            validated(shape, answer)
            samples.append(time.perf_counter() - start)
        assert statistics.median(samples) < 100e-6, (shape.__name__, statistics.median(samples))


def test_the_handoff_packet_is_an_escalation_packet(domain: dict[str, Any]) -> None:
    """What handoff.packet builds from a conversation is what the client's TypedDict (held to the routing service's
    OpenAPI by tests/routing/test_contract.py) says, value by value: slots are untyped to mypy."""
    slots = {"order_number": "c100042", "order_query": "change_address", "email": "ada@example.com",
             "customer_name": "Ada", "tier_reason": "Spent a lot."}
    tracker = make_tracker(slots=slots, intent="complaint", text="my kettle arrived broken")
    body = handoff.packet(tracker, "complaint", DECISION)
    validated(EscalationPacket, body)
    assert body["facts"] == {"order_number": "c100042", "order_query": "change_address", "email": "ada@example.com"}
    assert body["transcript"][-1]["role"] == "customer" and body["contact"] == {
        "email": "ada@example.com", "name": "Ada", "phone": None}

    long_email = "a" * 250 + "@example.com"  # the slot takes any text the email pattern matches
    unfit = handoff.packet(make_tracker(slots={**slots, "email": long_email}, intent="complaint"), "complaint",
                           DECISION)
    validated(EscalationPacket, unfit)
    assert "email" not in unfit["facts"] and unfit["contact"] is None  # left out: the request itself goes through
    with pytest.raises(ShapeError):
        validated(EscalationPacket, {**body, "facts": {"order_number": 100042}})
