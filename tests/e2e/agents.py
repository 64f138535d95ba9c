"""A support agent driving the real agent API (login, online, find, claim, reply, hand back) for e2e tests."""

from __future__ import annotations

import time
from typing import Any

import httpx


class AgentSession:
    """One signed-in demo agent."""

    def __init__(self, routing_url: str, login: str, password: str = "demo") -> None:
        self.http = httpx.Client(base_url=f"{routing_url}/api/v1/agent", timeout=10)
        response = self.http.post("/login", json={"login": login, "password": password})
        response.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {response.json()['token']}"
        self.http.post("/status", json={"status": "online"}).raise_for_status()

    def find(self, conversation_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """The escalation of a conversation, as listed in my queues (waits until it appears)."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.http.get("/escalations")
            response.raise_for_status()
            found = [e for e in response.json() if e["conversation_id"] == conversation_id]
            if found:
                return self.detail(found[0]["id"])
            if time.monotonic() > deadline:
                raise AssertionError(f"no escalation for {conversation_id} in my queues")
            time.sleep(0.2)

    def detail(self, escalation_id: int) -> dict[str, Any]:
        response = self.http.get(f"/escalations/{escalation_id}")
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.http.post(path, json=body or {})
        response.raise_for_status()
        return response.json() if response.content else {}

    def wait_for_customer_message(self, escalation_id: int, text: str, timeout: float = 5.0) -> float:
        """Seconds until the customer's `text` is in the escalation's messages."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if any(m["sender"] == "customer" and m["text"] == text for m in self.detail(escalation_id)["messages"]):
                return time.monotonic() - start
            time.sleep(0.1)
        raise AssertionError(f"the agent never got {text!r}")

    def close(self) -> None:
        self.http.post("/status", json={"status": "offline"})
        self.http.close()
