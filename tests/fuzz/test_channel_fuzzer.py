"""The channel fuzzer (fuzz/channels.py): its cases replay byte for byte, and a fixed-seed run against a real stack
finds no crash, no 5xx, no hang and no unanswered channel event. This run is CI's channel fuzzing step."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from fuzz.channel_cases import TOKEN_MARK, Case, cases  # noqa: E402
from fuzz.channel_shrink import metadata_keys, without  # noqa: E402
from fuzz.channel_values import SWEEP, deep_list, undecodable  # noqa: E402

CASES, SEED = 150, 1  # the sweep (84 cases) and 66 random ones: about 40 s after the stack's start
BOUND = 900  # seconds before the run is stopped (a failing run confirms and shrinks, waiting for Rasa's restarts)


def test_the_same_seed_gives_the_same_cases_and_each_line_replays_exactly() -> None:
    first, again = list(cases(SEED, CASES)), list(cases(SEED, CASES))
    assert [c.line() for c in first] == [c.line() for c in again]
    assert [c.line() for c in cases(SEED + 1, CASES)] != [c.line() for c in first]
    for case in first:
        line = case.line()
        assert line.isascii() and "\n" not in line
        replayed = Case.from_line(line)
        assert replayed == case
        assert replayed.payload("tok") == case.payload("tok") and replayed.packets("tok") == case.packets("tok")
    assert {c.channel for c in first} == {"rest", "socketio"}


def test_other_seeds_generate_too() -> None:
    for seed in (2, 3, 7):  # seed 7 once combined two text changes, the second finding no text to remove
        assert len({c.kind for c in cases(seed, 300)}) > 100


def test_the_sweep_puts_each_value_in_every_metadata_key_on_both_channels() -> None:
    opening = list(cases(SEED, 2 * len(SWEEP)))
    assert [c.channel for c in opening[:2]] == ["rest", "socketio"]
    first = json.loads(opening[0].body)
    assert first["metadata"]["customer_token"] == "\ud800" == first["metadata"]["timezone"]
    assert "\\ud800" in opening[0].body and "\\ud800" in opening[1].frames[0]  # sent as JSON escapes
    assert opening[1].session == json.loads(opening[1].frames[0][2:])[1]["session_id"]


def test_a_failing_case_shrinks_one_metadata_key_at_a_time() -> None:
    rest, socket = cases(SEED, 2)
    for case in (rest, socket):
        keys = metadata_keys(case)
        assert keys[:2] == ["customer_token", "timezone"] and len(keys) == 7
        fewer = without(case, "customer_token")
        assert metadata_keys(fewer) == keys[1:] and fewer.line().isascii()
        assert fewer.kind.endswith("metadata keys kept: 'timezone', 'message_id', 'source', 'relay_id', "
                                   "'\\u202eyek', 'nested'")  # repr: the RTL mark escaped
    assert json.loads(without(rest, "nested").body)["metadata"]["timezone"] == "\ud800"
    assert without(socket, "nested").session == socket.session
    numbers = Case(0, "rest", "x", body='{"sender":"a","message":"hi","metadata":{"a":1e309,"b":NaN}}')
    assert without(numbers, "a").body == '{"sender":"a","message":"hi","metadata":{"b":NaN}}'  # sent as written


def test_a_case_sent_again_gets_a_conversation_of_its_own() -> None:
    rest, socket = cases(SEED, 2)
    assert json.loads(rest.fresh(3).body)["sender"] == "chanfuzz-00000-3"
    assert json.loads(rest.fresh(3).fresh(4).body)["sender"] == "chanfuzz-00000-4"
    again = socket.fresh(5)
    assert again.session == "chanfuzz-00001-5" == json.loads(again.frames[0][2:])[1]["session_id"]
    assert again.kind == socket.kind and again.frames[0].replace("-5", "") == socket.frames[0]


def test_packets_python_engineio_cannot_decode_are_told_apart() -> None:
    assert undecodable('42["x",' + deep_list(990).text + "]")
    assert undecodable('42["x",{"a":' + "9" * 101 + "}]")
    assert not undecodable('42["x",{"a":"' + "9" * 200 + '"}]')  # digits in a string are text
    assert not undecodable('42["x",' + deep_list(50).text + "]")
    assert TOKEN_MARK not in Case(0, "rest", "x", body=f'{{"t":"{TOKEN_MARK}"}}').payload("tok").decode()


@pytest.mark.stack
def test_a_fixed_seed_run_breaks_no_rule(tmp_path: Path) -> None:
    model = ROOT / "models" / "concierge.tar.gz"
    if not model.exists():
        pytest.fail("no trained model: run scripts/train.sh (make test does it)")
    started = time.monotonic()
    run = subprocess.Popen(
        [sys.executable, "-m", "fuzz.channels", "--cases", str(CASES), "--seed", str(SEED), "--max-deaths", "3",
         "--out", str(tmp_path)],
        cwd=ROOT, env={**os.environ, "CONCIERGE_ENV": "development"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        out, err = run.communicate(timeout=BOUND)
    except subprocess.TimeoutExpired:
        run.terminate()  # SIGTERM: the fuzzer stops its stack
        out, err = run.communicate(timeout=60)
        pytest.fail(f"the channel fuzzer ran over {BOUND} s:\n{out[-6000:]}")
    print(out[-6000:], err[-3000:])
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert run.returncode == 0, out[-6000:]
    assert summary["cases"] == CASES and summary["process_deaths"] == 0 and not summary["distinct_failures"]
    print(f"{CASES} cases in {summary['seconds']} s ({time.monotonic() - started:.0f} s with the stack's start)")
