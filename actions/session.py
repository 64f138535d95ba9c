"""The session's start and a restart: the identity and handoff a conversation carries into its next session.

A session starts with the customer's shop token checked (actions/identity.py), a live handoff restored from the
routing service (a handoff outlives sessions), and kept work planned again (actions/kept_work.py).
"""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, Restarted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import kept_work
from actions.handoff import reapply_handoff
from actions.identity import (
    HANDOFF_SLOTS,
    IDENTITY_SLOTS,
    SESSION_SLOTS,
    customer_token,
    digest_of,
    identity_events,
    stored_token,
    usable_token,
    verified_sign_in,
)
from actions.messages import say
from actions.routing_client import RoutingError
from bot_runtime.token_digest import TOKEN_METADATA_KEY

logger = logging.getLogger(__name__)


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
            latest = usable_token(tracker.latest_message.get("metadata"))
            if latest is not None and digest_of(latest) == digest_of(stored_token(metadata)):
                # the session that follows checks the token itself (the slot holds its digest once stored)
                metadata = {**metadata, TOKEN_METADATA_KEY: latest}
            events.append(SlotSet("session_started_metadata", metadata))
            events += [SlotSet(name, tracker.get_slot(name)) for name in IDENTITY_SLOTS]
        say(dispatcher, "restarted")
        return events
