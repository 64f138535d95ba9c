"""The trainers' report: NLU figures with plots, test story results, and the change since the previous report.

Runs the NLU evaluation (scripts/eval_nlu.py: the challenge set, a fixed stratified sample of --limit Bitext
utterances, CLINC150's out-of-scope queries, and with --cv K a K-fold cross-validation on data/nlu) and the test
stories (`rasa test core`), then writes reports/report.md, reports/report.html, reports/report.json and the plots
reports/nlu_confusion.png and reports/nlu_per_intent.png. The report.json it replaces is kept as
reports/previous/report.json and every figure is shown with its change since then.
Run with the bot runtime: `.venv/bot/bin/python scripts/report.py [--limit 1000] [--cv 5]` (or `make report`).
"""

from __future__ import annotations

import argparse
import html
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clock import utcnow  # noqa: E402

REPORTS = ROOT / "reports"
STORY_OUT = REPORTS / "stories"
PREVIOUS = REPORTS / "previous" / "report.json"
MODEL = ROOT / "models" / "concierge.tar.gz"
# figure -> (label, higher is better)
FIGURES = {
    "challenge_accuracy": ("NLU accuracy (challenge set, never trained on)", True),
    "challenge_macro_f1": ("NLU macro-F1 (challenge set)", True),
    "challenge_oos_rejection_rate": ("Out-of-scope rejected (challenge set)", True),
    "cv_accuracy": ("NLU accuracy (cross-validation on data/nlu)", True),
    "cv_macro_f1": ("NLU macro-F1 (cross-validation)", True),
    "nlu_accuracy": ("NLU accuracy (Bitext)", True),
    "nlu_macro_f1": ("NLU macro-F1 (Bitext)", True),
    "nlu_rejected_share": ("Bitext sent to fallback / out of scope", False),
    "oos_rejection_rate": ("Out-of-scope queries rejected (CLINC150)", True),
    "stories_total": ("test stories", True),
    "stories_failed": ("test stories failed", False),
    "stories_action_accuracy": ("action accuracy in test stories", True),
}


def _load_eval_nlu() -> Any:
    spec = importlib.util.spec_from_file_location("eval_nlu", ROOT / "scripts" / "eval_nlu.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["eval_nlu"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def run_nlu(limit: int, folds: int | None) -> dict[str, Any] | None:
    """The NLU evaluation's figures (None when the shared datasets are absent)."""
    eval_nlu = _load_eval_nlu()
    if not eval_nlu.BITEXT_DIR.is_dir():
        print(f"report: no shared datasets at {eval_nlu.DATASETS}; the NLU part is skipped")
        return None
    if eval_nlu.main(["--limit", str(limit)] + (["--cv", str(folds)] if folds else [])) != 0:
        raise SystemExit("report: the NLU evaluation failed")
    figures: dict[str, Any] = json.loads((REPORTS / "nlu_eval.json").read_text())
    return figures


def run_stories() -> dict[str, Any]:
    """Test story results of `rasa test core` (totals, action accuracy, names of the failed stories)."""
    shutil.rmtree(STORY_OUT, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "rasa", "test", "core", "--stories", "tests/test_stories.yml",
                    "--model", str(MODEL), "--out", str(STORY_OUT), "--quiet"], cwd=ROOT, check=True,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}, stdout=subprocess.DEVNULL)
    story_report = json.loads((STORY_OUT / "story_report.json").read_text())
    conversations = story_report.get("conversation_accuracy") or {}
    failed = yaml.safe_load((STORY_OUT / "failed_test_stories.yml").read_text()) or {}
    return {"total": conversations.get("total", 0), "correct": conversations.get("correct", 0),
            "action_accuracy": round(float(story_report.get("accuracy", 0.0)), 4),
            "failed": [s.get("story", "?") for s in failed.get("stories") or []]}


def figures(nlu: dict[str, Any] | None, stories: dict[str, Any]) -> dict[str, float]:
    """The report's headline figures (those that exist)."""
    found: dict[str, float] = {"stories_total": stories["total"], "stories_failed": len(stories["failed"]),
                               "stories_action_accuracy": stories["action_accuracy"]}
    if nlu and "intents" in nlu:
        b = nlu["intents"]
        found.update(nlu_accuracy=b["accuracy"], nlu_macro_f1=b["macro_f1"], nlu_rejected_share=b["rejected_share"])
    if nlu and "oos" in nlu:
        found["oos_rejection_rate"] = nlu["oos"]["rejection_rate"]
    for key, prefix in (("challenge", "challenge"), ("cross_validation", "cv")):
        part = (nlu or {}).get(key) or {}
        if "intents" in part:
            found.update({f"{prefix}_accuracy": part["intents"]["accuracy"],
                          f"{prefix}_macro_f1": part["intents"]["macro_f1"]})
        if key == "challenge" and "oos" in part:
            found["challenge_oos_rejection_rate"] = part["oos"]["rejection_rate"]
    return found


