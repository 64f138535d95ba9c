"""An honest answer when a custom action cannot run (the action server is down, restarting, or failed).

Rasa 3.6 logs the failure, drops the action's events and goes on, so the customer got no answer at all to that
message (measured: `kill -9` of the action server, the next question got an empty reply), and a form whose
validation failed stayed active with its state lost: the next turns went to the fallback and ended in a handoff.
`install()` makes a failed custom action say so in one sentence instead (once per turn) and end the active form, so
that the customer's next try starts clean; Rasa's error log stays. A rejection by the action server (a form
refusing a slot, HTTP 400) is not a failure and goes on as before.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.shared.core.constants import REQUESTED_SLOT
from rasa.shared.core.events import ActiveLoop, BotUttered, Event, SlotSet, UserUttered

from bot_runtime.texts import MESSAGES

log = logging.getLogger(__name__)

ACTION_FAILED = MESSAGES["action_failed"]
_Run = Callable[..., Awaitable[list[Event]]]
_installed: list[_Run] = []


def said_this_turn(tracker: Any, text: str) -> bool:
    """Whether the bot already said `text` since the customer's last message."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, BotUttered) and event.text == text:
            return True
    return False


def failure_events(tracker: Any) -> list[Event]:
    """What a failed custom action returns: the sentence (unless said this turn), and the end of an active form."""
    events: list[Event] = []
    if not said_this_turn(tracker, ACTION_FAILED):
        events.append(BotUttered(text=ACTION_FAILED, data={}, metadata={}))
    if tracker.active_loop_name:
        events += [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
    return events


def install() -> None:
    """Answer a failed custom action with ACTION_FAILED and end the active form (idempotent)."""
    if _installed:
        return
    original: _Run = RemoteAction.run
    _installed.append(original)

    async def run(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> list[Event]:
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except Exception:
            log.exception("Custom action '%s' failed; the customer is told so.", self.name())
            return failure_events(tracker)

    RemoteAction.run = run
