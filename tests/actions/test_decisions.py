"""action_route asks the real routing service and tells the customer what happens."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from helpers import demo_customer, is_handoff_announcement, run, says, verified_slots

from actions.decisions import ActionRoute
from actions.messages import MESSAGES


def check_said(slots: dict[str, Any], said: list[str], intent: str) -> None:
    """Escalations open a real escalation and say what happens next; self-service gives the topic's answer."""
    if slots["routing_decision"] == "escalate":
        assert isinstance(slots["escalation_id"], int)
        assert len(said) == 1 and is_handoff_announcement(said[0]), said
    else:
        assert slots["routing_decision"] == "self_service"
        assert says(intent, said[0]), said
        assert said[1:] in ([], [MESSAGES["offer_human"]])


def test_a_platinum_request_for_a_human_is_counted_and_routed(api: httpx.Client, domain: dict[str, Any]) -> None:
    slots, said = run(ActionRoute(), domain, "contact_human_agent", verified_slots(demo_customer(api, "platinum")))

    assert slots["human_requests"] == 1.0
    assert slots["routing_decision"] == "escalate" and slots["routing_queue"]
    assert slots["routing_reason"]
    check_said(slots, said, "contact_human_agent")


@pytest.mark.parametrize("intent", ["complaint", "payment_issue", "get_refund", "contact_customer_service"])
def test_anonymous_policy_topics_get_a_decision(routing_url: str, domain: dict[str, Any], intent: str) -> None:
    slots, said = run(ActionRoute(), domain, intent)

    assert slots["human_requests"] == 0.0
    assert slots["routing_reason"]
    check_said(slots, said, intent)


def test_an_unreachable_routing_service_is_explained(unreachable_routing: None, domain: dict[str, Any]) -> None:
    slots, said = run(ActionRoute(), domain, "payment_issue")

    assert said == [MESSAGES["routing_unavailable"]]
    assert slots["routing_decision"] is None and "pending_escalation" not in slots


def test_a_complaint_is_kept_while_the_routing_service_is_unreachable(unreachable_routing: None,
                                                                     domain: dict[str, Any]) -> None:
    slots, said = run(ActionRoute(), domain, "complaint")

    assert said == [MESSAGES["handoff_pending"]]
    assert slots["pending_escalation"]["request"]["intent"] == "complaint"
