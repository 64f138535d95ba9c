"""RulePolicy looks at the rules that can match the current state, not at every rule.

For each prediction Rasa 3.6's RulePolicy (`_get_possible_keys`) checks every memorised rule against the current
state, then the survivors against the states before it: with the digression rules the model has 532 rules (and 85
for the forms' unhappy paths), and that scan was 2.8 ms of the Rasa process's 20 ms of CPU per message (make
bench-profile). Most rules can only match after one action and one intent, so `install()` indexes each rule table
once by what the rule's last state requires (the previous action's name, and the intent when there is one), and
checks only the rules of the current state's index entries plus the rules that require neither, with Rasa's own
`_is_rule_applicable` on every turn: the same keys come out. The index is kept with the table it was made from and
made again for another table or a table whose size changed (a loaded model's tables do not change; training removes
rules from its table as it goes: each removal changes the size), and a key no longer in the table is never returned.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET, USER
from rasa.shared.nlu.constants import ACTION_NAME, INTENT_NAME_KEY

State = dict[str, Any]
_RASA_POSSIBLE_KEYS: Callable[..., set[str]] = RulePolicy._get_possible_keys
_installed: list[bool] = []


def _required(sub_state: Any, key: str) -> str | None:
    """The value a rule state requires for `key` of a sub-state (None when it requires none, or requires absence)."""
    value = sub_state.get(key) if isinstance(sub_state, dict) else None
    return value if isinstance(value, str) and value and value != SHOULD_NOT_BE_SET else None


class RuleIndex:
    """A rule table's keys by the previous action and intent their last state requires."""

    def __init__(self, lookup: dict[str, Any]) -> None:
        self.lookup = lookup  # kept: the index is valid for this very table
        self.size = len(lookup)
        self.anywhere: list[str] = []  # rules whose last state requires no previous action by name
        self.after: dict[str, list[str]] = {}  # previous action -> rules that require no intent
        self.after_intent: dict[tuple[str, str], list[str]] = {}  # (previous action, intent) -> rules
        for key in lookup:
            states = json.loads(key)
            last: State = states[-1] if states else {}
            action = _required(last.get(PREVIOUS_ACTION), ACTION_NAME)
            intent = _required(last.get(USER), INTENT_NAME_KEY)
            if action is None:
                self.anywhere.append(key)
            elif intent is None:
                self.after.setdefault(action, []).append(key)
            else:
                self.after_intent.setdefault((action, intent), []).append(key)

    def valid_for(self, lookup: dict[str, Any]) -> bool:
        return lookup is self.lookup and len(lookup) == self.size

    def candidates(self, state: State) -> list[str]:
        """Every key that can apply to `state` as the current state (Rasa's check decides which do).

        A rule whose last state names a previous action applies only after that action (`_is_rule_applicable`:
        a state without one fails, else `_does_rule_match_state` compares the names), and with an intent only
        after that intent; the other rules are always candidates."""
        previous = state.get(PREVIOUS_ACTION)
        action = previous.get(ACTION_NAME) if isinstance(previous, dict) and previous else None
        if not isinstance(action, str) or not action:
            return self.anywhere
        user = state.get(USER)
        intent = user.get(INTENT_NAME_KEY) if isinstance(user, dict) else None
        return [*self.anywhere, *self.after.get(action, ()),
                *(self.after_intent.get((action, intent), ()) if isinstance(intent, str) else ())]


def possible_keys(policy: RulePolicy, lookup: dict[str, Any], states: list[State]) -> set[str]:
    """`RulePolicy._get_possible_keys` through the table's index: the rule keys applicable at every turn."""
    if not states:
        return set(lookup)
    indexes: dict[int, RuleIndex] = policy.__dict__.setdefault("_concierge_rule_indexes", {})
    index = indexes.get(id(lookup))
    if index is None or not index.valid_for(lookup):
        index = indexes[id(lookup)] = RuleIndex(lookup)
    reversed_states = list(reversed(states))
    keys = [key for key in index.candidates(reversed_states[0])
            if key in lookup and policy._is_rule_applicable(key, 0, reversed_states[0])]
    for turn, state in enumerate(reversed_states[1:], start=1):
        keys = [key for key in keys if policy._is_rule_applicable(key, turn, state)]
    return set(keys)


def install() -> None:
    """Make RulePolicy find applicable rules through the index (idempotent)."""
    if _installed:
        return
    _installed.append(True)
    RulePolicy._get_possible_keys = possible_keys