def plot(nlu: dict[str, Any]) -> list[str]:
    """Per-intent accuracy / F1 as a PNG; the confusion matrix PNG was already written by the NLU evaluation.
    Returns the file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    b = nlu["intents"]
    labels = list(b["per_intent_f1"])
    fig, ax = plt.subplots(figsize=(12, 5))
    xs = range(len(labels))
    ax.bar([x - 0.2 for x in xs], [b["per_intent_accuracy"][k] for k in labels], width=0.4, label="accuracy")
    ax.bar([x + 0.2 for x in xs], [b["per_intent_f1"][k] for k in labels], width=0.4, label="F1")
    ax.set_xticks(list(xs), labels, rotation=90, fontsize=7)
    ax.set_ylim(0, 1.05)
    ax.set_title("Per-intent accuracy and F1 (Bitext)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(REPORTS / "nlu_per_intent.png", dpi=110)
    plt.close(fig)
    return ["nlu_confusion.png", "nlu_per_intent.png"]


def _delta(name: str, value: float, previous: dict[str, Any]) -> str:
    old = (previous.get("figures") or {}).get(name)
    if old is None:
        return "new"
    change = value - old
    if abs(change) < 1e-9:
        return "="
    better = (change > 0) == FIGURES[name][1]
    number = f"{change:+d}" if isinstance(value, int) and isinstance(old, int) else f"{change:+.3f}"
    return f"{number} ({'better' if better else 'worse'})"


def _fmt(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:.3f}"


def sections(report: dict[str, Any], previous: dict[str, Any]) -> list[tuple[str, list[list[str]], str]]:
    """(title, table rows with a header row, text) for each part of the report."""
    figs = report["figures"]
    parts = [("Figures", [["figure", "value", f"change since {previous.get('created', 'the previous report')}"]]
              + [[FIGURES[k][0], _fmt(v), _delta(k, v, previous)] for k, v in figs.items()], "")]
    stories = report["stories"]
    failed = "\n".join(f"- {name}" for name in stories["failed"]) or "None: every test story passed."
    parts.append(("Test stories", [["stories", "passed", "action accuracy"],
                                   [str(stories["total"]), str(stories["correct"]), _fmt(stories["action_accuracy"])]],
                  f"Failed stories (details in reports/stories/failed_test_stories.yml):\n\n{failed}"))
    nlu = report.get("nlu")
    if nlu and "intents" in nlu:
        b = nlu["intents"]
        old_f1 = ((previous.get("nlu") or {}).get("intents") or {}).get("per_intent_f1") or {}
        rows = [["intent", "accuracy", "F1", "F1 change"]]
        for label, f1 in b["per_intent_f1"].items():
            change = f"{f1 - old_f1[label]:+.3f}" if label in old_f1 else "new"
            rows.append([label, _fmt(b["per_intent_accuracy"][label]), _fmt(f1), change])
        confusions = "\n".join(f"- {c['gold']} → {c['predicted']}: {c['count']}" for c in b["top_confusions"])
        parts.append(("NLU per intent", rows, f"Costliest confusions:\n\n{confusions}"))
    return parts


def markdown(report: dict[str, Any], previous: dict[str, Any], plots: list[str]) -> str:
    lines = ["# Concierge bot report", "", f"Created {report['created']} for `{report['model']}` "
             f"(NLU sample: {report['nlu_limit']} utterances; took {report['seconds']} s).", ""]
    for title, rows, text in sections(report, previous):
        lines += [f"## {title}", "", "| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        lines += ["| " + " | ".join(r) + " |" for r in rows[1:]] + [""] + ([text, ""] if text else [])
    lines += [f"![{name}]({name})" for name in plots]
    return "\n".join(lines) + "\n"


def to_html(report: dict[str, Any], previous: dict[str, Any], plots: list[str]) -> str:
    body = [f"<h1>Concierge bot report</h1><p>Created {html.escape(report['created'])} for "
            f"<code>{html.escape(report['model'])}</code> (NLU sample: {report['nlu_limit']} utterances; "
            f"took {report['seconds']} s).</p>"]
    for title, rows, text in sections(report, previous):
        head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
        cells = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows[1:])
        body.append(f"<h2>{html.escape(title)}</h2><table><tr>{head}</tr>{cells}</table>")
        if text:
            body.append("<pre>" + html.escape(text) + "</pre>")
    body += [f'<h2>{html.escape(name)}</h2><img src="{name}" alt="{name}">' for name in plots]
    style = ("body{font-family:sans-serif;margin:2em;max-width:1300px}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}img{max-width:100%}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Concierge bot report</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=1000, help="stratified NLU sample size (fixed seed)")
    parser.add_argument("--cv", type=int, default=None, metavar="K",
                        help="add a K-fold cross-validation of the NLU (K trainings, about 3 minutes each)")
    args = parser.parse_args(argv)
    if not MODEL.exists():
        print(f"report: no trained model at {MODEL}; run scripts/train.sh first.", file=sys.stderr)
        return 1
    started = time.monotonic()
    REPORTS.mkdir(exist_ok=True)
    nlu = run_nlu(args.limit, args.cv)
    stories = run_stories()
    current = REPORTS / "report.json"
    if current.exists():
        PREVIOUS.parent.mkdir(exist_ok=True)
        shutil.copy(current, PREVIOUS)
    previous = json.loads(PREVIOUS.read_text()) if PREVIOUS.exists() else {}
    report = {"created": utcnow().strftime("%Y-%m-%d %H:%M UTC"),
              "model": str(MODEL.relative_to(ROOT)), "nlu_limit": args.limit,
              "figures": figures(nlu, stories), "stories": stories, "nlu": nlu,
              "seconds": round(time.monotonic() - started, 1)}
    plots = plot(nlu) if nlu and "intents" in nlu else []
    current.write_text(json.dumps(report, indent=2) + "\n")
    (REPORTS / "report.md").write_text(markdown(report, previous, plots))
    (REPORTS / "report.html").write_text(to_html(report, previous, plots))
    print(f"report: reports/report.md and reports/report.html written in {report['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
