"""The cluster test's clients and readers: customers over REST, agents over the agent API, the live stream, the
tracker store, the routing database and nginx's access log. Customers and agents behave as careful clients do when a
replica dies under them: a customer sends a message again with the same `metadata.message_id` (Rasa handles it once:
bot_runtime/resend_once.py); an agent whose replica is gone goes on through the front door and, before sending a
reply again, looks whether the first attempt was stored."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import httpx
import psycopg

from tests.e2e.agents import AgentSession

RETRY_SECONDS = 120.0  # a survivor on a loaded 2-core machine answers well within this
FAILOVER_STATUSES = (502, 503, 504)


def through_failover(call: Callable[[], httpx.Response], what: str, before_retry: Callable[[], None]) -> httpx.Response:
    """`call` again (after `before_retry`) while the answer fails on the wire or is the front door's failover status,
    for up to RETRY_SECONDS; then the answer, whatever its status."""
    deadline = time.monotonic() + RETRY_SECONDS
    while True:
        try:
            response = call()
            if response.status_code not in FAILOVER_STATUSES:
                return response
            failure = f"HTTP {response.status_code}"
        except httpx.TransportError as exc:
            failure = repr(exc)
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never went through: {failure}")
        before_retry()
        time.sleep(0.5)


def wait(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


class Chat:
    """One REST conversation through the front door; the header keeps it on one Rasa replica."""

    def __init__(self, rasa_url: str, token: str | None = None) -> None:
        self.url = f"{rasa_url}/webhooks/rest/webhook"
        self.sender = f"cl-{uuid.uuid4().hex[:10]}"
        self.metadata = {"customer_token": token} if token else {}
        self.sent: list[str] = []
        self.escalation_id = 0
        self.agent = ""  # the login of the agent who took it
        self.replies: list[str] = []  # the agent's, in order
        self.during_handoff: list[str] = []  # the customer's, while with the agent
        self.resent = 0  # messages sent again after a failure on the wire

    def _count_resend(self) -> None:
        self.resent += 1

    def say(self, text: str) -> list[dict[str, Any]]:
        """Send `text` (again, with the same id, while the answer fails on the wire) and return the bot's replies."""
        body = {"sender": self.sender, "message": text,
                "metadata": {**self.metadata, "message_id": uuid.uuid4().hex}}
        response = through_failover(
            lambda: httpx.post(self.url, json=body, headers={"X-Conversation-Id": self.sender}, timeout=60),
            f"{self.sender}: {text!r}", self._count_resend)
        response.raise_for_status()
        self.sent.append(text)
        return list(response.json())


