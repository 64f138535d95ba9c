"""Every Rasa internal that Concierge replaces, in one registry: what each patch replaces, why, and in which order.

Rasa 3.6 has no extension points for what these do, so `bot_runtime` replaces its functions (some private). That is
only safe on the Rasa version the patches were checked against: `install_all()` refuses to start on any other (a
clear message instead of a patch silently missing its target), and installs every patch in the order below, the
same in every process. Two targets are wrapped twice, so the order matters:
- `MessageProcessor.handle_message`: `message_limit` first, then `resend_once` outside it (a resent over-long
  message is answered once, from the tracker, before its length is looked at);
- `rasa.core.run.configure_app`: `channel_guard` first, then `chat_origins` outside it (the origins are set before
  Rasa builds the app, the body check is added to the app Rasa built).
`in_effect(patch)` tells whether a patch is part of what its targets run now (tests/bot_runtime/test_patches.py).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FunctionType, ModuleType
from typing import Any

import rasa

from bot_runtime import (
    action_outage,
    action_validation,
    channel_guard,
    chat_origins,
    event_lookup,
    message_limit,
    relay_once,
    resend_once,
    rule_index,
    store_failures,
    token_redaction,
)

CHECKED_RASA_VERSIONS = ("3.6.21",)


@dataclass(frozen=True)
class Patch:
    """One replaced Rasa internal: the module that replaces it, the dotted targets, and why."""

    module: ModuleType
    targets: tuple[str, ...]
    why: str

    @property
    def name(self) -> str:
        return self.module.__name__.rsplit(".", 1)[-1]

    def install(self) -> None:
        install: Callable[[], None] = self.module.install
        install()


PATCHES: tuple[Patch, ...] = (
    Patch(action_validation, ("rasa.core.actions.action.RemoteAction._validate_action_result",),
          "validators built once: Rasa re-checked its constant schema on every action call (19 ms of CPU)"),
    Patch(action_outage, ("rasa.core.actions.action.RemoteAction.run",),
          "a custom action that cannot run gets an honest sentence and ends its form, instead of silence"),
    Patch(event_lookup, ("rasa.shared.core.events.Event.resolve_by_type",),
          "event classes from a table instead of a walk over every Event subclass (5 % of the server's CPU)"),
    Patch(message_limit, ("rasa.core.processor.MessageProcessor.handle_message",),
          "over-long messages are answered without NLU (a 100,000-character message took a minute)"),
    Patch(resend_once, ("rasa.core.processor.MessageProcessor.handle_message",),
          "a message resent with the same metadata.message_id is handled once"),
    Patch(channel_guard, ("rasa.core.run.configure_app",),
          "the REST channel refuses malformed bodies and metadata with 400 instead of failing inside Rasa"),
    Patch(chat_origins, ("rasa.core.run.configure_app",),
          "Rasa's CORS origins come from CONCIERGE_CHAT_ORIGINS, and socket.io answers CORS for its own path"),
    Patch(relay_once, ("rasa.server.update_conversation_with_events",
                       "rasa.core.processor.MessageProcessor.trigger_external_user_uttered"),
          "what the routing service relays (an agent's message, the end of a handoff) is applied once"),
    Patch(token_redaction, ("rasa.core.tracker_store.SQLTrackerStore._additional_events",),
          "customer tokens are stored as their digest, never as working credentials"),
    Patch(store_failures, ("rasa.core.tracker_store.SQLTrackerStore.session_scope",),
          "a failing save fails that turn only; Rasa exited the process on any ValueError"),
    Patch(rule_index, ("rasa.core.policies.rule_policy.RulePolicy._get_possible_keys",),
          "RulePolicy checks the rules that can match the current state, not all 660 (2.8 of 20 ms a message)"),
)


def check_rasa_version(version: str | None = None) -> None:
    """Refuse to go on with a Rasa the patches were not checked against (SystemExit with what to do)."""
    version = version or rasa.__version__
    if version not in CHECKED_RASA_VERSIONS:
        raise SystemExit(f"bot_runtime replaces Rasa internals checked against Rasa {', '.join(CHECKED_RASA_VERSIONS)}"
                         f" only, and this is Rasa {version}: install the version of requirements/bot.lock, or check "
                         "each patch of bot_runtime/patches.py against this version and add it to "
                         "CHECKED_RASA_VERSIONS")


def install_all() -> None:
    """Check the Rasa version, then install every patch in the registry's order (idempotent)."""
    check_rasa_version()
    for patch in PATCHES:
        patch.install()


def resolve(target: str) -> Any:
    """The object a dotted target names now (module path, then attributes)."""
    parts = target.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    raise ValueError(f"cannot resolve {target}")


def _functions_behind(function: Any, seen: set[int]) -> Iterator[FunctionType]:
    """`function` and every function it wraps (through `__wrapped__` or the closure of a wrapper)."""
    function = getattr(function, "__func__", function)
    if not isinstance(function, FunctionType) or id(function) in seen:
        return
    seen.add(id(function))
    yield function
    yield from _functions_behind(getattr(function, "__wrapped__", None), seen)
    for cell in function.__closure__ or ():
        try:
            contents = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        yield from _functions_behind(contents, seen)


def in_effect(patch: Patch) -> bool:
    """Whether every target of `patch` runs the patch's code now (as the target itself, or wrapped in it)."""
    return all(any(f.__module__ == patch.module.__name__ for f in _functions_behind(resolve(target), set()))
               for target in patch.targets)
