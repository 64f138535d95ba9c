"""Evaluate the trained model's NLU on labelled CSV files; by default the shared public datasets (never trained on).

Run with the bot runtime: `.venv/bot/bin/python scripts/eval_nlu.py [--data F.csv ...] [--limit N] [--min-accuracy X]`
(or `make eval-nlu ARGS="--data my.csv"`). A CSV needs a text column (`text` or `utterance`) and an `intent` column;
rows whose intent is `out_of_scope` (or `oos`) measure rejection, every other row measures intent accuracy.
Reports accuracy and macro-F1 over the intents, per-intent F1 and accuracy, the confusion counts (every gold/predicted
pair), the costliest confusion pairs, and the share of out-of-scope queries not confidently mapped to an in-scope
intent. The sample (--limit) is stratified with a fixed seed, so the figures are deterministic for a given model.
Writes nlu_eval.json, nlu_eval.md and the confusion matrix nlu_confusion.png into --out (default reports/).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import os
import random
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATASETS = Path(os.environ.get("CONCIERGE_SHARED_DIR", str(ROOT.parent / "shared"))) / "datasets"
BITEXT_DIR = DATASETS / "bitext-customer-service"
OOS_FILE = DATASETS / "clinc150-oos" / "oos_val.csv"
CHALLENGE = ROOT / "tests" / "nlu" / "challenge.csv"
MODEL = ROOT / "models" / "concierge.tar.gz"
REPORTS = ROOT / "reports"
REJECTING_INTENTS = {"nlu_fallback", "out_of_scope"}
OOS_LABELS = {"out_of_scope", "oos"}
TEXT_COLUMNS = ("text", "utterance")
SEED = 42

# realistic values for Bitext's {{Placeholder}} tokens; unknown placeholders get their words back
PLACEHOLDERS = {
    "order number": "C-100042",
    "invoice number": "INV-20240117",
    "account type": "premium",
    "account category": "business",
    "person name": "Maria Lopez",
    "customer support phone number": "+1 555 0100",
    "customer support email": "support@example.com",
    "website url": "www.example.com",
    "email address": "maria.lopez@example.com",
    "delivery city": "Chicago",
    "delivery country": "Canada",
    "refund amount": "$45",
    "money amount": "$120",
    "currency symbol": "$",
    "date": "March 3",
    "date range": "last month",
    "client first name": "Maria",
    "client last name": "Lopez",
}


@dataclass(frozen=True)
class Example:
    """One utterance and its gold intent."""

    text: str
    intent: str


def fill_placeholders(text: str) -> str:
    """'{{Order Number}}' -> 'C-100042' (and similar) so the model sees realistic text."""
    return re.sub(
        r"\{\{\s*([^}]+?)\s*\}\}", lambda m: PLACEHOLDERS.get(m.group(1).lower(), m.group(1).lower()), text
    )


class DataError(Exception):
    """A CSV that cannot be evaluated (missing file or columns); the message says what to fix."""


def read_csv(path: Path) -> list[Example]:
    """The labelled rows of `path` (text in `text` or `utterance`, label in `intent`); blank rows are skipped."""
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        text_column = next((c for c in TEXT_COLUMNS if c in columns), None)
        if text_column is None or "intent" not in columns:
            raise DataError(f"{path}: needs a 'text' (or 'utterance') column and an 'intent' column; "
                            f"it has {', '.join(columns) or 'no header'}")
        return [
            Example(fill_placeholders(row[text_column]).strip(), (row["intent"] or "").strip())
            for row in reader
            if (row.get(text_column) or "").strip() and (row.get("intent") or "").strip()
        ]


def default_data() -> list[Path]:
    """The shared sets: every Bitext CSV and the CLINC150 out-of-scope queries (those that exist)."""
    bitext = sorted(BITEXT_DIR.glob("*.csv")) if BITEXT_DIR.is_dir() else []
    return bitext + ([OOS_FILE] if OOS_FILE.exists() else [])


def stratified(examples: list[Example], limit: int | None) -> list[Example]:
    """At most `limit` examples, spread evenly over the intents (fixed seed)."""
    if not limit or limit >= len(examples):
        return examples
    by_intent: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_intent[example.intent].append(example)
    rng = random.Random(SEED)
    per_intent = max(1, limit // len(by_intent))
    return [x for group in by_intent.values() for x in rng.sample(group, min(per_intent, len(group)))]


def fallback_threshold() -> float:
    """The FallbackClassifier threshold configured in config.yml."""
    import yaml

    config = yaml.safe_load((ROOT / "config.yml").read_text())
    for component in config.get("pipeline", []):
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3))
    return 0.0


async def predict(agent: Any, texts: list[str]) -> list[tuple[str, float, str]]:
    """(final intent, its confidence, the best in-scope candidate) for each text."""
    results = []
    for text in texts:
        parsed = await agent.parse_message(text)
        intent = parsed.get("intent") or {}
        ranking = [r for r in parsed.get("intent_ranking", []) if r.get("name") not in REJECTING_INTENTS]
        best = ranking[0]["name"] if ranking else ""
        results.append((intent.get("name") or "", float(intent.get("confidence") or 0.0), best))
    return results


def f1_scores(gold: list[str], predicted: list[str], labels: list[str]) -> dict[str, float]:
    scores = {}
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores[label] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return scores


def evaluate(agent: Any, examples: list[Example], oos: list[Example], threshold: float,
             model: str = "", sources: list[str] | None = None) -> dict[str, Any]:
    """Figures for in-scope `examples` (key "intents") and out-of-scope queries `oos` (key "oos")."""
    started = time.monotonic()
    predictions = asyncio.run(predict(agent, [x.text for x in examples])) if examples else []
    oos_predictions = asyncio.run(predict(agent, [x.text for x in oos])) if oos else []
    report = score(examples, predictions, oos, oos_predictions, threshold)
    report = {"model": model, "fallback_threshold": threshold, "sources": sources or [], **report}
    report["seconds"] = round(time.monotonic() - started, 1)
    return report


def score(examples: list[Example], predictions: list[tuple[str, float, str]], oos: list[Example],
          oos_predictions: list[tuple[str, float, str]], threshold: float) -> dict[str, Any]:
    """The figures of predictions already made: "intents" for `examples`, "oos" for the out-of-scope queries."""
    report: dict[str, Any] = {}
    labels = sorted({x.intent for x in examples})
    if examples:
        gold = [x.intent for x in examples]
        final = [p[0] for p in predictions]
        per_intent = f1_scores(gold, final, labels)
        pairs = Counter(zip(gold, final, strict=True))
        confusions = Counter({pair: n for pair, n in pairs.items() if pair[0] != pair[1]})
        totals = Counter(gold)
        report["intents"] = {
            "examples": len(examples),
            "accuracy": round(sum(g == p for g, p in zip(gold, final, strict=True)) / len(gold), 4),
            "macro_f1": round(sum(per_intent.values()) / len(per_intent), 4),
            "accuracy_ignoring_fallback": round(
                sum(g == p[2] for g, p in zip(gold, predictions, strict=True)) / len(gold), 4),
            "rejected_share": round(sum(p in REJECTING_INTENTS for p in final) / len(final), 4),
            "per_intent_f1": {label: round(score, 4) for label, score in sorted(per_intent.items())},
            "per_intent_accuracy": {label: round(pairs[(label, label)] / totals[label], 4) for label in labels},
            "top_confusions": [
                {"gold": g, "predicted": p, "count": n} for (g, p), n in confusions.most_common(10)
            ],
            # gold intent -> predicted intent -> count, every pair seen (for the confusion matrix)
            "confusion": {g: {p: n for (g2, p), n in sorted(pairs.items()) if g2 == g} for g in labels},
        }
    if oos:
        rejected = [p[0] in REJECTING_INTENTS or p[1] < threshold for p in oos_predictions]
        report["oos"] = {
            "examples": len(oos),
            "rejection_rate": round(sum(rejected) / len(rejected), 4),
            "accepted_as": dict(
                Counter(p[0] for p, r in zip(oos_predictions, rejected, strict=True) if not r).most_common(10)),
        }
    return report


def cross_validate(folds: int, threshold: float) -> dict[str, Any]:
    """Stratified `folds`-fold cross-validation of config.yml's NLU pipeline on data/nlu (fixed seed).

    Each fold trains an NLU-only model on the other folds and predicts its own examples; the figures are those of
    every example predicted once, by the model that never saw it (out_of_scope examples measure rejection). The
    generated phrasings (data/nlu/phrasings.yml) are in every fold's training and never scored: they are too alike
    to measure anything, and what they are for is how well the hand-written examples are understood.
    """
    import tempfile

    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped]

    started = time.monotonic()
    data = load_data(str(ROOT / "data" / "nlu"))
    generated_file = ROOT / "data" / "nlu" / "phrasings.yml"
    generated = load_data(str(generated_file)).intent_examples if generated_file.exists() else []
    generated_texts = {m.get("text") for m in generated}
    messages = [m for m in data.intent_examples if m.get("text") not in generated_texts]
    labels = [m.get("intent") for m in messages]
    examples: list[Example] = []
    oos: list[Example] = []
    predictions: list[tuple[str, float, str]] = []
    oos_predictions: list[tuple[str, float, str]] = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    with tempfile.TemporaryDirectory() as tmp:
        for fold, (train_index, test_index) in enumerate(splitter.split(messages, labels), start=1):
            print(f"eval-nlu: cross-validation fold {fold}/{folds}", file=sys.stderr, flush=True)
            train = TrainingData(training_examples=[messages[i] for i in train_index] + generated,
                                 regex_features=data.regex_features, lookup_tables=data.lookup_tables,
                                 entity_synonyms=data.entity_synonyms)
            data_file = Path(tmp) / f"fold{fold}.yml"
            RasaYAMLWriter().dump(data_file, train)
            model = train_nlu(str(ROOT / "config.yml"), str(data_file), tmp, fixed_model_name=f"fold{fold}")
            if model is None:
                raise DataError(f"cross-validation fold {fold}: training failed")
            agent = Agent.load(model)
            held_out = [Example(messages[i].get("text"), messages[i].get("intent")) for i in test_index]
            fold_in = [x for x in held_out if x.intent not in OOS_LABELS]
            fold_oos = [x for x in held_out if x.intent in OOS_LABELS]
            examples += fold_in
            oos += fold_oos
            predictions += asyncio.run(predict(agent, [x.text for x in fold_in]))
            oos_predictions += asyncio.run(predict(agent, [x.text for x in fold_oos]))
    report = score(examples, predictions, oos, oos_predictions, threshold)
    report["folds"] = folds
    report["seconds"] = round(time.monotonic() - started, 1)
    return report


def markdown(report: dict[str, Any]) -> str:
    header = f"Model `{report['model']}`, fallback threshold {report['fallback_threshold']}."
    sources = ", ".join(f"`{name}`" for name in report.get("sources") or []) or "none"
    lines = ["# NLU evaluation", "", header, f"Data: {sources}.", ""] + _figures(report, "##")
    if "challenge" in report:
        lines += [f"## Challenge set (`{CHALLENGE.relative_to(ROOT)}`: written before tuning, never trained on)",
                  ""] + _figures(report["challenge"], "###")
    if "cross_validation" in report:
        cv = report["cross_validation"]
        lines += [f"## Cross-validation on data/nlu ({cv['folds']} folds, {cv['seconds']:.0f} s)", ""]
        lines += _figures(cv, "###")
    return "\n".join(lines)


def _figures(report: dict[str, Any], level: str) -> list[str]:
    """Markdown lines of one part's "intents" and "oos" figures, headed at `level`."""
    lines: list[str] = []
    if "intents" in report:
        b = report["intents"]
        lines += [
            f"{level} Intents ({b['examples']} utterances, {len(b['per_intent_f1'])} intents)",
            "",
            f"- accuracy: **{b['accuracy']:.3f}** (top in-scope intent, ignoring the fallback: "
            f"{b['accuracy_ignoring_fallback']:.3f})",
            f"- macro-F1: **{b['macro_f1']:.3f}**",
            f"- sent to fallback / out of scope: {b['rejected_share']:.3f}",
            "",
            "| intent | F1 |",
            "|---|---|",
            *[f"| {label} | {score:.3f} |" for label, score in b["per_intent_f1"].items()],
            "",
            "Costliest confusions:",
            "",
            "| gold | predicted | count |",
            "|---|---|---|",
            *[f"| {c['gold']} | {c['predicted']} | {c['count']} |" for c in b["top_confusions"]],
            "",
        ]
    if "oos" in report:
        o = report["oos"]
        lines += [
            f"{level} Out of scope ({o['examples']} queries)",
            "",
            f"- not confidently mapped to an in-scope intent: **{o['rejection_rate']:.3f}**",
            f"- accepted as: {', '.join(f'{k} ({v})' for k, v in o['accepted_as'].items()) or 'nothing'}",
            "",
        ]
    return lines


