"""Typed, validated shape of routing/policy.yml (tiers, CLV model, queues, per-tier rules, fairness)."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from routing.policy.intents import KNOWN_INTENTS

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TierDefinition(_Strict):
    """A value tier, highest first in the policy; exactly one threshold kind (percentile or absolute CLV)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    display_name: str
    min_clv_percentile: float | None = Field(default=None, ge=0, le=100)
    min_clv: float | None = None

    @model_validator(mode="after")
    def _one_threshold(self) -> TierDefinition:
        if (self.min_clv_percentile is None) == (self.min_clv is None):
            raise ValueError(f"tier {self.name}: give exactly one of min_clv_percentile or min_clv")
        return self


class ClvModel(_Strict):
    """CLV = average order value x orders per year x expected lifespan x margin - return/support cost."""

    window_months: int = Field(default=12, ge=1)
    expected_lifespan_years: float = Field(gt=0)
    margin: float = Field(gt=0, le=1)
    return_cost: float = Field(ge=0, description="handling cost per returned order, in currency units")
    support_contact_cost: float = Field(ge=0, description="cost per support contact, in currency units")
    min_tenure_days_for_frequency: int = Field(default=90, ge=1)


class BusinessHours(_Strict):
    """Weekly opening hours in a timezone; close "24:00" means midnight."""

    timezone: str
    days: list[Weekday]
    open: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    close: str = Field(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _open_before_close(self) -> BusinessHours:
        if self.open >= self.close:
            raise ValueError(f"open {self.open} must be before close {self.close}")
        return self

    def is_open(self, at: datetime) -> bool:
        """Whether `at` (timezone-aware) falls inside the opening hours."""
        local = at.astimezone(ZoneInfo(self.timezone))
        if WEEKDAYS[local.weekday()] not in self.days:
            return False
        now = local.strftime("%H:%M")
        return self.open <= now < self.close

    def opening_time(self) -> time:
        """The daily opening time."""
        return time.fromisoformat(self.open)


class QueueDefinition(_Strict):
    """A human queue: who it serves, when it is staffed, what happens out of hours."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    display_name: str
    tiers: list[str] = Field(min_length=1)
    business_hours: BusinessHours
    out_of_hours: Literal["callback", "ticket"]
    escalation_timeout_seconds: int = Field(gt=0)
    webhook_url: str | None = None


class TierRules(_Strict):
    """How one tier is routed."""

    queue: str
    base_priority: int = Field(ge=0)
    first_response_sla_seconds: int = Field(gt=0)
    human_on_first_request: bool
    sensitive_intents: list[str] = Field(default_factory=list)
    max_bot_failures: int = Field(ge=1)
    proactive_offer: bool


class Aging(_Strict):
    """Waiting raises priority so that no queue starves."""

    seconds_per_point: int = Field(gt=0)
    max_bonus: int = Field(ge=0)


class Fairness(_Strict):
    """Reasons for which every customer, any tier or anonymous, reaches a human."""

    always_escalate_intents: list[str] = Field(min_length=1)
    repeated_human_requests: int = Field(ge=1)
    max_bot_failures: int = Field(ge=1, description="upper bound of every tier's max_bot_failures")
    aging: Aging


class TransitDays(_Strict):
    """A carrier's transit time in business days, from hand-over to delivery."""

    min: int = Field(ge=0)
    max: int = Field(ge=0)

    @model_validator(mode="after")
    def _min_before_max(self) -> TransitDays:
        if self.min > self.max:
            raise ValueError(f"transit min {self.min} is above max {self.max}")
        return self


class DeliveryPolicy(_Strict):
    """Delivery estimates: business days to hand an order to the carrier, then the carrier's transit time."""

    processing_days: int = Field(default=1, ge=0)
    default_transit: TransitDays = TransitDays(min=3, max=5)
    carriers: dict[str, TransitDays] = Field(default_factory=dict)

    def transit(self, carrier: str | None) -> TransitDays:
        """The carrier's transit time, else the default."""
        return self.carriers.get(carrier or "", self.default_transit)


class ReturnsPolicy(_Strict):
    """Returns: a delivered order can be returned within `window_days` of its delivery, and once the return is
    started the items are sent back within `send_back_days`."""

    window_days: int = Field(default=30, ge=0)
    send_back_days: int = Field(default=14, ge=1)


CANNED_PLACEHOLDERS = ("customer_name", "agent_name")


class CannedReply(_Strict):
    """A reply agents insert with one pick; {customer_name} and {agent_name} are filled in. `queues`: only
    offered for escalations of these queues (every queue when omitted)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1, max_length=80)
    text: str = Field(min_length=1, max_length=4000)
    queues: list[str] | None = None

    @field_validator("text")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        used = set(re.findall(r"\{([^{}]*)\}", value))
        unknown = sorted(used - set(CANNED_PLACEHOLDERS))
        if unknown:
            raise ValueError(f"unknown placeholder {{{unknown[0]}}}; use {{customer_name}} or {{agent_name}}")
        return value


class Policy(_Strict):
    """The whole routing policy; cross-references (tiers, queues, intents) are checked on load."""

    version: str = Field(min_length=1, max_length=40)
    anonymous_tier: str
    clv: ClvModel
    tiers: list[TierDefinition] = Field(min_length=1)
    queues: list[QueueDefinition] = Field(min_length=1)
    rules: dict[str, TierRules]
    fairness: Fairness
    dispositions: list[str] = Field(min_length=1)
    delivery: DeliveryPolicy = DeliveryPolicy()
    returns: ReturnsPolicy = ReturnsPolicy()
    canned_replies: list[CannedReply] = Field(default_factory=list)

    @model_validator(mode="after")
    def _cross_references(self) -> Policy:
        errors: list[str] = []
        tier_names = [t.name for t in self.tiers]
        queue_names = [q.name for q in self.queues]
        for kind, names in (("tier", tier_names), ("queue", queue_names)):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                errors.append(f"duplicate {kind} names: {', '.join(dupes)}")
        if self.anonymous_tier not in tier_names:
            errors.append(f"anonymous_tier: unknown tier {self.anonymous_tier!r}")
        for queue in self.queues:
            for tier in queue.tiers:
                if tier not in tier_names:
                    errors.append(f"queues.{queue.name}.tiers: unknown tier {tier!r}")
        for tier, rules in self.rules.items():
            if tier not in tier_names:
                errors.append(f"rules.{tier}: unknown tier {tier!r}")
            if rules.queue not in queue_names:
                errors.append(f"rules.{tier}.queue: unknown queue {rules.queue!r}")
            for intent in rules.sensitive_intents:
                if intent not in KNOWN_INTENTS:
                    errors.append(f"rules.{tier}.sensitive_intents: unknown intent {intent!r}")
            if rules.max_bot_failures > self.fairness.max_bot_failures:
                errors.append(f"rules.{tier}.max_bot_failures: {rules.max_bot_failures} exceeds the fairness bound "
                              f"{self.fairness.max_bot_failures}")
        for tier in tier_names:
            if tier not in self.rules:
                errors.append(f"rules: missing rules for tier {tier!r}")
        for intent in self.fairness.always_escalate_intents:
            if intent not in KNOWN_INTENTS:
                errors.append(f"fairness.always_escalate_intents: unknown intent {intent!r}")
        canned_ids = [c.id for c in self.canned_replies]
        dupes = sorted({n for n in canned_ids if canned_ids.count(n) > 1})
        if dupes:
            errors.append(f"duplicate canned_replies ids: {', '.join(dupes)}")
        for reply in self.canned_replies:
            for queue_name in reply.queues or []:
                if queue_name not in queue_names:
                    errors.append(f"canned_replies.{reply.id}.queues: unknown queue {queue_name!r}")
        last = self.tiers[-1]
        if (last.min_clv_percentile or 0) > 0 or (last.min_clv is not None):
            errors.append(f"tiers: the last tier ({last.name}) must catch everyone (min_clv_percentile: 0)")
        percentiles = [t.min_clv_percentile for t in self.tiers if t.min_clv_percentile is not None]
        absolutes = [t.min_clv for t in self.tiers if t.min_clv is not None]
        if percentiles != sorted(percentiles, reverse=True) or absolutes != sorted(absolutes, reverse=True):
            errors.append("tiers: list tiers from highest to lowest threshold")
        if errors:
            raise ValueError("\n".join(errors))
        return self

    def tier(self, name: str) -> TierDefinition:
        """The tier definition called `name`."""
        return next(t for t in self.tiers if t.name == name)

    def queue(self, name: str) -> QueueDefinition | None:
        """The queue definition called `name`, if the policy has one (escalations may name a queue removed since)."""
        return next((q for q in self.queues if q.name == name), None)

    @property
    def tier_names(self) -> list[str]:
        """Tier names, highest first."""
        return [t.name for t in self.tiers]
