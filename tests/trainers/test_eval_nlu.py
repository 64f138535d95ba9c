"""`scripts/eval_nlu.py` scores any labelled CSV with the trained model (bot runtime, real model)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "eval_nlu.py"
MODEL = ROOT / "models" / "concierge.tar.gz"

# written for this test (not from the shared datasets): clear in-scope questions, one out-of-scope query
ROWS = """text,intent
where is my parcel? it hasn't arrived,track_order
I forgot my password and can't log in,recover_password
which payment methods do you accept?,check_payment_methods
how do I get my money back for a broken kettle,get_refund
I want to talk to a real person,contact_human_agent
what's the best way to train for a marathon,out_of_scope
"""


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.skipif(not MODEL.exists(), reason="no trained model: run scripts/train.sh (make test does it)")
def test_any_labelled_csv_is_scored_with_figures_and_a_confusion_matrix(tmp_path: Path) -> None:
    data = tmp_path / "mine.csv"
    data.write_text(ROWS)
    out = tmp_path / "out"

    result = _run("--data", str(data), "--out", str(out), "--min-accuracy", "0.8")

    assert result.returncode == 0, result.stderr[-2000:]
    assert "accuracy: **" in result.stdout and "macro-F1: **" in result.stdout
    assert "not confidently mapped to an in-scope intent" in result.stdout
    report = json.loads((out / "nlu_eval.json").read_text())
    assert report["sources"] == [str(data)]
    assert report["intents"]["examples"] == 5 and report["oos"]["examples"] == 1
    assert report["intents"]["accuracy"] >= 0.8, report["intents"]["top_confusions"]
    assert set(report["intents"]["per_intent_f1"]) == {"track_order", "recover_password", "check_payment_methods",
                                                      "get_refund", "contact_human_agent"}
    png = (out / "nlu_confusion.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_a_csv_without_the_needed_columns_gets_a_clear_error(tmp_path: Path) -> None:
    data = tmp_path / "bad.csv"
    data.write_text("sentence,label\nhello,greet\n")

    result = _run("--data", str(data), "--out", str(tmp_path / "out"))

    assert result.returncode == 2
    assert "needs a 'text' (or 'utterance') column and an 'intent' column; it has sentence, label" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists(), "nothing is written for bad input"


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    result = _run("--data", str(tmp_path / "nope.csv"))
    assert result.returncode == 2 and "nope.csv: no such file" in result.stderr
