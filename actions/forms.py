"""Base class for the bot's form validations: per-slot validators plus one hook once every slot is valid, and the
customer's answer as typed when no slot mapping could read it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction
from rasa_sdk.types import DomainDict


def typed_answer(tracker: Tracker, slot: str) -> str | None:
    """The customer's latest message as typed, when the form asked for `slot` and the slot mappings read no value from
    it this turn (for any slot of the form); None otherwise.

    An `extract_<slot>` method reads it: a value the mappings could not read ("order 42" for an order number) would
    otherwise make the form reject the message, and the bot would answer it out of context (the fallback's "Did you
    mean ...?"). Given to the slot's validator, it gets that slot's own correction and the question again.
    """
    if tracker.get_slot(REQUESTED_SLOT) != slot or tracker.slots_to_validate():
        return None
    text = str(tracker.latest_message.get("text") or "").strip()
    return text or None


class CompletingFormValidation(FormValidationAction, ABC):
    """Runs `validate_<slot>` methods, then `complete` once all of the form's slots hold valid values.

    `complete` may return slot values, e.g. clear the form's slots to ask again after a failed check.
    """

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = await super().get_validation_events(dispatcher, tracker, domain)
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        if not required or any(tracker.get_slot(name) is None for name in required):
            return events
        values = {event["name"]: event["value"] for event in events if event.get("event") == "slot"}
        values.update(await self.complete(dispatcher, tracker, domain))
        return [SlotSet(name, value) for name, value in values.items()]

    @abstractmethod
    async def complete(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Act on the complete, valid form (tracker.slots holds the validated values); return slot updates."""
