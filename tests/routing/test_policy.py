"""Policy file validation and the pure decision function, per tier and per rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.decisions.rules import DecisionInput, decide
from routing.policy.definition import Policy
from routing.policy.loader import PolicyError, parse_policy

pytestmark = pytest.mark.clock  # about hours, SLAs, expiry or dates: CI runs it at other instants too

POLICY_TEXT = (Path(__file__).resolve().parents[2] / "routing" / "policy.yml").read_text()


@pytest.mark.parametrize(("old", "new", "message"), [
    ("queue: priority", "queue: nowhere", "rules.silver.queue: unknown queue 'nowhere'"),
    ("tiers: [silver]", "tiers: [silverr]", "queues.priority.tiers: unknown tier 'silverr'"),
    ("sensitive_intents: [complaint]\n", "sensitive_intents: [complaint, refund_now]\n",
     "rules.bronze.sensitive_intents: unknown intent 'refund_now'"),
    ("anonymous_tier: bronze", "anonymous_tier: guest", "anonymous_tier: unknown tier 'guest'"),
    ("max_bot_failures: 1\n", "max_bot_failures: 5\n", "rules.platinum.max_bot_failures: 5 exceeds the fairness"),
    ("out_of_hours: callback", "out_of_hours: pigeon", "queues.0.out_of_hours"),
    ("timezone: America/New_York, days: [mon, tue, wed, thu, fri, sat, sun]",
     "timezone: Mars/Olympus, days: [mon, tue, wed, thu, fri, sat, sun]", "unknown timezone 'Mars/Olympus'"),
])
def test_invalid_policy_names_the_problem(old: str, new: str, message: str) -> None:
    assert old in POLICY_TEXT
    with pytest.raises(PolicyError) as err:
        parse_policy(POLICY_TEXT.replace(old, new, 1), "policy.yml")
    assert message in str(err.value)


def test_several_problems_are_listed_together() -> None:
    text = POLICY_TEXT.replace("queue: priority", "queue: nowhere").replace("tiers: [silver]", "tiers: [x]")
    with pytest.raises(PolicyError) as err:
        parse_policy(text)
    assert "unknown queue 'nowhere'" in str(err.value) and "unknown tier 'x'" in str(err.value)


def test_missing_rules_for_a_tier_and_not_yaml() -> None:
    with pytest.raises(PolicyError, match="missing rules for tier 'bronze'"):
        parse_policy(POLICY_TEXT.replace("  bronze:\n    queue: general", "  bronzeish:\n    queue: general"))
    with pytest.raises(PolicyError, match="not valid YAML"):
        parse_policy("tiers: [unclosed")


def run(policy: Policy, tier: str, intent: str = "track_order", failures: int = 0, requests: int = 0,
        verified: bool = True):
    return decide(policy, DecisionInput(tier, intent, failures, requests, verified))


@pytest.mark.parametrize("tier", ["platinum", "gold", "silver", "bronze"])
def test_plain_question_is_self_service(policy: Policy, tier: str) -> None:
    d = run(policy, tier)
    assert (d.decision, d.rule, d.queue, d.tier) == ("self_service", "self_service", None, tier)
    assert d.offer_human is policy.rules[tier].proactive_offer


@pytest.mark.parametrize(("tier", "queue", "sla"), [("platinum", "vip", 60), ("gold", "vip", 180),
                                                    ("silver", "priority", 900), ("bronze", "general", 3600)])
def test_complaint_reaches_a_human_in_every_tier(policy: Policy, tier: str, queue: str, sla: int) -> None:
    d = run(policy, tier, "complaint")
    assert (d.decision, d.queue, d.sla_seconds, d.priority) == ("escalate", queue, sla,
                                                                 policy.rules[tier].base_priority)
    assert d.rule in ("tier.sensitive_intent", "fairness.always_escalate_intent")


def test_sensitive_intents_differ_per_tier(policy: Policy) -> None:
    assert run(policy, "platinum", "get_refund").rule == "tier.sensitive_intent"
    assert run(policy, "gold", "payment_issue").rule == "tier.sensitive_intent"
    assert run(policy, "bronze", "get_refund").decision == "self_service"


def test_fairness_rule_fires_when_the_tier_does_not_list_complaint(policy: Policy) -> None:
    rules = {**policy.rules, "bronze": policy.rules["bronze"].model_copy(update={"sensitive_intents": []})}
    d = run(policy.model_copy(update={"rules": rules}), "bronze", "complaint")
    assert (d.decision, d.rule) == ("escalate", "fairness.always_escalate_intent")


def test_human_on_request(policy: Policy) -> None:
    assert run(policy, "platinum", "contact_human_agent", requests=1).rule == "tier.human_on_first_request"
    assert run(policy, "gold", "contact_human_agent", requests=1).decision == "escalate"
    first = run(policy, "bronze", "contact_human_agent", requests=1)
    assert (first.decision, first.rule, first.offer_human) == ("self_service", "self_service.first_human_request",
                                                               True)
    again = run(policy, "bronze", "contact_human_agent", requests=2)
    assert (again.decision, again.rule, again.queue) == ("escalate", "fairness.repeated_human_request", "general")


@pytest.mark.parametrize(("tier", "limit"), [("platinum", 1), ("gold", 2), ("silver", 3), ("bronze", 3)])
def test_bot_failures_threshold_per_tier(policy: Policy, tier: str, limit: int) -> None:
    assert run(policy, tier, "nlu_fallback", failures=limit - 1).decision == "self_service"
    d = run(policy, tier, "nlu_fallback", failures=limit)
    assert (d.decision, d.rule) == ("escalate", "tier.bot_failures")
    assert str(limit) in d.reason


def test_anonymous_visitor_is_routed_as_the_anonymous_tier(policy: Policy) -> None:
    d = run(policy, "unknown", "complaint", verified=False)
    assert (d.tier, d.queue) == ("bronze", "general") and "unverified visitor" in d.reason


def test_business_hours(policy: Policy) -> None:
    from datetime import datetime, timezone

    hours = policy.queue("general").business_hours
    assert hours.is_open(datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc))  # Monday 10:00 New York
    assert not hours.is_open(datetime(2026, 11, 23, 23, 0, tzinfo=timezone.utc))  # Monday 18:00
    assert not hours.is_open(datetime(2026, 11, 22, 15, 0, tzinfo=timezone.utc))  # Sunday
