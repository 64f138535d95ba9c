"""The routing client's answers to refusals and outages, in milliseconds with httpx.MockTransport (beside the action
tests against the real routing service)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx
import pytest
from helpers import make_tracker, texts, verified_slots
from rasa_sdk.executor import CollectingDispatcher

from actions import order_changes
from actions.config import ActionSettings
from actions.messages import MESSAGES
from actions.routing_client import RoutingClient, RoutingRefused, RoutingUnavailable

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
