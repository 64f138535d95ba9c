"""BlendedLogisticRegression: Rasa's logistic regression, averaged with the intent classifier before it (DIET).

Why: DIET alone was unstable (a change of seed or of unrelated examples moved Bitext accuracy by a point, and once
sent 94 `set_up_shipping_address` utterances to `change_shipping_address`) and overconfident on out-of-scope
queries; the logistic regression on the same sparse features is steady and better calibrated, but less accurate on
its own. Their average beat both on every piece of evidence (challenge set, cross-validation, shared sets; see
docs/training.md). Put it after DIETClassifier (with `ranking_length: 0`, so DIET ranks every intent) and before the
FallbackClassifier, which then judges the averaged confidence.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import csr_matrix, hstack, vstack
from scipy.special import softmax


def blend(previous: list[dict[str, Any]], own: dict[str, float], weight: float) -> list[dict[str, Any]]:
    """`weight` x the previous classifier's confidences + (1 - weight) x ours, best first.

    Without a previous ranking (no classifier before this one) our own confidences stand.
    """
    if not previous:
        weight = 0.0
    before = {entry["name"]: float(entry["confidence"]) for entry in previous}
    names = set(before) | set(own)
    scores = {name: weight * before.get(name, 0.0) + (1.0 - weight) * own.get(name, 0.0) for name in names}
    return [{"name": name, "confidence": score}
            for name, score in sorted(scores.items(), key=lambda item: (-item[1], item[0]))]



def sentence_rows(messages: list[Message]) -> list[csr_matrix]:
    """Each message's sentence-level features (sparse, then dense) as one row; a blank text may have fewer."""
    rows = []
    for message in messages:
        text = [f for f in message.features if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE]
        parts = [f.features for f in text if f.is_sparse()] + [csr_matrix(f.features) for f in text
                                                                 if not f.is_sparse()]
        rows.append(hstack(parts, format="csr") if parts else csr_matrix((1, 0)))
    return rows

@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class BlendedLogisticRegression(LogisticRegressionClassifier):
    """Trains like LogisticRegressionClassifier; predicts the average with the previous classifier's ranking."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "previous_weight": 0.5}

    def _create_X(self, messages: list[Message]) -> csr_matrix:
        """The parent's matrix (sentence-level sparse features, then dense ones), built in a third of its time.

        The parent asks each message for all its combined sparse features, which copies and stacks the per-token
        matrices too; only the sentence-level ones are used, so this stacks just those, in the same order.
        """
        return vstack(sentence_rows(messages), format="csr")

    def probabilities(self, features: csr_matrix) -> Any:
        """predict_proba of the multinomial model (lbfgs, more than two intents) without scikit-learn's input
        checks, which cost more than the product itself on one message."""
        scores = features @ self.clf.coef_.T + self.clf.intercept_
        return softmax(scores, axis=1)

    def process(self, messages: list[Message]) -> list[Message]:
        if not messages:
            return messages
        # a message without the full set of features (an empty or blank text: some featurizers give it none) keeps
        # DIET's ranking; blending it raised a dimension mismatch inside Rasa and the customer's turn was lost
        width = self.clf.coef_.shape[1]
        pairs = [(m, row) for m, row in zip(messages, sentence_rows(messages), strict=True) if row.shape[1] == width]
        if not pairs:
            return messages
        probabilities = self.probabilities(vstack([row for _, row in pairs], format="csr"))
        weight, length = float(self.config["previous_weight"]), int(self.config["ranking_length"])
        names = [str(name) for name in self.clf.classes_]
        for (message, _), row in zip(pairs, probabilities, strict=True):
            own = {name: float(p) for name, p in zip(names, row, strict=True)}
            ranking = blend(message.get(INTENT_RANKING_KEY) or [], own, weight)
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking[:length] if length > 0 else ranking, add_to_output=True)
        return messages
