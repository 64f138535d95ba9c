"""bot_nlu/blend.py: the averaged intent ranking, alone and inside a real (small) Rasa NLU training."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot_nlu.blend import blend  # noqa: E402

EXAMPLES = {
    "cancel_order": ["cancel my order", "I want to cancel the order", "please cancel my purchase",
                     "how do I cancel an order", "call off my order"],
    "track_order": ["where is my order", "track my package", "has my order shipped",
                    "status of my order", "when does my parcel arrive"],
    "recover_password": ["I forgot my password", "reset my password", "I can't log in, lost my password",
                         "help me recover my password", "new password please"],
}


def test_blend_averages_with_the_weight_and_ranks_best_first() -> None:
    previous = [{"name": "a", "confidence": 0.8}, {"name": "b", "confidence": 0.2}]
    own = {"a": 0.2, "b": 0.3, "c": 0.5}

    ranking = blend(previous, own, 0.5)

    # b and c tie: by name
    assert [(r["name"], round(r["confidence"], 3)) for r in ranking] == [("a", 0.5), ("b", 0.25), ("c", 0.25)]
    assert [r["name"] for r in blend(previous, own, 1.0)][:2] == ["a", "b"]


def test_without_a_previous_classifier_its_own_confidences_stand() -> None:
    assert blend([], {"a": 0.7, "b": 0.3}, 0.5) == [{"name": "a", "confidence": 0.7}, {"name": "b", "confidence": 0.3}]


def _train(tmp: Path, name: str, classifiers: list[dict[str, Any]]) -> Any:
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    config = {"recipe": "default.v1", "language": "en", "assistant_id": "test", "pipeline": [
        {"name": "WhitespaceTokenizer"}, {"name": "CountVectorsFeaturizer"}, *classifiers]}
    (tmp / f"{name}.yml").write_text(yaml.safe_dump(config))
    data = {"version": "3.1", "nlu": [{"intent": intent, "examples": "".join(f"- {t}\n" for t in texts)}
                                      for intent, texts in EXAMPLES.items()]}
    (tmp / "nlu.yml").write_text(yaml.safe_dump(data))
    model = train_nlu(str(tmp / f"{name}.yml"), str(tmp / "nlu.yml"), str(tmp), fixed_model_name=name)
    return Agent.load(model)


def _ranking(agent: Any, text: str) -> dict[str, float]:
    parsed = asyncio.run(agent.parse_message(text))
    return {r["name"]: r["confidence"] for r in parsed["intent_ranking"]}


@pytest.mark.filterwarnings("ignore")
def test_in_a_trained_pipeline_it_averages_diet_and_the_logistic_regression(tmp_path: Path) -> None:
    diet = {"name": "DIETClassifier", "epochs": 5, "random_seed": 1, "ranking_length": 0}
    logistic = {"max_iter": 200, "random_state": 1}
    blended = _train(tmp_path, "blended", [diet, {"name": "bot_nlu.blend.BlendedLogisticRegression",
                                                 "previous_weight": 0.5, **logistic}])
    diet_only = _train(tmp_path, "diet", [diet])
    logistic_only = _train(tmp_path, "logistic", [{"name": "LogisticRegressionClassifier", "ranking_length": 0,
                                                   **logistic}])

    for text in ("pls cancel it", "where's my parcel", "password forgotten"):
        expected = {name: 0.5 * diet_only_conf + 0.5 * _ranking(logistic_only, text)[name]
                    for name, diet_only_conf in _ranking(diet_only, text).items()}
        got = _ranking(blended, text)
        assert got == pytest.approx(expected, abs=1e-6)
        assert sum(got.values()) == pytest.approx(1.0, abs=1e-4)
    parsed = asyncio.run(blended.parse_message("I forgot my password"))
    assert parsed["intent"]["name"] == "recover_password" == parsed["intent_ranking"][0]["name"]


def _featurized(agent: Any, texts: list[str], classifier: str = "LogisticRegressionClassifier") -> list[Any]:
    """The messages as the pipeline's classifier saw them (with every featurizer's features)."""
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.constants import PLACEHOLDER_MESSAGE

    schema = agent.processor.model_metadata.predict_schema
    target = next(name for name, node in schema.nodes.items() if node.uses.__name__ == classifier)
    outputs = agent.processor.graph_runner.run(inputs={PLACEHOLDER_MESSAGE: [UserMessage(t) for t in texts]},
                                               targets=[target])
    return list(outputs[target])


@pytest.mark.filterwarnings("ignore")
def test_its_feature_matrix_is_the_logistic_regressions(tmp_path: Path) -> None:
    """The faster matrix must equal the parent's, or training and prediction would read other features."""
    from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier

    from bot_nlu.blend import BlendedLogisticRegression

    agent = _train(tmp_path, "features", [{"name": "LexicalSyntacticFeaturizer"},
                                          {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "max_ngram": 3},
                                          {"name": "LogisticRegressionClassifier", "max_iter": 50}])
    messages = _featurized(agent, ["cancel it please", "where is my parcel?", "hi"])

    ours = BlendedLogisticRegression._create_X(None, messages)  # type: ignore[arg-type]
    theirs = LogisticRegressionClassifier._create_X(None, messages)  # type: ignore[arg-type]
    assert ours.shape == theirs.shape and ours.shape[0] == 3 and ours.shape[1] > 100
    assert (ours != theirs).nnz == 0


@pytest.mark.filterwarnings("ignore")
def test_its_probabilities_are_scikit_learns(tmp_path: Path) -> None:
    agent = _train(tmp_path, "probabilities", [{"name": "bot_nlu.blend.BlendedLogisticRegression", "max_iter": 100}])
    schema = agent.processor.model_metadata.predict_schema
    name = next(n for n, node in schema.nodes.items() if node.uses.__name__ == "BlendedLogisticRegression")
    component = agent.processor.graph_runner._instantiated_nodes[name]._component  # the trained component
    features = component._create_X(_featurized(agent, ["cancel it please", "where is my parcel?", "hi"],
                                               "BlendedLogisticRegression"))

    assert component.probabilities(features) == pytest.approx(component.clf.predict_proba(features), abs=1e-9)
