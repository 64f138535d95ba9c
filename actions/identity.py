"""Who the customer is: the shop token at session start, or an order number + email pair."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, Restarted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.handoff import reapply_handoff
from actions.messages import say
from actions.routing_client import Customer, RoutingClient, RoutingError

logger = logging.getLogger(__name__)

TOKEN_METADATA_KEY = "customer_token"
IDENTITY_SLOTS = ("customer_id", "customer_name", "tier", "tier_reason", "verified")
# set (and carried over by the tracker) once a conversation was escalated
HANDOFF_SLOTS = ("escalation_id", "pending_escalation", "handoff_active")
# per-session state that never carries over into a new session
SESSION_SLOTS = IDENTITY_SLOTS + ("bot_failures", "human_requests", "verify_attempts", "session_started_metadata")


def identity_events(customer: Customer | None) -> list[EventType]:
    """Slot events describing a verified customer, or an anonymous (bronze, unverified) visitor."""
    if customer is None:
        values: dict[str, Any] = {
            "customer_id": None,
            "customer_name": None,
            "tier": "bronze",
            "tier_reason": "not signed in",
            "verified": False,
        }
    else:
        values = {
            "customer_id": customer["id"],
            "customer_name": customer["name"],
            "tier": customer["tier"],
            "tier_reason": customer["tier_reason"],
            "verified": True,
        }
    return [SlotSet(name, value) for name, value in values.items()]


def customer_token(tracker: Tracker) -> str | None:
    """The shop's signed token from the session metadata (or, failing that, the latest message's metadata)."""
    for metadata in (tracker.get_slot("session_started_metadata"), tracker.latest_message.get("metadata")):
        token = metadata.get(TOKEN_METADATA_KEY) if isinstance(metadata, dict) else None
        if isinstance(token, str):
            return token
    return None


async def refreshed_identity(tracker: Tracker) -> list[EventType]:
    """Identity events when this message carries a different shop token than the session started with.

    A customer who signs in (or switches account) mid-session is verified again, so the tier always belongs to
    the verified token; the tracker's slots are updated in place so that the rest of the action sees them.
    """
    session_metadata = tracker.get_slot("session_started_metadata") or {}
    latest = (tracker.latest_message.get("metadata") or {}).get(TOKEN_METADATA_KEY)
    if not isinstance(latest, str) or latest == session_metadata.get(TOKEN_METADATA_KEY):
        return []
    try:
        async with RoutingClient() as client:
            customer = await client.verify_token(latest)
    except RoutingError:
        logger.exception("could not verify the new customer token; keeping the session's identity")
        return []
    events = identity_events(customer)
    events.append(SlotSet("session_started_metadata", {**session_metadata, TOKEN_METADATA_KEY: latest}))
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
        if metadata is not None:
            events.append(SlotSet("session_started_metadata", metadata))
        events += identity_events(await self._verified_customer(tracker))
        events += [SlotSet("bot_failures", 0.0), SlotSet("human_requests", 0.0), SlotSet("verify_attempts", 0.0)]
        # only a conversation that was escalated before can have a live handoff: skip the look-up otherwise
        if any(tracker.get_slot(name) for name in HANDOFF_SLOTS):
            events += await reapply_handoff(tracker.sender_id)
        events.append(ActionExecuted("action_listen"))
        return events

    @staticmethod
    async def _verified_customer(tracker: Tracker) -> Customer | None:
        token = customer_token(tracker)
        if token is None:
            return None
        try:
            async with RoutingClient() as client:
                return await client.verify_token(token)
        except RoutingError:
            logger.exception("could not verify the customer token; continuing as an anonymous visitor")
            return None


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
            events.append(SlotSet("session_started_metadata", metadata))
            events += [SlotSet(name, tracker.get_slot(name)) for name in IDENTITY_SLOTS]
        say(dispatcher, "restarted")
        return events
