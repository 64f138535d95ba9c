"""Routing decisions with audit: resolve the customer's tier, apply the pure policy rules, store the record."""

from __future__ import annotations

from sqlalchemy.orm import Session

from routing.customers import service as customers
from routing.decisions.models import RoutingDecision
from routing.decisions.rules import Decision, DecisionInput, decide
from routing.decisions.schemas import DecisionIn
from routing.errors import InvalidField
from routing.policy.definition import Policy
from routing.tiers.service import effective_tier


def make_decision(session: Session, policy: Policy, request: DecisionIn) -> tuple[RoutingDecision, Decision]:
    """Decide for the request and record the decision (its id is the audit reference)."""
    tier, verified = policy.anonymous_tier, False
    if request.customer_id is not None:
        found = customers.get_customer(session, request.customer_id)
        if found is None:
            raise InvalidField(("body", "customer_id"), "unknown customer")
        tier, verified = effective_tier(policy, *found).tier, True
    decision = decide(policy, DecisionInput(tier, request.intent, request.bot_failures, request.human_requests,
                                            verified))
    record = RoutingDecision(
        conversation_id=request.conversation_id, customer_id=request.customer_id, intent=request.intent,
        bot_failures=request.bot_failures, human_requests=request.human_requests,
        facts=request.facts.model_dump(exclude_unset=True),
        decision=decision.decision, queue=decision.queue, priority=decision.priority,
        sla_seconds=decision.sla_seconds, reason=decision.reason, rule=decision.rule, tier=decision.tier,
        offer_human=decision.offer_human, policy_version=policy.version)
    session.add(record)
    session.flush()
    return record, decision
