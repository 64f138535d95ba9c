"""Validate the bot data: `rasa data validate --fail-on-warnings` (one deliberate exception) plus Concierge's checks.

Rasa's checks include: domain validity, actions/forms/slots used consistently, duplicated examples, story/rule
conflicts. The exception: intents named EXTERNAL_* are sent by the routing
service and by reminders, never typed by customers, so they have no NLU examples on purpose.

Concierge's checks (each problem is one line "validate: <problem>"):
- every intent (except EXTERNAL_*) has NLU examples, and every intent is used by at least one story or rule;
- every action of a story or rule is in domain.yml, and every response is used by a story or rule;
- every escalation-relevant intent (routing/policy.yml rules.*.sensitive_intents, fairness.always_escalate_intents,
  and contact_human_agent) is followed by action_route in a rule: the routing service then decides per tier;
- the policy file has rules for every tier, its rules use queues it defines, and its queues serve known tiers;
- every intent the policy names exists in the domain and in the routing service's list (routing/policy/intents.py);
- domain.yml is the one list of intents: the routing service's list holds exactly its customer intents, and the
  fallback's button titles (INTENT_TITLES) name only its intents;
- data/rules/digressions.yml matches the other rules (scripts/digressions.py), and the address form takes no
  question as an address;
- data/nlu/phrasings.yml matches its grammar data/grammar.yml (scripts/phrasings.py).

Run with the bot runtime: `.venv/bot/bin/python scripts/validate_data.py [--root DIR]`; exits 1 on any problem.
"""

from __future__ import annotations

import argparse
import runpy
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from rasa.cli.utils import _validate_domain, _validate_nlu, _validate_story_structure
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.training_data.structures import RuleStep, StoryStep
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.validator import Validator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import digressions  # noqa: E402  (scripts/digressions.py: the generated interruption rules are up to date)
import phrasings  # noqa: E402  (scripts/phrasings.py: the generated NLU examples are up to date)

EXTERNAL_PREFIX = "EXTERNAL_"
ROUTE_ACTION = "action_route"
HUMAN_REQUEST_INTENT = "contact_human_agent"
RASA_DEFAULT_INTENTS = {"nlu_fallback", "restart", "back", "session_start", "out_of_scope"}


class ConciergeValidator(Validator):
    """Rasa's validator, except that EXTERNAL_* intents need no NLU examples."""

    def _non_default_intents(self) -> list[str]:
        return [i for i in super()._non_default_intents() if not i.startswith(EXTERNAL_PREFIX)]


def _user_intents(domain: Domain) -> list[str]:
    """The domain's own intents (Rasa's default intents left out unless the domain lists them with examples)."""
    return [i for i in domain.intents if i not in RASA_DEFAULT_INTENTS or i == "out_of_scope"]


def check_intents(domain: Domain, nlu_intents: set[str], steps: Iterable[StoryStep]) -> list[str]:
    """Every intent has NLU examples (EXTERNAL_* exempt) and appears in at least one story or rule."""
    used = {e.intent_name for step in steps for e in step.events if isinstance(e, UserUttered) and e.intent_name}
    problems = []
    for intent in _user_intents(domain):
        if not intent.startswith(EXTERNAL_PREFIX) and intent not in nlu_intents:
            problems.append(f"intent '{intent}' has no NLU examples (add some under data/nlu/)")
        if intent not in used:
            problems.append(f"intent '{intent}' is not used by any story or rule (add one under data/)")
    return problems


def check_actions(domain: Domain, steps: Iterable[StoryStep]) -> list[str]:
    """Every action of a story or rule is in domain.yml, and every response is used by a story or rule.

    Rasa 3.6 misses both: its importer adds the stories' actions to the domain, and it only warns about unused
    responses, even with --fail-on-warnings.
    """
    used = {e.action_name for step in steps for e in step.events if isinstance(e, ActionExecuted) and e.action_name}
    known = set(domain.action_names_or_texts)
    problems = [f"action '{name}' is used in a story or rule but is not in domain.yml (a typo, or add it)"
                for name in sorted(used - known)]
    return problems + [f"response '{name}' is not used by any story or rule (use it, or delete it from domain.yml)"
                       for name in domain.responses if name.startswith("utter_") and name not in used]


def routed_intents(steps: Iterable[StoryStep]) -> set[str]:
    """Intents that a rule answers with action_route (anywhere before the next customer turn)."""
    routed = set()
    for step in steps:
        if not isinstance(step, RuleStep):
            continue
        current = None
        for event in step.events:
            if isinstance(event, UserUttered):
                current = event.intent_name
            elif isinstance(event, ActionExecuted) and event.action_name == ROUTE_ACTION and current:
                routed.add(current)
    return routed


def escalation_intents(policy: dict[str, Any]) -> dict[str, str]:
    """Escalation-relevant intents -> where the policy names them first."""
    found: dict[str, str] = {HUMAN_REQUEST_INTENT: "the human-request intent"}
    for tier, rules in (policy.get("rules") or {}).items():
        for intent in (rules or {}).get("sensitive_intents") or []:
            found.setdefault(intent, f"rules.{tier}.sensitive_intents")
    for intent in (policy.get("fairness") or {}).get("always_escalate_intents") or []:
        found.setdefault(intent, "fairness.always_escalate_intents")
    return found