def plot_confusion(report: dict[str, Any], path: Path) -> None:
    """The confusion matrix of report["intents"] as a PNG (gold rows, predicted columns, counts in the cells)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    b = report["intents"]
    gold = sorted(b["confusion"])
    predicted = gold + sorted({p for row in b["confusion"].values() for p in row} - set(gold))
    matrix = [[b["confusion"][g].get(p, 0) for p in predicted] for g in gold]
    biggest = max(map(max, matrix))
    fig, ax = plt.subplots(figsize=(12, 10))
    image = ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(predicted)), predicted, rotation=90, fontsize=7)
    ax.set_yticks(range(len(gold)), gold, fontsize=7)
    ax.set_xlabel("predicted intent")
    ax.set_ylabel("gold intent")
    ax.set_title(f"Intent confusion matrix ({b['examples']} utterances)")
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            if count:
                ax.text(j, i, str(count), ha="center", va="center", fontsize=5,
                        color="white" if count > biggest / 2 else "black")
    fig.colorbar(image, ax=ax, shrink=0.7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append", default=None, metavar="CSV",
                        help="labelled CSV to score (repeatable); default: the shared Bitext and CLINC150 sets, "
                             "with the challenge set tests/nlu/challenge.csv beside them")
    parser.add_argument("--limit", type=int, default=None, help="stratified sample of N in-scope utterances")
    parser.add_argument("--cv", type=int, default=None, metavar="K",
                        help="also cross-validate the pipeline on the hand-written examples of data/nlu with K folds "
                             "(K NLU trainings; the generated phrasings stay in training)")
    parser.add_argument("--min-accuracy", type=float, default=None, help="exit 1 when the accuracy is lower")
    parser.add_argument("--min-macro-f1", type=float, default=None, help="exit 1 when the macro-F1 is lower")
    parser.add_argument("--min-oos-rejection", type=float, default=None,
                        help="exit 1 when fewer out-of-scope queries are rejected")
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--out", type=Path, default=REPORTS, help="folder of the report files (default reports/)")
    args = parser.parse_args(argv)

    files = args.data or default_data()
    if not files and not args.cv:
        print(f"eval-nlu: the shared datasets are absent ({DATASETS}); nothing to evaluate.")
        return 0
    challenge_rows: list[Example] = []
    try:
        rows = [x for path in files for x in read_csv(path)]
        if args.data is None and CHALLENGE.exists():
            challenge_rows = read_csv(CHALLENGE)
    except DataError as error:
        print(f"eval-nlu: {error}", file=sys.stderr)
        return 2
    if files and not rows:
        print(f"eval-nlu: no labelled rows in {', '.join(map(str, files))}", file=sys.stderr)
        return 2
    if not args.model.exists():
        print(f"eval-nlu: no trained model at {args.model}; run scripts/train.sh first.", file=sys.stderr)
        return 1

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # no per-message debug lines
    logging.disable(logging.WARNING)

    sys.path.insert(0, str(ROOT))  # the model names project components (bot_policies.handoff.HandoffPolicy)
    agent = Agent.load(str(args.model))
    threshold = fallback_threshold()
    examples = stratified([x for x in rows if x.intent not in OOS_LABELS], args.limit)
    oos = [x for x in rows if x.intent in OOS_LABELS]
    report = evaluate(agent, examples, oos, threshold, model=_shown(args.model),
                      sources=[_shown(path) for path in files])
    if challenge_rows:
        report["challenge"] = evaluate(agent, [x for x in challenge_rows if x.intent not in OOS_LABELS],
                                       [x for x in challenge_rows if x.intent in OOS_LABELS], threshold,
                                       model=_shown(args.model), sources=[_shown(CHALLENGE)])
    if args.cv:
        report["cross_validation"] = cross_validate(args.cv, threshold)

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "nlu_eval.json").write_text(json.dumps(report, indent=2) + "\n")
    text = markdown(report)
    (args.out / "nlu_eval.md").write_text(text + "\n")
    if "intents" in report:
        plot_confusion(report, args.out / "nlu_confusion.png")
        text += f"\nConfusion matrix: {_shown(args.out / 'nlu_confusion.png')}"
    print(text)
    return _gate(report, args.min_accuracy, args.min_macro_f1, args.min_oos_rejection)


def _gate(report: dict[str, Any], min_accuracy: float | None, min_macro_f1: float | None,
          min_oos_rejection: float | None) -> int:
    """1 (with the reasons on stderr) when a figure of the scored data is below its required minimum."""
    intents = report.get("intents", {})
    checks = [("accuracy", intents.get("accuracy"), min_accuracy),
              ("macro-F1", intents.get("macro_f1"), min_macro_f1),
              ("out-of-scope rejection", report.get("oos", {}).get("rejection_rate"), min_oos_rejection)]
    failed = [(name, value, minimum) for name, value, minimum in checks
              if minimum is not None and value is not None and value < minimum]
    for name, value, minimum in failed:
        print(f"eval-nlu: {name} {value:.3f} is below the required {minimum:.3f}", file=sys.stderr)
    return 1 if failed else 0


def _shown(path: Path) -> str:
    """`path` relative to the project when it is inside it."""
    resolved = path.resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(resolved)


if __name__ == "__main__":
    sys.exit(main())
