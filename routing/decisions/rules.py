"""The pure routing decision: (tier, intent, failures, human requests) -> self-service or escalate, with the rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from routing.policy.definition import Policy


@dataclass(frozen=True)
class DecisionInput:
    """What the bot knows when it asks for a decision."""

    tier: str
    intent: str
    bot_failures: int
    human_requests: int
    verified: bool = True


@dataclass(frozen=True)
class Decision:
    """The outcome and the id of the policy rule that fired (the API answers with it: schemas.DecisionOut)."""

    decision: Literal["self_service", "escalate"]
    queue: str | None
    priority: int
    sla_seconds: int | None
    reason: str
    rule: str
    tier: str
    offer_human: bool


def decide(policy: Policy, given: DecisionInput) -> Decision:
    """Apply the policy; the first matching rule wins, in this order:

    tier.sensitive_intent, fairness.always_escalate_intent, tier.human_on_first_request,
    fairness.repeated_human_request, tier.bot_failures, then self_service.
    """
    tier = given.tier if given.tier in policy.rules else policy.anonymous_tier
    rules = policy.rules[tier]
    label = policy.tier(tier).display_name
    who = f"{label} customer" if given.verified else "unverified visitor"

    def escalate(rule: str, reason: str) -> Decision:
        return Decision("escalate", rules.queue, rules.base_priority, rules.first_response_sla_seconds,
                        reason, rule, tier, True)

    topic = given.intent.replace("_", " ")
    if given.intent in rules.sensitive_intents:
        return escalate("tier.sensitive_intent", f"{who}: '{topic}' is handled by a person for this tier.")
    if given.intent in policy.fairness.always_escalate_intents:
        return escalate("fairness.always_escalate_intent", f"{who}: every '{topic}' reaches a person.")
    if given.human_requests >= 1 and rules.human_on_first_request:
        return escalate("tier.human_on_first_request", f"{who} asked for a person; this tier gets one right away.")
    if given.human_requests >= policy.fairness.repeated_human_requests:
        return escalate("fairness.repeated_human_request",
                        f"{who} asked for a person {given.human_requests} times; repeated requests always reach one.")
    if given.bot_failures >= rules.max_bot_failures:
        return escalate("tier.bot_failures",
                        f"{who}: the assistant could not help {given.bot_failures} times "
                        f"(limit {rules.max_bot_failures} for this tier).")
    if given.human_requests >= 1:
        return Decision("self_service", None, rules.base_priority, None,
                        f"{who} asked for a person once; the assistant tries first and connects them if they ask "
                        "again.",
                        "self_service.first_human_request", tier, True)
    return Decision("self_service", None, rules.base_priority, None,
                    f"{who}: the assistant can handle '{topic}'.", "self_service", tier, rules.proactive_offer)
