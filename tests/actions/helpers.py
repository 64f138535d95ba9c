"""Helpers for the action tests: tracker builders and demo-shop look-ups through the routing API."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import httpx
import jwt
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.messages import MESSAGES
from clock import utcnow

IDENTITY_SECRET = "action-tests-identity-secret-of-32-bytes"  # the test routing service's CONCIERGE_IDENTITY_SECRET


def demo_customer(api: httpx.Client, tier: str) -> dict[str, Any]:
    """The well-known demo customer of a tier ("demo-gold", ...)."""
    response = api.get("/customers/lookup", params={"external_id": f"demo-{tier}"})
    response.raise_for_status()
    return response.json()


def demo_orders(api: httpx.Client, customer_id: int) -> list[dict[str, Any]]:
    response = api.get(f"/customers/{customer_id}/orders", params={"limit": 50})
    response.raise_for_status()
    return response.json()["orders"]


def shop_token(external_id: str, ttl: timedelta = timedelta(hours=1), issued: timedelta = timedelta(0)) -> str:
    """A token as the shop's website signs it: `sub`, `iat` (now + `issued`) and `exp` (`iat` + `ttl`)."""
    iat = utcnow() + issued
    return jwt.encode({"sub": external_id, "iat": iat, "exp": iat + ttl}, IDENTITY_SECRET, algorithm="HS256")


def verified_slots(customer: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    """The slots of a customer signed in through the shop with `token` (a fresh one by default); make_tracker's
    messages carry the same token, as the chat widget's do."""
    return {"customer_id": customer["id"], "customer_name": customer["name"], "tier": customer["tier"],
            "tier_reason": customer["tier_reason"], "verified": True,
            "session_started_metadata": {"customer_token": token or shop_token(customer["external_id"])}}


def guest_slots(customer: dict[str, Any], order_number: str) -> dict[str, Any]:
    """The slots of a guest who proved `order_number` with its email (no shop token)."""
    return {"customer_id": customer["id"], "customer_name": customer["name"], "tier": customer["tier"],
            "tier_reason": customer["tier_reason"], "verified": True, "verified_order": order_number,
            "order_number": order_number}


def make_tracker(
    slots: dict[str, Any] | None = None,
    intent: str | None = None,
    text: str = "",
    metadata: dict[str, Any] | None = None,
    new_slot_events: dict[str, Any] | None = None,
    active_loop: str | None = None,
    sender_id: str = "action-test",
) -> Tracker:
    """A tracker like the one the Rasa server sends; `new_slot_events` are this turn's extracted slot values.

    Like the chat widget's, the latest message carries the session's shop token unless `metadata` is given.
    """
    all_slots: dict[str, Any] = {"verified": False, "tier": "bronze", "bot_failures": 0.0, "human_requests": 0.0,
                                 "verify_attempts": 0.0}
    all_slots.update(slots or {})
    all_slots.update(new_slot_events or {})
    if metadata is None and isinstance(all_slots.get("session_started_metadata"), dict):
        token = all_slots["session_started_metadata"].get("customer_token")
        metadata = {"customer_token": token} if token else None
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9} if intent else {}, "entities": [],
              "intent_ranking": [{"name": intent, "confidence": 0.9}] if intent else [],
              "metadata": metadata or {}}
    events: list[dict[str, Any]] = [{"event": "action", "name": "action_listen"},
                                    {"event": "user", "text": text, "parse_data": latest, "metadata": metadata or {}}]
    events += [{"event": "slot", "name": k, "value": v} for k, v in (new_slot_events or {}).items()]
    return Tracker(sender_id, all_slots, latest, events, False, None,
                   {"name": active_loop} if active_loop else {}, "action_listen")


def slot_values(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The last value each SlotSet event sets."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def texts(dispatcher: Any) -> list[str]:
    return [m.get("text") or m.get("response") for m in dispatcher.messages]


def run(action: Action, domain: dict[str, Any], intent: str,
        slots: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    """Run `action` on a one-turn tracker; the slots it sets and the texts it says."""
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots=slots, intent=intent, sender_id=f"test-{intent}")
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return slot_values(events), texts(dispatcher)


HANDOFF_ANNOUNCEMENTS = ("handoff_waiting", "handoff_unstaffed", "handoff_closed")


def says(key: str, text: str) -> bool:
    """Whether `text` is MESSAGES[key] with its {placeholders} filled in (with anything)."""
    pattern = re.sub(r"\\\{\w+\\\}", ".*", re.escape(MESSAGES[key]))
    return re.fullmatch(pattern, text, flags=re.DOTALL) is not None


def is_handoff_announcement(text: str) -> bool:
    """Whether `text` is one of the messages that tell the customer what happens after an escalation."""
    return any(says(key, text) for key in HANDOFF_ANNOUNCEMENTS)
