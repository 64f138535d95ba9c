"""A support agent for e2e tests: over the real agent API with a bearer token (login, online, find, claim, reply,
hand back), or signed in to the console page through its login form (session cookie)."""

from __future__ import annotations

import time
from typing import Any

import httpx
from playwright.sync_api import Page, expect


def sign_in_console(page: Page, routing_url: str, login: str, password: str = "demo") -> None:
    """Open the console, sign in through the form and wait until its live stream is connected."""
    page.goto(f"{routing_url}/console")
    page.get_by_test_id("login-name").fill(login)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("console")).to_have_attribute("data-live", "true", timeout=10000)


class AgentSession:
    """One demo agent signed in for API use (bearer token: no cookie, no CSRF token needed)."""

    def __init__(self, routing_url: str, login: str, password: str = "demo") -> None:
        self.http = httpx.Client(base_url=f"{routing_url}/api/v1/agent", timeout=10)
        response = self.http.post("/login", json={"login": login, "password": password, "session": "bearer"})
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
        """Sign out: the token is revoked and the agent goes offline."""
        self.http.post("/logout")
        self.http.close()
