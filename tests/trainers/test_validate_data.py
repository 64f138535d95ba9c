"""scripts/validate_data.py on deliberately broken copies of the project data (bot runtime)."""

from __future__ import annotations

import importlib.util
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("validate_data", ROOT / "scripts" / "validate_data.py")
assert _spec and _spec.loader
validate_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(validate_data)

Edit = Callable[[Path], None]


def _copy_project(tmp_path: Path) -> Path:
    """The files the validator reads, copied into tmp_path."""
    for name in ("config.yml", "domain.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "data", tmp_path / "data")
    (tmp_path / "routing" / "policy").mkdir(parents=True)
    shutil.copy(ROOT / "routing" / "policy.yml", tmp_path / "routing" / "policy.yml")
    shutil.copy(ROOT / "routing" / "policy" / "intents.py", tmp_path / "routing" / "policy" / "intents.py")
    (tmp_path / "actions").mkdir()
    shutil.copy(ROOT / "actions" / "messages.py", tmp_path / "actions" / "messages.py")
    (tmp_path / "tests" / "nlu").mkdir(parents=True)  # data/nlu/phrasings.yml leaves the challenge set's lines out
    shutil.copy(ROOT / "tests" / "nlu" / "challenge.csv", tmp_path / "tests" / "nlu" / "challenge.csv")
    return tmp_path


def _edit_yaml(path: Path, change: Callable[[dict], None]) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def _add_intent(root: Path, intent: str) -> None:
    _edit_yaml(root / "domain.yml", lambda d: d["intents"].append(intent))


def _run(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = validate_data.main(["--root", str(root)])
    out = capsys.readouterr()
    return code, out.out + out.err, [str(w.message) for w in caught]


def test_the_project_data_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output, _ = _run(_copy_project(tmp_path), capsys)
    assert code == 0, output
    assert "validate: data is valid" in output


def _intent_without_examples(root: Path) -> None:
    _add_intent(root, "ask_gift_wrap")
    _append(root / "data" / "rules" / "basics.yml",
            "  - rule: gift wrap\n    steps:\n      - intent: ask_gift_wrap\n      - action: utter_how_can_i_help\n")


def _intent_without_story(root: Path) -> None:
    _add_intent(root, "ask_gift_wrap")
    _append(root / "data" / "nlu" / "basics.yml",
            "  - intent: ask_gift_wrap\n    examples: |\n      - can you gift wrap it\n      - gift wrapping please\n")


def _sensitive_intent_without_route(root: Path) -> None:
    _edit_yaml(root / "routing" / "policy.yml",
               lambda p: p["rules"]["silver"]["sensitive_intents"].append("change_order"))


def _always_escalate_without_route(root: Path) -> None:
    _edit_yaml(root / "routing" / "policy.yml",
               lambda p: p["fairness"]["always_escalate_intents"].append("review"))


def _tier_without_rules(root: Path) -> None:
    _edit_yaml(root / "routing" / "policy.yml", lambda p: p["rules"].pop("bronze"))


def _unknown_queue(root: Path) -> None:
    _edit_yaml(root / "routing" / "policy.yml", lambda p: p["rules"]["gold"].update(queue="nowhere"))


def _unknown_tier_in_queue(root: Path) -> None:
    _edit_yaml(root / "routing" / "policy.yml", lambda p: p["queues"][0]["tiers"].append("diamond"))


def _intent_missing_everywhere(root: Path) -> None:
    _edit_yaml(root / "routing" / "policy.yml",
               lambda p: p["rules"]["gold"]["sensitive_intents"].append("teleport_parcel"))


def _intent_unknown_to_routing(root: Path) -> None:
    _intent_without_story(root)
    _append(root / "data" / "rules" / "routing.yml",
            "  - rule: gift wrap is routed\n    steps:\n      - intent: ask_gift_wrap\n      - action: action_route\n")
    _edit_yaml(root / "routing" / "policy.yml",
               lambda p: p["rules"]["platinum"]["sensitive_intents"].append("ask_gift_wrap"))


def _intent_renamed_in_the_domain_only(root: Path) -> None:
    domain = root / "domain.yml"
    domain.write_text(domain.read_text().replace("  - track_refund\n", "  - follow_refund\n"))
    for path in (root / "data").rglob("*.yml"):
        path.write_text(path.read_text().replace("track_refund", "follow_refund"))


@pytest.mark.parametrize(("breakage", "message"), [
    (_intent_renamed_in_the_domain_only, "validate: routing/policy/intents.py: domain.yml's intent 'follow_refund' "
                                         "is missing"),
    (_intent_renamed_in_the_domain_only, "validate: actions/messages.py: INTENT_TITLES names 'track_refund', which "
                                         "is not in domain.yml"),
    (_intent_without_examples, "validate: intent 'ask_gift_wrap' has no NLU examples"),
    (_intent_without_story, "validate: intent 'ask_gift_wrap' is not used by any story or rule"),
    (_sensitive_intent_without_route, "validate: intent 'change_order' (rules.silver.sensitive_intents in "
                                      "routing/policy.yml) has no rule leading to action_route"),
    (_always_escalate_without_route, "validate: intent 'review' (fairness.always_escalate_intents in "
                                     "routing/policy.yml) has no rule leading to action_route"),
    (_tier_without_rules, "validate: routing/policy.yml: tier 'bronze' has no entry under rules"),
    (_unknown_queue, "validate: routing/policy.yml: rules.gold.queue: unknown queue 'nowhere'"),
    (_unknown_tier_in_queue, "validate: routing/policy.yml: queues.vip.tiers: unknown tier 'diamond'"),
    (_intent_missing_everywhere, "validate: routing/policy.yml: rules.gold.sensitive_intents: intent "
                                 "'teleport_parcel' is not in domain.yml"),
    (_intent_unknown_to_routing, "validate: routing/policy.yml: rules.platinum.sensitive_intents: intent "
                                 "'ask_gift_wrap' is unknown to the routing service"),
], ids=lambda v: v.__name__.strip("_") if callable(v) else "")
def test_each_project_problem_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str], breakage: Edit,
                                          message: str) -> None:
    root = _copy_project(tmp_path)
    breakage(root)
    code, output, _ = _run(root, capsys)
    assert code == 1
    assert message in output, output
    assert "validate: the data has problems" in output


def test_an_unused_response_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Rasa 3.6 only warns about it (even with --fail-on-warnings): the project check makes it fail."""
    root = _copy_project(tmp_path)
    _edit_yaml(root / "domain.yml", lambda d: d["responses"].update(utter_never_said=[{"text": "unused"}]))
    code, output, rasa_warnings = _run(root, capsys)
    assert code == 1
    assert "validate: response 'utter_never_said' is not used by any story or rule" in output
    assert any("utter_never_said" in w for w in rasa_warnings), rasa_warnings


def test_an_action_missing_from_the_domain_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _copy_project(tmp_path)
    _append(root / "data" / "rules" / "basics.yml",
            "  - rule: typo\n    steps:\n      - intent: greet\n      - action: utter_gret\n")
    code, output, _ = _run(root, capsys)
    assert code == 1
    assert "validate: action 'utter_gret' is used in a story or rule but is not in domain.yml" in output
