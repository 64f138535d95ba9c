"""HandoffPolicy: while a conversation is held by a slot-driven mode, one action answers every customer message.

Modes (config `routes`, slot -> action), checked in order:
- `handoff_active` -> `action_relay_to_agent`: a human agent holds the conversation; the customer's message goes to
  the agent and the bot says nothing, whatever NLU predicted.
- `awaiting_contact` -> `action_capture_contact`: the customer was asked for an email or phone number for a callback.
After that action the policy predicts `action_listen`. External intents (`EXTERNAL_*`, sent by the routing service
over Rasa's HTTP API) are left to the rules. A customer who types one (`/EXTERNAL_handoff_ended`) gets no such power:
the message is what they typed, so it goes to the mode's action (the agent sees it), or to `fallback_action` when no
mode is set. Its priority is above the RulePolicy's, so it wins every tie; otherwise, with no mode set, it abstains.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction, confidence_scores_for
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False)
class HandoffPolicy(Policy):
    """Predicts the mode's action after each customer message while a mode slot is set; abstains otherwise."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "priority": 7,
            "routes": {"handoff_active": "action_relay_to_agent", "awaiting_contact": "action_capture_contact"},
            "fallback_action": "action_fallback",
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, **kwargs)
        self.routes: dict[str, str] = dict(config["routes"])
        self.fallback_action: str = config.get("fallback_action", "action_fallback")

    def train(self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        """Nothing to learn: the behaviour is fixed."""
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """The active mode's action right after a customer message, then `action_listen`."""
        action = next((a for slot, a in self.routes.items() if tracker.get_slot(slot)), None)
        intent = (tracker.latest_message.intent.get("name") or "") if tracker.latest_message else ""
        if intent.startswith("EXTERNAL_"):
            if not typed_by_customer(tracker):
                return self._prediction(self._default_predictions(domain))
            action = action or self.fallback_action  # an ordinary message that names an internal intent
        if action is None:
            return self._prediction(self._default_predictions(domain))
        if tracker.latest_action_name != ACTION_LISTEN_NAME:
            action = ACTION_LISTEN_NAME
        return self._prediction(confidence_scores_for(action, 1.0, domain))


def typed_by_customer(tracker: DialogueStateTracker) -> bool:
    """Whether the latest intent came from the customer's "/intent" shorthand (Rasa's RegexMessageHandler parses a
    text that starts with "/"). The routing service's intents come over Rasa's HTTP API with the text
    "EXTERNAL: <intent>", and NLU never predicts an EXTERNAL_* intent (they have no examples), so the slash is the
    only way a customer can name one."""
    text = (tracker.latest_message.text or "") if tracker.latest_message else ""
    return text.startswith(INTENT_MESSAGE_PREFIX)
