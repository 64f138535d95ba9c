"""The policy summary: a compact view of the policy in force for other services and the console."""

from __future__ import annotations

from routing.policy.definition import Policy
from routing.policy.schemas import PolicySummary, TierSummary


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
