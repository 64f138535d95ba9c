"""Routing decisions with audit: resolve the customer's tier, apply the pure policy, store the record."""

from __future__ import annotations

from sqlalchemy.orm import Session

from routing.customers import service as customers
from routing.policy.decision import Decision, DecisionInput, decide
from routing.policy.models import RoutingDecision
from routing.policy.schema import Policy
from routing.policy.schemas import DecisionIn, PolicySummary, TierSummary
from routing.tiers.service import effective_tier


class UnknownCustomer(LookupError):
    """The decision names a customer id that does not exist."""


def make_decision(session: Session, policy: Policy, request: DecisionIn) -> tuple[RoutingDecision, Decision]:
    """Decide for the request and record the decision (its id is the audit reference)."""
    tier, verified = policy.anonymous_tier, False
    if request.customer_id is not None:
        found = customers.get_customer(session, request.customer_id)
        if found is None:
            raise UnknownCustomer(request.customer_id)
        tier, verified = effective_tier(policy, *found).tier, True
    decision = decide(policy, DecisionInput(tier, request.intent, request.bot_failures, request.human_requests,
                                            verified))
    record = RoutingDecision(
        conversation_id=request.conversation_id, customer_id=request.customer_id, intent=request.intent,
        bot_failures=request.bot_failures, human_requests=request.human_requests, facts=request.facts,
        decision=decision.decision, queue=decision.queue, priority=decision.priority,
        sla_seconds=decision.sla_seconds, reason=decision.reason, rule=decision.rule, tier=decision.tier,
        offer_human=decision.offer_human, policy_version=decision.policy_version)
    session.add(record)
    session.flush()
    return record, decision


def summarize(policy: Policy) -> PolicySummary:
    """A compact view of the policy for other services and the console."""
    tiers = []
    for t in policy.tiers:
        r = policy.rules[t.name]
        threshold = (f"CLV percentile >= {t.min_clv_percentile:g}" if t.min_clv_percentile is not None
                     else f"CLV >= {t.min_clv:g}")
        tiers.append(TierSummary(name=t.name, display_name=t.display_name, threshold=threshold, queue=r.queue,
                                 base_priority=r.base_priority, first_response_sla_seconds=r.first_response_sla_seconds,
                                 human_on_first_request=r.human_on_first_request,
                                 sensitive_intents=r.sensitive_intents, max_bot_failures=r.max_bot_failures,
                                 proactive_offer=r.proactive_offer))
    return PolicySummary(version=policy.version, anonymous_tier=policy.anonymous_tier, tiers=tiers,
                         queues=[q.model_dump() for q in policy.queues], fairness=policy.fairness.model_dump(),
                         clv=policy.clv.model_dump())
