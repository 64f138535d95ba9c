"""The rule index finds exactly the rule keys that RulePolicy's own scan finds: on the trained model's rule tables,
for the states of every rule and for states changed from them (another intent, another previous action, none, a
text instead of an intent, a longer history), and on the corner cases of Rasa's check."""

from __future__ import annotations

import json
import random
import tarfile
from pathlib import Path
from typing import Any

import pytest
from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy

from bot_runtime import rule_index

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "concierge.tar.gz"
State = dict[str, Any]


def _policy(lookup: dict[str, Any]) -> RulePolicy:
    """A RulePolicy holding `lookup` (the two methods compared read nothing else of it)."""
    policy = RulePolicy.__new__(RulePolicy)
    policy.lookup = lookup
    return policy


@pytest.fixture(scope="module")
def model_lookup() -> dict[str, Any]:
    if not MODEL.exists():
        pytest.skip("no trained model (make train)")
    with tarfile.open(MODEL) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("rule_policy.json"))
        data = archive.extractfile(member)
        assert data is not None
        return dict(json.load(data)["lookup"])


def _variants(states: list[State], intents: list[str], actions: list[str], rng: random.Random) -> list[list[State]]:
    """The states of a rule as a conversation, and changed copies of them."""
    out = [states]
    last = states[-1] if states else {}
    for intent in rng.sample(intents, 3):
        out.append([*states[:-1], {**last, "user": {"intent": intent}}])
    for action in rng.sample(actions, 3):
        out.append([*states[:-1], {**last, "prev_action": {"action_name": action}}])
    out.append([*states[:-1], {k: v for k, v in last.items() if k != "prev_action"}])
    out.append([*states[:-1], {**last, "user": {"text": "hello there"}}])
    out.append([{"prev_action": {"action_name": "action_listen"}, "user": {"intent": rng.choice(intents)}}, *states])
    out.append(states[-1:])
    return out


def test_the_index_finds_the_keys_rasa_finds_on_the_models_rules(model_lookup: dict[str, Any]) -> None:
    rng = random.Random(27)
    for table in (RULES, RULES_FOR_LOOP_UNHAPPY_PATH):
        lookup = model_lookup[table]
        policy = _policy(model_lookup)
        all_states = [json.loads(key) for key in lookup]
        intents = sorted({s.get("user", {}).get("intent") for states in all_states for s in states} - {None})
        actions = sorted({s.get("prev_action", {}).get("action_name") for states in all_states for s in states}
                         - {None})
        checked = matched = 0
        for states in all_states:
            for variant in _variants(states, intents, actions, rng):
                expected = rule_index._RASA_POSSIBLE_KEYS(policy, lookup, variant)
                assert rule_index.possible_keys(policy, lookup, variant) == expected, variant
                checked += 1
                matched += bool(expected)
        assert checked == 11 * len(lookup) and matched > checked // 10  # many of the cases match some rule


CORNERS: dict[str, str] = {
    json.dumps([{}]): "a rule of one empty state",
    json.dumps([{"user": {"intent": "greet"}}]): "a conversation start with an intent",
    json.dumps([{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}]): "listen, greet",
    json.dumps([{"prev_action": {"action_name": "action_listen"}}]): "after listening, whatever the intent",
    json.dumps([{"prev_action": {"action_text": "hi"}, "user": {"intent": "greet"}}]): "an end-to-end action",
    json.dumps([{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "should_not_be_set"}}]): "-",
    json.dumps([{"prev_action": {"action_name": "should_not_be_set"}}]): "no previous action by name",
    json.dumps([{"prev_action": {"action_text": "should_not_be_set"}, "user": {"intent": "greet"}}]): "any action",
    json.dumps([{"prev_action": {"action_name": "utter_greet"}, "active_loop": {"name": "should_not_be_set"}},
                {"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}]): "two states",
    json.dumps([{"slots": {"tier": [1.0, 0.0]}, "prev_action": {"action_name": "action_listen"},
                 "user": {"intent": "greet"}}]): "a slot too",
}
STATES: list[list[State]] = [
    [],
    [{}],
    [{"user": {"intent": "greet"}}],
    [{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}],
    [{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "bye"}}],
    [{"prev_action": {"action_name": "action_listen"}, "user": {"text": "hi"}}],
    [{"prev_action": {"action_name": "action_listen"}}],
    [{"prev_action": {"action_text": "hi"}, "user": {"intent": "greet"}}],
    [{"prev_action": {}, "user": {"intent": "greet"}}],
    [{"prev_action": {"action_name": "utter_greet"}},
     {"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}],
    [{"prev_action": {"action_name": "utter_greet"}, "active_loop": {"name": "verify_order_form"}},
     {"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}],
    [{"slots": {"tier": (1.0, 0.0)}, "prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}],
]


@pytest.mark.parametrize("states", STATES)
def test_the_index_agrees_with_rasa_on_corner_cases(states: list[State]) -> None:
    policy = _policy({RULES: CORNERS})
    assert rule_index.possible_keys(policy, CORNERS, states) == rule_index._RASA_POSSIBLE_KEYS(policy, CORNERS, states)


def test_a_changed_table_gets_a_new_index() -> None:
    lookup = dict(CORNERS)
    policy = _policy({RULES: lookup})
    state = [{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "bye"}}]
    before = rule_index.possible_keys(policy, lookup, state)
    new_key = json.dumps([{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "bye"}}])
    lookup[new_key] = "utter_goodbye"  # training adds rules to a table as it goes
    assert rule_index.possible_keys(policy, lookup, state) == before | {new_key}


def test_install_makes_rule_policy_use_the_index() -> None:
    rule_index.install()
    rule_index.install()  # idempotent
    assert RulePolicy._get_possible_keys is rule_index.possible_keys
