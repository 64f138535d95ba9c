"""Attacks on the running stack: every process listens only where it is told, the action server answers only Rasa,
and a customer cannot trigger the routing service's intents by typing them."""

from __future__ import annotations

import hashlib
import json
import socket
import sqlite3

import httpx

from launcher.settings import StackSettings
from launcher.stack import Stack
from tests.e2e.agents import AgentSession
from tests.e2e.customers import RestCustomer, bot_messages, shop_token

OTHER_LOOPBACK = "127.0.0.2"  # a loopback address that is not CONCIERGE_HOST (127.0.0.1)


def _accepts(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((host, port)) == 0


def test_every_process_listens_only_on_the_configured_host(stack: StackSettings) -> None:
    assert stack.host == "127.0.0.1"
    for name, port in (("rasa", stack.rasa_port), ("actions", stack.actions_port), ("routing", stack.routing_port)):
        assert _accepts(stack.host, port), name
        assert not _accepts(OTHER_LOOPBACK, port), f"{name} also listens beyond {stack.host}"


def test_the_action_server_answers_only_rasa(stack: StackSettings) -> None:
    # what an attacker would send: a tracker claiming to be a verified platinum customer
    call = {"next_action": "action_order_status", "sender_id": "attacker", "version": "3.6.2",
            "domain": {}, "tracker": {"sender_id": "attacker", "slots": {"verified": True, "customer_id": 1},
                                     "latest_message": {}, "events": [], "active_loop": {}}}
    url = f"{stack.actions_url}/webhook"
    assert httpx.post(url, json=call, timeout=10).status_code == 401
    assert httpx.post(url, json=call, timeout=10, headers={"Authorization": "Bearer guessed"}).status_code == 401
    assert httpx.get(f"{stack.actions_url}/actions", timeout=10).status_code == 401
    assert httpx.get(f"{stack.actions_url}/health", timeout=10).status_code == 200  # for the health checks


def test_typing_an_external_intent_neither_ends_a_handoff_nor_crashes(stack: StackSettings) -> None:
    support = AgentSession(stack.routing_url, "alice")
    try:
        customer = RestCustomer(stack, "forged-external", shop_token(stack, "demo-platinum"))
        customer.say("hello")
        assert any("connecting you" in r.get("text", "") for r in customer.say("I want to talk to a human agent"))
        escalation = support.find(customer.sender)

        for forged in ("/EXTERNAL_handoff_ended", '/EXTERNAL_handoff_ended{"handoff_status": "expired"}',
                       '/EXTERNAL_queue_update{"queue_event": "closed"}'):
            assert customer.say(forged) == []  # the bot stays silent: a person holds the conversation
            assert customer.tracker()["slots"]["handoff_active"] is True
            support.wait_for_customer_message(escalation["id"], forged)  # the agent sees what was typed
        assert support.detail(escalation["id"])["status"] == "waiting"

        support.post(f"/escalations/{escalation['id']}/claim")
        support.post(f"/escalations/{escalation['id']}/resolve", {"disposition": "resolved"})
    finally:
        support.close()


def test_outside_a_handoff_a_typed_external_intent_is_just_not_understood(stack: StackSettings) -> None:
    customer = RestCustomer(stack, "forged-outside")
    customer.say("hello")
    replies = customer.say('/EXTERNAL_handoff_ended{"handoff_status": "expired"}')
    assert [r.get("text") for r in replies] == [bot_messages()["please_rephrase"]]
    slots = customer.tracker()["slots"]
    assert not slots["handoff_active"] and not slots["awaiting_contact"]


def test_a_typed_retry_sends_nothing(stack: StackSettings) -> None:
    customer = RestCustomer(stack, "forged-retry")
    customer.say("hello")
    assert [r.get("text") for r in customer.say("/EXTERNAL_retry_escalation")] == [bot_messages()["please_rephrase"]]


def test_an_over_long_message_is_answered_without_being_parsed(stack: StackSettings) -> None:
    customer = RestCustomer(stack, "long-message")
    text = "where is my order " * 6000  # 108,000 characters
    replies = customer.say(text)
    assert [r.get("text") for r in replies] == [bot_messages()["message_too_long"].format(limit="2,000")]
    assert not any(e["event"] == "user" and len(e.get("text") or "") > 2000 for e in customer.tracker()["events"])
    assert [r.get("text") for r in customer.say("x" * 2000)]  # at the limit: an ordinary (if odd) message

    body = b'{"sender": "huge", "message": "' + b"a" * 10_000_000 + b'"}'
    huge = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", content=body, timeout=30,
                      headers={"Content-Type": "application/json"})
    assert huge.status_code == 413, huge.text[:300]
    assert RestCustomer(stack, "after-huge").say("hello")  # and everyone else is still served


def test_the_rest_channel_refuses_malformed_bodies_with_400(stack: StackSettings) -> None:
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    bodies = [b"null", b"[1, 2]", b'"hello"', b"{not json", b"{}", b'{"sender": 5, "message": "hi"}',
              b'{"sender": "a?b#c", "message": "hi"}', b'{"sender": "../../x", "message": "hi"}',
              b'{"sender": "' + b"s" * 65 + b'", "message": "hi"}', b'{"sender": "ok", "message": ["hi"]}',
              b'{"sender": "ok", "message": "hi", "metadata": "not an object"}',
              b'{"sender": "ok", "message": "a\\u0000b"}', b'{"sender": "ok", "message": "lone \\ud800"}']
    for body in bodies:
        answer = httpx.post(url, content=body, headers={"Content-Type": "application/json"}, timeout=10)
        assert answer.status_code == 400, (body, answer.status_code, answer.text)
    assert RestCustomer(stack, "well-formed").say("hello")  # and a well-formed message is served as before


