"""Sending one channel case and judging what came back, and checking that the stack survived it.

The rules: a REST request is answered, within CASE_TIMEOUT, with a status under 500 (a 200 with a list of bot
messages; a body over the size limit may instead find the connection closed); a socket.io `user_uttered` or
`session_request` gets `refused`, a reply or `session_confirm` (or, for a packet over the socket's limit, the
closed socket); other socket.io packets, and those python-engineio cannot decode, may get anything. After each
case, every process is still the process it was (same pid, alive), answers its health URL, and a greeting in a
fresh conversation gets a reply.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from fuzz.channel_cases import Case
from fuzz.channel_values import SOCKET_PACKET_LIMIT
from fuzz.socketio_wire import CLOSED, SocketWire
from launcher.settings import MAX_REQUEST_BYTES, StackSettings
from launcher.stack import Stack

CASE_TIMEOUT = 30.0  # seconds an answer may take before the case counts as a hang (a bound, not a measurement)
HEALTH_TIMEOUT = 5.0
QUIET_SECONDS = 0.5  # how long a raw packet's socket is watched (it needs no answer at all)
TRAILING_SECONDS = 0.3  # a reply's socket quiet this long has said all it will (Rasa then stores the turn)
ANSWERS = ("refused", "bot_uttered", "session_confirm")
REST_WEBHOOK = "/webhooks/rest/webhook"


@dataclass
class Outcome:
    """What a case got back (`answer`, e.g. "400" or "refused") and the rules it broke (`problems`)."""

    answer: str
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


async def send_rest(client: httpx.AsyncClient, stack: StackSettings, case: Case, token: str) -> Outcome:
    headers = {"Content-Type": case.content_type} if case.content_type is not None else {}
    payload = case.payload(token)
    try:
        response = await client.post(stack.rasa_url + REST_WEBHOOK, content=payload, headers=headers,
                                     timeout=httpx.Timeout(CASE_TIMEOUT, connect=HEALTH_TIMEOUT))
    except httpx.TimeoutException:
        return Outcome("timeout", [f"REST: no answer within {CASE_TIMEOUT:.0f} s"])
    except httpx.TransportError as exc:
        if len(payload) > MAX_REQUEST_BYTES:  # refused at the door: Sanic answers 413 and closes while we write
            return Outcome("dropped")
        return Outcome("dropped", [f"REST: the connection failed ({exc.__class__.__name__})"])
    answer = str(response.status_code)
    if response.status_code >= 500:
        return Outcome(answer, [f"REST: {response.status_code} answer ({response.text[:120]!r})"])
    if response.status_code == 200:
        try:
            messages = response.json()
        except ValueError:
            messages = None
        if not isinstance(messages, list):
            return Outcome(answer, ["REST: 200 without a list of bot messages"])
    return Outcome(answer)


async def send_socketio(stack: StackSettings, case: Case, token: str) -> Outcome:
    try:
        wire = await SocketWire.open(stack.rasa_url, stack.routing_url, HEALTH_TIMEOUT)
    except (OSError, TimeoutError, ConnectionError) as exc:  # websockets' handshake errors are OSErrors
        return Outcome("no socket", [f"socket.io: the socket did not open ({exc.__class__.__name__}: {exc})"[:200]])
    try:
        if case.session is not None:
            await wire.emit("session_request", {"session_id": case.session})
            name, _ = await wire.next_event(("session_confirm", "refused"), CASE_TIMEOUT)
            if name != "session_confirm":
                return Outcome(name or "silence", [f"socket.io: the session was not confirmed ({name or 'silence'})"])
        frames = case.packets(token)
        for frame in frames:
            await wire.send(frame)
        if case.expect == "any":
            name, _ = await wire.next_event(ANSWERS, QUIET_SECONDS)
            return Outcome(name or "silence")
        name, _ = await wire.next_event(ANSWERS, CASE_TIMEOUT)
        if name in ANSWERS:
            while (await wire.next_event(ANSWERS, TRAILING_SECONDS))[0] in ANSWERS:
                pass  # the rest of the reply: Rasa stores the turn after its last message
            return Outcome(name)
        oversized = any(len(frame.encode()) > SOCKET_PACKET_LIMIT for frame in frames)
        if name == CLOSED and oversized:
            return Outcome(name)
        what = "the socket closed" if name == CLOSED else f"no answer within {CASE_TIMEOUT:.0f} s"
        return Outcome(name or "silence", [f"socket.io: {what} (neither refused nor answered)"])
    except OSError as exc:
        return Outcome("dropped", [f"socket.io: the connection failed ({exc.__class__.__name__})"])
    finally:
        await wire.close()


async def send(client: httpx.AsyncClient, stack: StackSettings, case: Case, token: str) -> Outcome:
    """Send `case` and judge its answer."""
    started = time.monotonic()
    if case.channel == "rest":
        outcome = await send_rest(client, stack, case, token)
    else:
        outcome = await send_socketio(stack, case, token)
    outcome.seconds = time.monotonic() - started
    return outcome


async def greeted(client: httpx.AsyncClient, stack: StackSettings, channel: str) -> str | None:
    """Why a greeting in a fresh conversation got no reply over `channel`, or None when it got one."""
    conversation = f"probe-{uuid.uuid4().hex[:12]}"
    if channel == "rest":
        try:
            response = await client.post(stack.rasa_url + REST_WEBHOOK, json={"sender": conversation,
                                                                              "message": "hello"},
                                         timeout=httpx.Timeout(CASE_TIMEOUT, connect=HEALTH_TIMEOUT))
        except httpx.HTTPError as exc:
            return f"REST greeting: {exc.__class__.__name__}"
        replies: Any = response.json() if response.status_code == 200 else None
        return None if isinstance(replies, list) and replies else f"REST greeting: {response.status_code} {replies}"
    try:
        wire = await SocketWire.open(stack.rasa_url, stack.routing_url, HEALTH_TIMEOUT)
    except (OSError, TimeoutError, ConnectionError) as exc:
        return f"socket.io greeting: the socket did not open ({exc.__class__.__name__})"
    try:
        await wire.emit("session_request", {"session_id": conversation})
        await wire.next_event(("session_confirm",), CASE_TIMEOUT)
        await wire.emit("user_uttered", {"session_id": conversation, "message": "hello", "metadata": {}})
        name, _ = await wire.next_event(("bot_uttered", "refused"), CASE_TIMEOUT)
        return None if name == "bot_uttered" else f"socket.io greeting: {name or 'no reply'}"
    finally:
        await wire.close()


async def health_problems(client: httpx.AsyncClient, stack: Stack, pids: dict[str, int]) -> list[str]:
    """Which processes died or were replaced since `pids` were taken, or do not answer their health URL."""
    problems = []
    for spec in stack.specs:
        assert spec.proc is not None
        if spec.proc.pid != pids[spec.name] or spec.proc.poll() is not None:
            problems.append(f"{spec.name} exited")
            continue
        try:
            response = await client.get(spec.health_url, timeout=HEALTH_TIMEOUT)
            if response.status_code != 200:
                problems.append(f"{spec.name} health: {response.status_code}")
        except httpx.HTTPError as exc:
            problems.append(f"{spec.name} health: {exc.__class__.__name__}")
    return problems


async def survived(client: httpx.AsyncClient, stack: Stack, pids: dict[str, int], channel: str) -> list[str]:
    """The stack's problems after a case: dead or unhealthy processes, else a fresh conversation left unanswered."""
    problems = await health_problems(client, stack, pids)
    if problems:
        return problems
    greeting = await greeted(client, stack.settings, channel)
    return [greeting] if greeting else []


async def recovered(client: httpx.AsyncClient, stack: Stack, bound: float = 300.0) -> dict[str, int]:
    """The new pids once every process answers its health URL again (the supervisor restarts the dead ones)."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if all(spec.proc is not None and spec.proc.poll() is None for spec in stack.specs):
            pids = stack.pids()
            if not await health_problems(client, stack, pids):
                return pids
        await asyncio.sleep(1.0)
    raise TimeoutError(f"the stack did not recover within {bound:.0f} s")
