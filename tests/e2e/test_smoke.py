"""Smoke test: the real processes start, answer their health checks, and the bot replies over REST."""

from __future__ import annotations

import uuid

import httpx
import yaml

from launcher.settings import ROOT, StackSettings


def _response_texts(name: str) -> set[str]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    return {variant["text"] for variant in domain["responses"][name]}


def test_every_process_is_healthy(stack: StackSettings) -> None:
    with httpx.Client(timeout=10) as client:
        assert client.get(f"{stack.routing_url}/health").json()["status"] == "ok"
        assert client.get(f"{stack.actions_url}/health").json()["status"] == "ok"
        status = client.get(f"{stack.rasa_url}/status", params={"token": stack.rasa_token}).json()
        assert status["model_file"].endswith("concierge.tar.gz")


def test_rasa_api_requires_the_token(stack: StackSettings) -> None:
    response = httpx.get(f"{stack.rasa_url}/status", params={"token": "wrong"}, timeout=10)
    assert response.status_code == 401


def test_bot_replies_over_rest(stack: StackSettings) -> None:
    sender = f"smoke-{uuid.uuid4().hex[:8]}"
    response = httpx.post(
        f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": "hello"}, timeout=30
    )
    response.raise_for_status()
    replies = response.json()
    assert replies and replies[0]["recipient_id"] == sender
    assert replies[0]["text"] in _response_texts("utter_greet")


def test_a_turn_no_rule_covers_still_gets_an_answer(stack: StackSettings) -> None:
    """Without a learnt dialogue policy, an unexpected turn falls back to action_fallback: never silence."""
    sender = f"smoke-{uuid.uuid4().hex[:8]}"
    replies = []
    for text in ("yes", "no"):  # affirm / deny out of any context
        response = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook",
                              json={"sender": sender, "message": text}, timeout=30)
        response.raise_for_status()
        replies.append(response.json())
    assert all(reply and reply[0].get("text") for reply in replies), replies