def check_escalation_rules(policy: dict[str, Any], steps: Iterable[StoryStep]) -> list[str]:
    """Each escalation-relevant intent is followed by action_route in a rule."""
    routed = routed_intents(steps)
    return [f"intent '{intent}' ({source} in routing/policy.yml) has no rule leading to {ROUTE_ACTION} "
            f"(add a rule to data/rules/routing.yml: intent: {intent} -> action: {ROUTE_ACTION})"
            for intent, source in escalation_intents(policy).items() if intent not in routed]


def routing_known_intents(root: Path) -> set[str]:
    """The intents the routing service accepts in its policy (KNOWN_INTENTS of routing/policy/intents.py)."""
    return set(runpy.run_path(str(root / "routing" / "policy" / "intents.py"))["KNOWN_INTENTS"])


def check_policy(policy: dict[str, Any], domain_intents: set[str], routing_intents: set[str]) -> list[str]:
    """Tiers, queues and intents of the policy file agree with each other, the domain and the routing service."""
    problems = []
    tiers = [t.get("name") for t in policy.get("tiers") or []]
    queues = {q.get("name"): q for q in policy.get("queues") or []}
    rules = policy.get("rules") or {}
    for tier in tiers:
        if tier not in rules:
            problems.append(f"routing/policy.yml: tier '{tier}' has no entry under rules")
    for tier, tier_rules in rules.items():
        if tier not in tiers:
            problems.append(f"routing/policy.yml: rules.{tier}: unknown tier '{tier}' (tiers: {', '.join(tiers)})")
        queue = (tier_rules or {}).get("queue")
        if queue not in queues:
            problems.append(f"routing/policy.yml: rules.{tier}.queue: unknown queue '{queue}' "
                            f"(queues: {', '.join(queues)})")
    for name, queue in queues.items():
        for tier in queue.get("tiers") or []:
            if tier not in tiers:
                problems.append(f"routing/policy.yml: queues.{name}.tiers: unknown tier '{tier}'")
    named = [(f"rules.{tier}.sensitive_intents", i) for tier, r in rules.items()
             for i in (r or {}).get("sensitive_intents") or []]
    named += [("fairness.always_escalate_intents", i)
              for i in (policy.get("fairness") or {}).get("always_escalate_intents") or []]
    for where, intent in named:
        if intent not in domain_intents:
            problems.append(f"routing/policy.yml: {where}: intent '{intent}' is not in domain.yml")
        if intent not in routing_intents:
            problems.append(f"routing/policy.yml: {where}: intent '{intent}' is unknown to the routing service "
                            "(routing/policy/intents.py)")
    return problems


def check_intent_names(domain_intents: set[str], routing_intents: set[str], titles: set[str]) -> list[str]:
    """domain.yml is the one list of intents: the routing service's list (routing/policy/intents.py) holds exactly
    the customer's intents of the domain, and the fallback's button titles (INTENT_TITLES of actions/messages.py)
    name only intents of the domain."""
    customer_intents = {i for i in domain_intents if not i.startswith(EXTERNAL_PREFIX)} - (RASA_DEFAULT_INTENTS - {
        "nlu_fallback", "restart", "out_of_scope"})
    problems = [f"routing/policy/intents.py: intent '{i}' is not in domain.yml"
                for i in sorted(routing_intents - customer_intents)]
    problems += [f"routing/policy/intents.py: domain.yml's intent '{i}' is missing"
                 for i in sorted(customer_intents - routing_intents)]
    problems += [f"actions/messages.py: INTENT_TITLES names '{i}', which is not in domain.yml"
                 for i in sorted(titles - domain_intents)]
    return problems


def intent_titles(root: Path) -> set[str]:
    """The intents the fallback offers as buttons (INTENT_TITLES of actions/messages.py)."""
    return set(runpy.run_path(str(root / "actions" / "messages.py"))["INTENT_TITLES"])


def project_problems(root: Path, importer: TrainingDataImporter) -> list[str]:
    """All of Concierge's own checks."""
    domain = Domain.load(str(root / "domain.yml"))  # the file as written (the importer's domain has additions)
    steps = importer.get_stories().story_steps
    # the importer adds the stories' intents to the NLU data without text: only examples with text count
    nlu_intents = {m.get("intent") for m in importer.get_nlu_data().training_examples if m.get("text")}
    policy = yaml.safe_load((root / "routing" / "policy.yml").read_text(encoding="utf-8")) or {}
    return (check_intents(domain, nlu_intents, steps) + check_actions(domain, steps)
            + check_escalation_rules(policy, steps)
            + check_policy(policy, set(domain.intents), routing_known_intents(root))
            + check_intent_names(set(domain.intents), routing_known_intents(root), intent_titles(root))
            + digressions.problems(root) + phrasings.problems(root))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="project folder with config.yml, domain.yml, data/ and routing/policy.yml")
    root = parser.parse_args(argv).root.resolve()
    importer = TrainingDataImporter.load_from_config(
        str(root / "config.yml"), str(root / "domain.yml"), [str(root / "data")]
    )
    validator = ConciergeValidator.from_importer(importer)
    # the same checks as `rasa data validate --fail-on-warnings` (each prints its own warnings)
    rasa_ok = all([_validate_domain(validator), _validate_nlu(validator, False),
                   _validate_story_structure(validator, None, False)])
    problems = project_problems(root, importer)
    for problem in problems:
        print(f"validate: {problem}", file=sys.stderr)
    if rasa_ok and not problems:
        print("validate: data is valid")
        return 0
    summary = f"{len(problems)} project problem(s)" + ("" if rasa_ok else " and Rasa warnings (see above)")
    print(f"validate: the data has problems: {summary}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
