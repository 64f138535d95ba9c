"""scripts/report.py: the trainers' report shows challenge-set and cross-validation figures beside the shared sets."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("report", ROOT / "scripts" / "report.py")
assert _spec and _spec.loader
report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(report)

STORIES = {"total": 30, "correct": 30, "action_accuracy": 1.0, "failed": []}


def _part(accuracy: float, macro_f1: float) -> dict:
    return {"accuracy": accuracy, "macro_f1": macro_f1, "rejected_share": 0.01}


def test_challenge_and_cross_validation_figures_are_reported_with_their_changes() -> None:
    nlu = {"intents": _part(0.97, 0.98), "oos": {"rejection_rate": 0.88},
           "challenge": {"intents": _part(0.93, 0.95), "oos": {"rejection_rate": 0.92}},
           "cross_validation": {"intents": _part(0.89, 0.87), "oos": {"rejection_rate": 0.8}}}

    figures = report.figures(nlu, STORIES)

    assert {k: figures[k] for k in ("nlu_accuracy", "challenge_accuracy", "challenge_macro_f1",
                                    "challenge_oos_rejection_rate", "cv_accuracy", "cv_macro_f1")} == {
        "nlu_accuracy": 0.97, "challenge_accuracy": 0.93, "challenge_macro_f1": 0.95,
        "challenge_oos_rejection_rate": 0.92, "cv_accuracy": 0.89, "cv_macro_f1": 0.87}
    assert set(figures) <= set(report.FIGURES)
    previous = {"created": "yesterday", "figures": {**figures, "challenge_accuracy": 0.95}}
    rows = report.sections({"figures": figures, "stories": STORIES}, previous)[0][1]
    assert ["NLU accuracy (challenge set, never trained on)", "0.930", "-0.020 (worse)"] in rows


def test_without_a_cross_validation_its_figures_are_absent() -> None:
    figures = report.figures({"intents": _part(0.97, 0.98), "challenge": {"intents": _part(0.9, 0.9)}}, STORIES)

    assert "challenge_accuracy" in figures and "cv_accuracy" not in figures
