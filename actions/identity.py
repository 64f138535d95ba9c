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

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.hours import parse
from actions.messages import say
from actions.routing_client import Customer, RoutingClient, RoutingError, RoutingUnavailable
from bot_runtime.token_digest import TOKEN_METADATA_KEY, is_digest, token_digest
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


def stored_token(metadata: Any) -> str | None:
    """The token, or its digest once the tracker was stored, under TOKEN_METADATA_KEY."""
    token = metadata.get(TOKEN_METADATA_KEY) if isinstance(metadata, dict) else None
    return token if isinstance(token, str) else None


def digest_of(token: str | None) -> str | None:
    return None if token is None else token_digest(token)


def usable_token(metadata: Any) -> str | None:
    """A usable token (a stored digest is not one)."""
    token = stored_token(metadata)
    return token if token is not None and not is_digest(token) else None


def customer_token(tracker: Tracker) -> str | None:
    """The shop's signed token from the session metadata (or, failing that, the latest message's metadata)."""
    return (usable_token(tracker.get_slot("session_started_metadata"))
            or usable_token(tracker.latest_message.get("metadata")))


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


def turn_tokens(tracker: Tracker) -> tuple[dict[str, Any], str | None, str | None]:
    """A copy of the session metadata, the latest message's usable token, and the token (or digest) this session's
    identity was checked against."""
    metadata = tracker.get_slot("session_started_metadata")
    metadata = dict(metadata) if isinstance(metadata, dict) else {}
    return metadata, usable_token(tracker.latest_message.get("metadata")), stored_token(metadata)


async def still_valid(token: str) -> bool:
    """Whether a token checked before is still valid: remembered until its `exp`, else asked again (RoutingError
    when the service cannot tell)."""
    known = _remembered(token)
    return bool(known or (known is None and await verified_sign_in(token)))


async def checked_identity(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Identity events for this turn, following the shop token of the customer's latest message.

    - The same token as before: still valid (remembered, else asked again) keeps the identity; expired ends it.
    - A new token (signing in, switching account): that customer, verified; a bad one ends a signed-in identity.
    - No token any more: a signed-in identity ends; a guest's order proof stays (it never came from a token).
    The tracker's slots are updated in place, so that the rest of the action sees the result.
    """
    metadata, latest, checked = turn_tokens(tracker)
    was_signed_in = signed_in(tracker)
    try:
        if digest_of(latest) == digest_of(checked):  # the same token, or the same as the one stored as a digest
            if not was_signed_in or (latest is not None and await still_valid(latest)):
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


async def same_signed_in_customer(tracker: Tracker) -> tuple[bool, list[EventType]]:
    """During a handoff: whether the latest message comes from the customer the conversation is signed in as, and
    the events that record a renewed token of that same customer. The agent talks to that customer, so a message
    without their sign-in (no token, another customer's, expired, forged) is not theirs, whatever the conversation id.
    A guest's conversation has no sign-in to check. The same token as checked before passes while it is valid; one
    the process cannot confirm (not remembered by this process while the service is unreachable) is refused too."""
    if not signed_in(tracker):
        return True, []
    metadata, latest, checked = turn_tokens(tracker)
    if latest is None:
        return False, []
    try:
        if digest_of(latest) == digest_of(checked):
            return await still_valid(latest), []
        customer = await verified_sign_in(latest)  # the shop renewed the token, or someone else's
    except RoutingError:
        logger.warning("could not verify a new token during the handoff of %s", tracker.sender_id)
        return False, []
    if customer is None or customer["id"] != tracker.get_slot("customer_id"):
        return False, []
    metadata[TOKEN_METADATA_KEY] = latest
    return True, [SlotSet("session_started_metadata", metadata)]


def unchecked_token(tracker: Tracker) -> str | None:
    """The latest message's token when this session's identity was not checked against it (the service could not be
    asked this turn): what a request kept now needs in order to be decided later for the customer it came from."""
    _, latest, checked = turn_tokens(tracker)
    return latest if latest is not None and digest_of(latest) != digest_of(checked) else None


async def kept_sign_in(dispatcher: CollectingDispatcher, tracker: Tracker, token: str | None) -> list[EventType]:
    """Identity events for kept work whose sign-in is checked only now (`token`: the one kept with it). A sign-in that
    no longer holds (expired, unknown, not kept) is said to the customer, never silently replaced by a guest.
    Raises RoutingError while the service still cannot tell; the tracker's slots are updated in place."""
    customer = await verified_sign_in(token) if token is not None else None
    if customer is None:
        say(dispatcher, "kept_sign_in_unconfirmed")
        return []
    metadata = tracker.get_slot("session_started_metadata")
    events = identity_events(customer)
    events.append(SlotSet("session_started_metadata",
                          {**(metadata if isinstance(metadata, dict) else {}), TOKEN_METADATA_KEY: token}))
    for event in events:
        tracker.slots[event["name"]] = event["value"]
    return events
