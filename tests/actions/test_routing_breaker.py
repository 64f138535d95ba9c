"""The routing client's circuit breaker (actions/routing_breaker.py): in milliseconds with httpx.MockTransport and a
hand-moved clock, and once against a real socket that accepts connections and never answers (a hung service).
The launcher drill tests/reliability/test_launcher_drills.py shows it on the whole stack with a stopped service."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable

import httpx
import pytest

from actions.config import ActionSettings
from actions.routing_breaker import Breaker
from actions.routing_client import RoutingClient, RoutingUnavailable

SETTINGS = ActionSettings(routing_url="http://routing.test", service_token="t")
AVAILABILITY = {"queue": "vip", "display_name": "VIP desk", "open": True, "staffed": True, "online_agents": 2,
                "waiting": 0, "estimated_wait_seconds": 30, "next_open_at": None, "closes_at": None,
                "hours": {"timezone": "UTC", "days": ["mon"], "open": "00:00", "close": "24:00"},
                "out_of_hours": "callback", "now": "2026-12-07T10:00:00+00:00"}


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Service:
    """The routing service as the transport sees it: answers, hangs (a time-out) or refuses, one call at a time or
    several at once (`gate`: a call waits for it before its outcome)."""

    def __init__(self) -> None:
        self.mode = "answer"
        self.calls = 0
        self.gate: asyncio.Event | None = None

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        mode = self.mode
        if self.gate is not None:
            await self.gate.wait()
        if mode == "hang":
            raise httpx.ReadTimeout("no answer", request=request)
        if mode == "refuse":
            raise httpx.ConnectError("connection refused", request=request)
        if mode == "fail":
            return httpx.Response(503, json={"detail": "database unreachable"})
        return httpx.Response(200, json=AVAILABILITY)


def _setup() -> tuple[Service, Clock, Breaker, Callable[[], Awaitable[object]]]:
    service, clock = Service(), Clock()
    breaker = Breaker(cooldown=5.0, now=clock)

    async def call() -> object:
        async with RoutingClient(SETTINGS, transport=httpx.MockTransport(service), breaker=breaker) as client:
            return await client.availability("gold")

    return service, clock, breaker, call


async def _outcome(call: Callable[[], Awaitable[object]]) -> str:
    try:
        await call()
    except RoutingUnavailable as error:
        return "fast" if "not sent" in str(error) else "unavailable"
    return "answered"


def test_after_a_time_out_calls_fail_at_once_until_a_trial_call_is_answered() -> None:
    async def run() -> None:
        service, clock, breaker, call = _setup()
        assert await _outcome(call) == "answered" and breaker.state == "closed"
        service.mode = "hang"
        clock.now += 1
        assert await _outcome(call) == "unavailable"  # this one waited its timeout
        assert breaker.state == "open" and service.calls == 2
        clock.now += 3
        assert [await _outcome(call) for _ in range(5)] == ["fast"] * 5
        assert service.calls == 2, "nothing was sent while the circuit was open"
        assert breaker.retry_in() == pytest.approx(2.0)

        clock.now += 2.5  # the cool-down is over: one trial call goes out, the others still fail at once
        service.mode, service.gate = "answer", asyncio.Event()
        trial = asyncio.create_task(_outcome(call))
        await asyncio.sleep(0.01)
        assert breaker.state == "open" and await _outcome(call) == "fast" and service.calls == 3
        service.gate.set()
        assert await trial == "answered" and breaker.state == "closed"
        service.gate = None
        assert [await _outcome(call) for _ in range(3)] == ["answered"] * 3

    asyncio.run(run())


def test_a_trial_call_that_times_out_opens_the_circuit_again() -> None:
    async def run() -> None:
        service, clock, breaker, call = _setup()
        service.mode = "hang"
        assert await _outcome(call) == "unavailable"
        clock.now += 5
        assert breaker.state == "half-open"
        assert await _outcome(call) == "unavailable"  # the trial: still hung
        assert breaker.state == "open" and breaker.retry_in() == pytest.approx(5.0)
        assert await _outcome(call) == "fast"

    asyncio.run(run())


def test_a_slow_service_that_answers_other_calls_is_not_cut_off() -> None:
    async def run() -> None:
        service, clock, breaker, call = _setup()
        service.mode, service.gate = "hang", (gate := asyncio.Event())
        slow = asyncio.create_task(_outcome(call))  # starts at 100, times out below
        await asyncio.sleep(0.01)
        service.mode, service.gate = "answer", None
        clock.now += 1
        assert await _outcome(call) == "answered"  # another call answered while the slow one waited
        clock.now += 2
        gate.set()
        assert await slow == "unavailable"
        assert breaker.state == "closed" and await _outcome(call) == "answered"

    asyncio.run(run())


def test_refused_connections_and_errors_never_open_the_circuit() -> None:
    async def run() -> None:
        service, clock, breaker, call = _setup()
        service.mode = "refuse"  # a service restarting fails fast by itself
        assert [await _outcome(call) for _ in range(3)] == ["unavailable"] * 3
        assert breaker.state == "closed" and service.calls == 3
        service.mode = "fail"  # a 503 is an answer: the service is there
        assert await _outcome(call) == "unavailable" and breaker.state == "closed"

        service.mode = "hang"
        clock.now += 1
        assert await _outcome(call) == "unavailable" and breaker.state == "open"
        clock.now += 5
        service.mode = "refuse"  # the trial is refused (the service is being restarted): the next call tries again
        assert await _outcome(call) == "unavailable" and breaker.state == "half-open"
        service.mode = "fail"
        assert await _outcome(call) == "unavailable" and breaker.state == "closed", "a 503 closes it"

    asyncio.run(run())


def test_against_a_socket_that_never_answers_only_the_first_call_waits() -> None:
    """A listening socket that nobody serves: connections are accepted (by the kernel) and never answered."""
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(64)
        port = hung.getsockname()[1]
        settings = ActionSettings(routing_url=f"http://127.0.0.1:{port}", service_token="t", timeout_seconds=0.5)

        async def run() -> list[float]:
            breaker, seconds = Breaker(cooldown=5.0), []
            for _ in range(5):
                async with RoutingClient(settings, transport=httpx.AsyncHTTPTransport(), breaker=breaker) as client:
                    started = time.monotonic()
                    with pytest.raises(RoutingUnavailable):
                        await client.availability("gold")
                    seconds.append(time.monotonic() - started)
            return seconds

        seconds = asyncio.run(run())
    print(f"hung service, 5 calls with a 0.5 s timeout: {[round(s, 3) for s in seconds]} s")
    assert seconds[0] >= 0.5 and all(s < 0.05 for s in seconds[1:])
