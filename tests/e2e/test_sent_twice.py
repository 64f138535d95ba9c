"""At-least-once senders against the real Rasa server: what arrives twice with the same key is applied once.

The routing service's outbox sends a relayed call again when an attempt's answer was lost (bot_runtime/relay_once.py);
a REST client sends a message again when its request failed on the wire (bot_runtime/resend_once.py)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from launcher.settings import StackSettings
from routing.escalations.relay import RasaRelay
from tests.e2e.customers import RestCustomer


def _events(customer: RestCustomer) -> list[dict[str, Any]]:
    return list(customer.tracker()["events"])


def test_an_agent_message_relayed_twice_is_in_the_conversation_once(stack: StackSettings) -> None:
    customer = RestCustomer(stack, "relay-twice")
    customer.say("hello")
    relay = RasaRelay(stack.rasa_url, stack.rasa_token)
    key = f"outbox:test-{uuid.uuid4().hex[:8]}"
    for _ in range(3):
        relay.send_agent_message(customer.sender, "one reply", "Alice", attempts=1, relay_id=key)
    relay.send_agent_message(customer.sender, "one reply", "Alice", attempts=1, relay_id=f"{key}-next")
    relay.send_agent_message(customer.sender, "one reply", "Alice", attempts=1)  # no key: applied as sent
    replies = [e for e in _events(customer) if e["event"] == "bot" and e.get("text") == "one reply"]
    assert [e["metadata"].get("relay_id") for e in replies] == [key, f"{key}-next", None]


def test_the_end_of_a_handoff_relayed_twice_is_applied_once(stack: StackSettings) -> None:
    customer = RestCustomer(stack, "end-twice")
    customer.say("hello")
    relay = RasaRelay(stack.rasa_url, stack.rasa_token)
    key = f"outbox:test-{uuid.uuid4().hex[:8]}"
    for _ in range(2):  # with the customer's rating key beside the relay key, as the outbox sends it
        relay.end_handoff(customer.sender, "resolved", "resolved", attempts=1, relay_id=key, rating_key="k" * 64)
    events = _events(customer)
    endings = [e for e in events if e["event"] == "user"
               and (e.get("parse_data") or {}).get("intent", {}).get("name") == "EXTERNAL_handoff_ended"]
    assert len(endings) == 1
    entities = {e["entity"]: e["value"] for e in endings[0]["parse_data"]["entities"]}
    assert entities["relay_id"] == key and entities["rating_key"] == "k" * 64  # kept, though not in the domain
    assert sum(1 for e in events if e["event"] == "action" and e.get("name") == "action_handoff_ended") == 1


def test_a_customer_message_sent_again_with_its_id_is_handled_once(stack: StackSettings) -> None:
    customer = RestCustomer(stack, "resend")
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    body = {"sender": customer.sender, "message": "which payment methods do you accept?",
            "metadata": {"message_id": uuid.uuid4().hex}}
    first = httpx.post(url, json=body, timeout=30)
    again = httpx.post(url, json=body, timeout=30)
    assert first.status_code == again.status_code == 200
    assert first.json() and again.json() == []
    other_id = uuid.uuid4().hex
    other = httpx.post(url, json={**body, "metadata": {"message_id": other_id}}, timeout=30)
    assert other.json(), "a new id is a new message"
    users = [e for e in _events(customer) if e["event"] == "user"]
    assert [e["text"] for e in users] == ["which payment methods do you accept?"] * 2
    # the client's id is Rasa's message id, from which the actions key what a turn sends the routing service
    assert users[0]["message_id"] == body["metadata"]["message_id"]
    assert customer.tracker()["latest_message"]["message_id"] == other_id  # what actions/handoff.py turn_key reads
