"""A customer chatting over Rasa's REST channel, optionally signed in through the demo shop, for e2e tests."""

from __future__ import annotations

import ast
import uuid
from typing import Any

import httpx

from launcher.settings import ROOT, StackSettings


def shop_token(stack: StackSettings, external_id: str) -> str:
    """A token as the shop would sign it for one of its customers (the development-only demo-token endpoint)."""
    response = httpx.post(f"{stack.routing_url}/api/v1/identity/demo-token", json={"external_id": external_id},
                          headers={"Authorization": f"Bearer {stack.service_token}"}, timeout=10)
    response.raise_for_status()
    return str(response.json()["token"])


def conversation_tracker(stack: StackSettings, conversation_id: str) -> dict[str, Any]:
    """Rasa's tracker of a conversation (all events), through its HTTP API."""
    response = httpx.get(f"{stack.rasa_url}/conversations/{conversation_id}/tracker",
                         params={"token": stack.rasa_token, "include_events": "ALL"}, timeout=10)
    response.raise_for_status()
    return dict(response.json())


class RestCustomer:
    """One conversation over REST; `say` returns the bot's replies to one message."""

    def __init__(self, stack: StackSettings, prefix: str, token: str | None = None) -> None:
        self.stack = stack
        self.sender = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self.metadata = {"customer_token": token} if token else {}

    def say(self, text: str) -> list[dict[str, Any]]:
        response = httpx.post(f"{self.stack.rasa_url}/webhooks/rest/webhook", timeout=30,
                              json={"sender": self.sender, "message": text, "metadata": self.metadata})
        response.raise_for_status()
        return list(response.json())

    def tracker(self) -> dict[str, Any]:
        """Rasa's tracker of this conversation."""
        return conversation_tracker(self.stack, self.sender)


def bot_messages() -> dict[str, str]:
    """The MESSAGES literals of actions/messages.py and bot_runtime/texts.py (what the Rasa process says itself),
    read without importing the bot runtime (another venv)."""
    found: dict[str, str] = {}
    for path in (ROOT / "actions" / "messages.py", ROOT / "bot_runtime" / "texts.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "MESSAGES" and node.value:
                found.update(ast.literal_eval(node.value))
    assert "action_failed" in found, "no MESSAGES found"
    return found