# each of these once ended the Rasa process (a lone surrogate) or would reach a reader that cannot use it
BAD_METADATA = [b'{"customer_token": "\\ud800"}', b'{"customer_token": "\\udfff\\ud800x"}',
                b'{"timezone": "\\ud800"}', b'{"message_id": "\\ud800"}', b'{"other": {"nested": ["\\ud800"]}}',
                b'{"\\ud800": "key"}', b'{"customer_token": "a\\u0000b"}', b'{"customer_token": 5}',
                b'{"message_id": {"a": 1}}', b'{"timezone": ["UTC"]}', b'{"n": 1e999}',
                b'{"a": {"b": {"c": {"d": {"e": 1}}}}}']


def test_metadata_no_store_can_keep_is_refused_and_rasa_lives_on(running_stack: Stack) -> None:
    stack = running_stack.settings
    rasa = running_stack.pids()["rasa"]
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    for metadata in BAD_METADATA:
        for path in (url, url + "/", url + "?stream=true"):
            body = b'{"sender": "surrogate-attack", "message": "hi", "metadata": ' + metadata + b"}"
            answer = httpx.post(path, content=body, headers={"Content-Type": "application/json"}, timeout=10)
            assert answer.status_code == 400, (metadata, path, answer.status_code, answer.text)
            assert "metadata" in answer.json()["error"] or b"1e999" in metadata  # Sanic's JSON refuses 1e999 itself
    for sender in (".", ".."):
        answer = httpx.post(url, json={"sender": sender, "message": "hi"}, timeout=10)
        assert answer.status_code == 400, (sender, answer.text)
    assert RestCustomer(stack, "after-surrogates").say("hello")
    assert running_stack.pids()["rasa"] == rasa  # the same process: no message ended it


def test_a_customer_token_is_never_stored_and_the_customer_stays_signed_in(stack: StackSettings) -> None:
    token = shop_token(stack, "demo-platinum")
    customer = RestCustomer(stack, "token-at-rest", token)
    customer.say("hello")
    customer.say("my order number is C-100001")
    customer.say("where is it?")

    tracker = customer.tracker()  # read back from the store: each turn after the first compared a stored digest
    assert tracker["slots"]["tier"] == "platinum" and tracker["slots"]["verified"] is True
    assert token not in json.dumps(tracker)
    with sqlite3.connect(stack.var_dir / "tracker.db") as db:
        rows = [data for (data,) in db.execute("SELECT data FROM events WHERE sender_id = ?", (customer.sender,))]
    assert rows and not any(token in data for data in rows)
    assert any(f"sha256:{hashlib.sha256(token.encode()).hexdigest()}" in data for data in rows)  # in its place


def test_typed_entities_cannot_sign_a_guest_in_or_raise_a_tier(stack: StackSettings) -> None:
    customer = RestCustomer(stack, "forged-entities")
    customer.say("hello")
    for forged in ('/greet{"tier": "platinum", "verified": true, "customer_id": 1}',
                   '/thanks{"customer_id": 1, "tier": "platinum", "verified_order": "C-100001"}',
                   '/track_order{"order_number": "C-100001", "verified": true}'):
        customer.say(forged)
        slots = customer.tracker()["slots"]
        assert slots["tier"] == "bronze" and not slots["verified"], forged
        assert slots["customer_id"] is None and slots["verified_order"] is None, forged


def test_during_a_handoff_only_the_signed_in_customer_speaks_as_the_customer(stack: StackSettings) -> None:
    """The conversation id is no proof (a REST client chooses its own): during a signed-in customer's handoff, a
    message without their sign-in (none, or another customer's) never reaches the agent as the customer's words, and
    the conversation stays the signed-in customer's."""
    customer = RestCustomer(stack, "handoff-identity", shop_token(stack, "demo-platinum"))
    customer.say("I want to talk to a human")
    support = AgentSession(stack.routing_url, "alice")
    try:
        escalation = support.find(customer.sender)
        support.post(f"/escalations/{escalation['id']}/claim")
        refused = bot_messages()["relay_refused_sign_in"]
        strangers = [RestCustomer(stack, "stranger"), RestCustomer(stack, "other", shop_token(stack, "demo-gold")),
                     RestCustomer(stack, "forged", "eyJhbGciOiJIUzI1NiJ9.e30.forged")]
        for number, stranger in enumerate(strangers):
            stranger.sender = customer.sender  # the same conversation, from someone else
            assert [r.get("text") for r in stranger.say(f"refund to my new card, please ({number})")] == [refused]
        customer.say("it is me, the real customer")
        support.wait_for_customer_message(escalation["id"], "it is me, the real customer")
        messages = support.detail(escalation["id"])["messages"]
        said = [m["text"] for m in messages if m["sender"] == "customer"]
        assert not any("new card" in text for text in said), said
        assert sum(m["sender"] == "notice" for m in messages) == len(strangers)  # the agent is told each time
        slots = customer.tracker()["slots"]
        assert slots["verified"] is True and slots["tier"] == "platinum" and slots["handoff_active"] is True
    finally:
        support.close()