class Agent:
    """An agent signed in on one routing replica; when that replica dies, the same session goes on through the front
    door (sign-ins live in the database). Only the first failure on the wire moves it; calls are retried there."""

    def __init__(self, replica_url: str, front_url: str, login: str, password: str) -> None:
        self.login = login
        self.session = AgentSession(replica_url, login, password)
        self.session.http.timeout = httpx.Timeout(30)  # a loaded 2-core machine: slow is not failed
        self.front = httpx.URL(f"{front_url}/api/v1/agent")
        me = self.session.http.get("/me")
        me.raise_for_status()
        self.id = int(me.json()["id"])
        self.failed_over = threading.Event()
        self.retried = 0

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return through_failover(lambda: self.session.http.request(method, path, json=body),
                                f"{self.login}: {method} {path}", self._fail_over)

    def _fail_over(self) -> None:
        self.retried += 1
        self.session.http.base_url = self.front
        self.failed_over.set()

    def detail(self, escalation_id: int) -> dict[str, Any]:
        response = self._call("GET", f"/escalations/{escalation_id}")
        response.raise_for_status()
        return dict(response.json())

    def find(self, conversation_id: str, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            response = self._call("GET", "/escalations")
            response.raise_for_status()
            found = [e for e in response.json() if e["conversation_id"] == conversation_id]
            if found:
                return self.detail(found[0]["id"])
            if time.monotonic() > deadline:
                raise AssertionError(f"no escalation for {conversation_id} in the queues of {self.login}")
            time.sleep(0.2)

    def claim(self, escalation_id: int) -> bool:
        """Try to take the escalation; False when another agent has it (409; a 409 after an attempt whose answer
        was lost may be our own claim: the escalation says whose it is)."""
        response = self._call("POST", f"/escalations/{escalation_id}/claim")
        if response.status_code == 409:
            return bool(self.detail(escalation_id)["agent_id"] == self.id)
        response.raise_for_status()
        return True

    def reply(self, escalation_id: int, text: str) -> None:
        """Send a reply once: after a failure on the wire, only when the escalation does not have it yet."""
        try:
            self.session.http.post(f"/escalations/{escalation_id}/messages", json={"text": text}).raise_for_status()
            return
        except (httpx.TransportError, httpx.HTTPStatusError) as exc:
            if isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code not in FAILOVER_STATUSES:
                raise
        self.retried += 1
        self.session.http.base_url = self.front
        self.failed_over.set()
        if not any(m["sender"] == "agent" and m["text"] == text for m in self.detail(escalation_id)["messages"]):
            self._call("POST", f"/escalations/{escalation_id}/messages", {"text": text}).raise_for_status()

    def resolve(self, escalation_id: int) -> None:
        response = self._call("POST", f"/escalations/{escalation_id}/resolve", {"disposition": "resolved"})
        if response.status_code == 409 and self.detail(escalation_id)["status"] == "resolved":
            return  # the first attempt did it before its answer was lost
        response.raise_for_status()

    def wait_for_customer_message(self, escalation_id: int, text: str, timeout: float = 90.0) -> None:
        wait(lambda: any(m["sender"] == "customer" and m["text"] == text
                         for m in self.detail(escalation_id)["messages"]),
             f"{text!r} in escalation {escalation_id}", timeout)

    def close(self) -> None:
        try:
            self.session.close()
        except httpx.HTTPError:
            pass


class LiveStream:
    """An agent's live stream (Server-Sent Events) read in a thread: the escalation events it received."""

    def __init__(self, url: str, token: str) -> None:
        self.events: list[dict[str, Any]] = []
        self._client = httpx.Client(timeout=httpx.Timeout(10, read=None))
        self._open = threading.Event()
        threading.Thread(target=self._read, args=(url, token), daemon=True).start()
        assert self._open.wait(30), "the live stream did not open"

    def _read(self, url: str, token: str) -> None:
        try:
            with self._client.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as response:
                self._open.set()
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        self.events.append(json.loads(line.removeprefix("data: ")))
        except httpx.HTTPError:
            pass

    def statuses_of(self, escalation_id: int) -> list[str]:
        return [e["escalation"]["status"] for e in list(self.events)
                if e.get("escalation", {}).get("id") == escalation_id]

    def close(self) -> None:
        self._client.close()


def tracker_events(tracker_db: str, sender: str) -> list[dict[str, Any]]:
    """The conversation's events as the tracker store holds them, in order."""
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={tracker_db}") as conn:
        rows = conn.execute("SELECT data FROM events WHERE sender_id = %s ORDER BY id", (sender,)).fetchall()
    return [json.loads(row[0]) for row in rows]


def customer_texts(events: list[dict[str, Any]]) -> list[str]:
    """What the customer typed (not the external intents the routing service triggers)."""
    return [e["text"] for e in events if e["event"] == "user" and e.get("text")
            and not e["text"].startswith(("/", "EXTERNAL"))]


def agent_texts(events: list[dict[str, Any]]) -> list[str]:
    return [e["text"] for e in events if e["event"] == "bot" and (e.get("metadata") or {}).get("source") == "human"
            and e.get("text")]


def handoff_endings(events: list[dict[str, Any]]) -> int:
    """How often the end of the handoff was applied to the conversation."""
    return sum(1 for e in events if e["event"] == "user"
               and ((e.get("parse_data") or {}).get("intent") or {}).get("name") == "EXTERNAL_handoff_ended")


def routing_rows(routing_db: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={routing_db}") as conn:
        return list(conn.execute(query, params).fetchall())


def served(access_log: str, front_port: int, path_prefix: str = "/webhooks/rest/webhook") -> dict[str, list[str]]:
    """Per conversation, the Rasa replica(s) nginx used for each request on `path_prefix` (in order)."""
    result: dict[str, list[str]] = defaultdict(list)
    for line in access_log.splitlines():
        parts = line.split(" ")
        if len(parts) >= 8 and parts[1] == str(front_port) and parts[3].startswith(path_prefix):
            result[parts[-2]].append(" ".join(parts[5:-2]))
    return result
