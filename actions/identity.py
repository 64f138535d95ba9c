"""Who the customer is: the shop's signed token, checked on every turn that uses identity, or an order number + email
pair, which proves that one order.

Identity follows the token, not the conversation id (which the client chooses): every action that reads identity
first calls `checked_identity`. A message that no longer carries the token the customer signed in with, or whose
token has expired, ends the signed-in identity (the customer is told once). A token's verification is remembered
until the token's `exp`, so the routing service is asked once per token and again only after that.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, Restarted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import kept_work
from actions.handoff import reapply_handoff
from actions.hours import parse
from actions.messages import say
from actions.routing_client import Customer, RoutingClient, RoutingError, RoutingUnavailable
from actions.token_digest import TOKEN_METADATA_KEY, is_digest, token_digest
from clock import utcnow

logger = logging.getLogger(__name__)

IDENTITY_SLOTS = ("customer_id", "customer_name", "tier", "tier_reason", "verified", "verified_order")
# set (and carried over by the tracker) once a conversation was escalated
HANDOFF_SLOTS = ("escalation_id", "pending_escalation", "handoff_active")
# per-session state that never carries over into a new session
SESSION_SLOTS = IDENTITY_SLOTS + ("bot_failures", "human_requests", "verify_attempts", "session_started_metadata")
VERIFY_RETRIES = 2  # a verification the service could not answer is asked again twice (0.25 s, then 0.5 s later)
VERIFY_BACKOFF_SECONDS = 0.25
REMEMBERED_SIGN_INS = 10_000  # tokens whose verification is kept until they expire (each entry is a hash and a time)
_valid_until: dict[str, datetime] = {}


def identity_events(customer: Customer | None, proven_order: str | None = None) -> list[EventType]:
    """Slot events describing a verified customer, or an anonymous (bronze, unverified) visitor.

    `proven_order`: the order a guest proved with its number and email, the only one their proof covers; None for
    a customer signed in through the shop.
    """
    if customer is None:
        values: dict[str, Any] = {
            "customer_id": None,
            "customer_name": None,
            "tier": "bronze",
            "tier_reason": "not signed in",
            "verified": False,
            "verified_order": None,
        }
    else:
        values = {
            "customer_id": customer["id"],
            "customer_name": customer["name"],
            "tier": customer["tier"],
            "tier_reason": customer["tier_reason"],
            "verified": True,
            "verified_order": proven_order,
        }
    return [SlotSet(name, value) for name, value in values.items()]


def _stored_token(metadata: Any) -> str | None:
    """The token, or its digest once the tracker was stored, under TOKEN_METADATA_KEY."""
    token = metadata.get(TOKEN_METADATA_KEY) if isinstance(metadata, dict) else None
    return token if isinstance(token, str) else None


def _digest(token: str | None) -> str | None:
    return None if token is None else token_digest(token)


def _token(metadata: Any) -> str | None:
    """A usable token (a stored digest is not one)."""
    token = _stored_token(metadata)
    return token if token is not None and not is_digest(token) else None


def customer_token(tracker: Tracker) -> str | None:
    """The shop's signed token from the session metadata (or, failing that, the latest message's metadata)."""
    return _token(tracker.get_slot("session_started_metadata")) or _token(tracker.latest_message.get("metadata"))


def signed_in(tracker: Tracker) -> bool:
    """Whether the identity slots come from the shop's token (the whole account), not from one order's proof."""
    return bool(tracker.get_slot("verified")) and not tracker.get_slot("verified_order")


async def verified_sign_in(token: str) -> Customer | None:
    """The customer a valid shop token names (the routing service checks it); None when the token is forged,
    unknown or expired. The verification is remembered until the token expires. A busy or unreachable service is
    asked again (VERIFY_RETRIES times, briefly) before RoutingError: load must not turn a customer into a guest."""
    for attempt in range(VERIFY_RETRIES + 1):
        try:
            async with RoutingClient() as client:
                sign_in = await client.verify_token(token)
            break
        except RoutingUnavailable:
            if attempt == VERIFY_RETRIES:
                raise
            await asyncio.sleep(VERIFY_BACKOFF_SECONDS * 2**attempt)
    now = utcnow()
    expires_at = (parse(sign_in["expires_at"]) if sign_in is not None else None) or now
    if sign_in is None or expires_at <= now:
        _valid_until.pop(token_digest(token), None)
        return None
    if len(_valid_until) >= REMEMBERED_SIGN_INS:
        for key in [key for key, until in _valid_until.items() if until <= now] or list(_valid_until):
            del _valid_until[key]
    _valid_until[token_digest(token)] = expires_at
    return sign_in["customer"]


def _remembered(token: str) -> bool | None:
    """True while a verified token's `exp` lies ahead, False once it has passed, None for a token not seen."""
    until = _valid_until.get(token_digest(token))
    return None if until is None else utcnow() < until


