"""Base class for the bot's form validations: per-slot validators plus one hook once every slot is valid."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict


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
