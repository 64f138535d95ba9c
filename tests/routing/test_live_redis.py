"""The live stream across replicas: two RedisHubs on a real Redis (as two routing replicas would hold), one channel.
An event published by one reaches the subscribers of both, in the order it was published, once."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis

from routing.live import LiveEvent, RedisHub

REDIS_URL = "redis://127.0.0.1:6379/5"


@pytest.fixture
def client() -> redis.Redis:
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis on 127.0.0.1:6379 is required: {exc}")
    return connection


async def _collect(hub: RedisHub, queues: frozenset[str], count: int) -> list[LiveEvent]:
    sub = hub.subscribe(queues)
    got: list[LiveEvent] = []
    try:
        while len(got) < count:
            item = await sub.next(5.0)
            assert isinstance(item, LiveEvent), "an event never arrived"
            got.append(item)
        extra = await sub.next(0.3)
        assert extra is False, f"an event arrived twice or unasked: {extra}"
    finally:
        hub.unsubscribe(sub)
    return got


def test_an_event_of_one_replica_reaches_the_consoles_of_both(client: redis.Redis) -> None:
    channel = f"test-{uuid.uuid4().hex}:live"
    replica_a, replica_b = RedisHub(client, channel), RedisHub(client, channel)
    try:
        assert replica_a.wait_subscribed(5) and replica_b.wait_subscribed(5)
        events = [LiveEvent("escalation.updated", frozenset({"vip"}), {"escalation": {"id": n}}) for n in range(20)]
        other_queue = LiveEvent("escalation.created", frozenset({"general"}), {"escalation": {"id": 99}})

        async def scenario() -> tuple[list[LiveEvent], list[LiveEvent]]:
            on_a = asyncio.create_task(_collect(replica_a, frozenset({"vip"}), len(events)))
            on_b = asyncio.create_task(_collect(replica_b, frozenset({"vip", "priority"}), len(events)))
            await asyncio.sleep(0.1)  # both subscribed
            replica_a.publish(other_queue)  # nobody here serves "general"
            for item in events:
                replica_a.publish(item)
            return await on_a, await on_b

        seen_a, seen_b = asyncio.run(scenario())
        assert seen_a == events and seen_b == events
    finally:
        replica_a.close()
        replica_b.close()


def test_the_service_uses_redis_for_the_live_stream_when_told() -> None:
    from routing.settings import Settings

    with pytest.raises(ValueError, match="CONCIERGE_REDIS_URL"):
        Settings(env="development", live_stream="redis")
    assert Settings(env="development", live_stream="redis", redis_url=REDIS_URL).live_stream == "redis"