async def checked_identity(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Identity events for this turn, following the shop token of the customer's latest message.

    - The same token as before: still valid (remembered, else asked again) keeps the identity; expired ends it.
    - A new token (signing in, switching account): that customer, verified; a bad one ends a signed-in identity.
    - No token any more: a signed-in identity ends; a guest's order proof stays (it never came from a token).
    The tracker's slots are updated in place, so that the rest of the action sees the result.
    """
    metadata = tracker.get_slot("session_started_metadata")
    metadata = dict(metadata) if isinstance(metadata, dict) else {}
    latest, checked = _token(tracker.latest_message.get("metadata")), _stored_token(metadata)
    was_signed_in = signed_in(tracker)
    try:
        if _digest(latest) == _digest(checked):  # the same token, or the same as the one stored as a digest
            known = _remembered(latest) if latest is not None else False
            if not was_signed_in or known or (known is None and await verified_sign_in(latest or "")):
                return []
            events = identity_events(None)  # the token the customer signed in with has expired (or never was)
        else:
            customer = await verified_sign_in(latest) if latest is not None else None
            if customer is not None:
                events = identity_events(customer)
            else:
                events = identity_events(None) if was_signed_in else []
    except RoutingError:
        logger.exception("could not verify the customer token; keeping the identity of the previous turn")
        return []
    if was_signed_in and not any(e["name"] == "verified" and e["value"] for e in events):
        say(dispatcher, "sign_in_ended")
    if latest is None:
        metadata.pop(TOKEN_METADATA_KEY, None)
    else:
        metadata[TOKEN_METADATA_KEY] = latest  # checked: the same token is not asked about again this session
    events.append(SlotSet("session_started_metadata", metadata))
    for event in events:
        tracker.slots[event["name"]] = event["value"]
    return events


class ActionSessionStart(Action):
    """Starts a session: carries slots over, then sets identity and tier slots from the verified shop token."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        session_config = domain.get("session_config") or {}
        if not isinstance(session_config, dict) or session_config.get("carry_over_slots_to_new_session", True):
            events += [
                SlotSet(name, value)
                for name, value in tracker.slots.items()
                if value is not None and name not in SESSION_SLOTS
            ]
        metadata = tracker.get_slot("session_started_metadata")
        token = customer_token(tracker)
        try:
            customer = await verified_sign_in(token) if token is not None else None
        except RoutingError:
            # not recorded as checked: the next turn verifies the token again (checked_identity), so an outage at
            # the start of a session never leaves a signed-in customer served as a guest for the whole session
            logger.exception("could not verify the customer token; anonymous until it can be checked")
            customer, token = None, None
            if isinstance(metadata, dict):
                metadata = {key: value for key, value in metadata.items() if key != TOKEN_METADATA_KEY}
        if token is not None:  # the token this session's identity was checked against (see checked_identity)
            metadata = {**(metadata if isinstance(metadata, dict) else {}), TOKEN_METADATA_KEY: token}
        if metadata is not None:
            events.append(SlotSet("session_started_metadata", metadata))
        events += identity_events(customer)
        events += [SlotSet("bot_failures", 0.0), SlotSet("human_requests", 0.0), SlotSet("verify_attempts", 0.0)]
        # only a conversation that was escalated before can have a live handoff: skip the look-up otherwise
        if any(tracker.get_slot(name) for name in HANDOFF_SLOTS):
            events += await reapply_handoff(tracker.sender_id)
        if tracker.get_slot("pending_escalation") or tracker.get_slot("pending_relay"):
            kept_work.remember(tracker.sender_id)  # work kept in an earlier session is tried again
        events.append(ActionExecuted("action_listen"))
        return events


class ActionRestart(Action):
    """Starts the conversation over; a customer signed in through the shop stays signed in (and keeps the tier)."""

    def name(self) -> str:
        return "action_restart"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = [Restarted()]
        metadata = tracker.get_slot("session_started_metadata")
        if isinstance(metadata, dict) and TOKEN_METADATA_KEY in metadata and tracker.get_slot("verified"):
            latest = _token(tracker.latest_message.get("metadata"))
            if latest is not None and _digest(latest) == _digest(_stored_token(metadata)):
                # the session that follows checks the token itself (the slot holds its digest once stored)
                metadata = {**metadata, TOKEN_METADATA_KEY: latest}
            events.append(SlotSet("session_started_metadata", metadata))
            events += [SlotSet(name, tracker.get_slot(name)) for name in IDENTITY_SLOTS]
        say(dispatcher, "restarted")
        return events
