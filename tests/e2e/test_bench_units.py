"""The pure parts of `make bench`: percentiles, report rendering, JSON parsing, process trees, the load generator."""

from __future__ import annotations

import asyncio
import json
import math
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.bots import alternating_load
from bench.commands import last_json_object, numeric_leaves
from bench.fixture import database_name, fixture_label, load_seconds_if_loaded, loaded_label, shop_chunks
from bench.memory import ThreadCpu, TreeCpu, descendants, tree_cpu_seconds, tree_rss_mb
from bench.plan import CLUSTER
from bench.production import cpu_per_message, replica_shares
from bench.profile import Frame, own_inclusive_table, parse_folded, shares, speedscope, top_table
from bench.report import Figure, Report, Table, format_value, render_markdown, to_json, write
from bench.rest_load import LoadResult, rest_webhook, run_load
from bench.stats import latency_summary_ms, percentile, ratio
from launcher.settings import ROOT


def test_percentile_interpolates_like_numpy() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 2.5
    assert percentile(values, 100) == 4.0
    assert percentile(values, 95) == pytest.approx(3.85)
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))


def test_percentile_rejects_out_of_range() -> None:
    with pytest.raises(ValueError, match="0..100"):
        percentile([1.0], 101)


def test_latency_summary_is_in_milliseconds() -> None:
    summary = latency_summary_ms([0.010, 0.020, 0.030])
    assert summary["p50_ms"] == pytest.approx(20.0)
    assert summary["max_ms"] == pytest.approx(30.0)
    assert summary["mean_ms"] == pytest.approx(20.0)
    assert math.isnan(latency_summary_ms([])["p99_ms"])


def test_ratio_handles_missing_values() -> None:
    assert ratio(3.0, 2.0) == 1.5
    assert math.isnan(ratio(1.0, 0.0))
    assert math.isnan(ratio(float("nan"), 2.0))


def test_format_value() -> None:
    assert format_value(float("nan"), "ms") == "n/a"
    assert format_value("skipped") == "skipped"
    assert format_value(1234.0, "MB") == "1,234 MB"
    assert format_value(12.345, "ms") == "12.3 ms"
    assert format_value(0.01234, "x") == "0.0123 x"
    assert format_value(7) == "7"


def _report() -> Report:
    report = Report(mode="quick", machine={"cpu_model": "Test CPU", "cpu_cores": 2})
    report.figures += [
        Figure("Bot", "10 concurrent: messages/s ratio", 1.7, "x", target=">= 1.5x", met=True),
        Figure("Bot", "p50 | ratio", float("nan"), "x", target="<= 1.0x", met=False),
        Figure("Training", "full model", "skipped (--quick)"),
    ]
    report.notes.append("timings are pessimistic")
    return report


def test_markdown_has_machine_facts_and_one_row_per_figure() -> None:
    text = render_markdown(_report())
    assert "| cpu_model | Test CPU |" in text
    assert "| Bot | 10 concurrent: messages/s ratio | 1.7 x | >= 1.5x | met |" in text
    assert "| Bot | p50 \\| ratio | n/a | <= 1.0x | NOT met |" in text
    assert "| Training | full model | skipped (--quick) | - | - |" in text
    assert text.endswith("Notes:\n\n- timings are pessimistic\n")


def test_json_is_strict_and_keeps_every_figure(tmp_path: Path) -> None:
    data = json.loads(to_json(_report()))
    assert data["machine"]["cpu_cores"] == 2
    assert [f["value"] for f in data["figures"]] == [1.7, None, "skipped (--quick)"]
    json_path, md_path = write(_report(), tmp_path)
    assert json.loads(json_path.read_text())["mode"] == "quick"
    assert md_path.read_text().startswith("# Concierge benchmark (quick mode)")


def test_last_json_object_skips_the_printed_table() -> None:
    out = 'key   p50 ms\nemail  0.3\n{"customers": 10, "email": {"p50_ms": 0.3}}\n'
    assert last_json_object(out) == {"customers": 10, "email": {"p50_ms": 0.3}}
    with pytest.raises(ValueError):
        last_json_object("no json here\n[1, 2]\n")


def test_numeric_leaves_flattens_numbers_only() -> None:
    data = {"backend": "sqlite", "ok": True, "email": {"p50_ms": 0.3, "p99_ms": 1}, "stream": None}
    assert numeric_leaves(data) == {"email.p50_ms": 0.3, "email.p99_ms": 1}


def test_descendants_walks_the_whole_tree() -> None:
    parents = {10: 1, 11: 10, 12: 11, 13: 10, 20: 1}
    assert descendants(10, parents) == {10, 11, 12, 13}
    assert descendants(20, parents) == {20}


def test_tree_rss_of_this_process_is_positive() -> None:
    assert tree_rss_mb({"pytest": os.getpid()})["pytest"] > 1.0


def test_load_generator_refuses_other_hosts() -> None:
    assert rest_webhook("http://127.0.0.1:5005/") == "http://127.0.0.1:5005/webhooks/rest/webhook"
    with pytest.raises(ValueError, match="loopback"):
        rest_webhook("http://example.com:5005")


class _EchoBot(BaseHTTPRequestHandler):
    """A REST channel that answers every message with one text; counts requests and senders."""

    requests: list[str] = []
    keys: list[str | None] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body["sender"])
        type(self).keys.append(self.headers.get("X-Conversation-Id"))
        replies = [] if body["message"] == "silence" else [{"recipient_id": body["sender"], "text": "ok"}]
        payload = json.dumps(replies).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def echo_bot() -> Iterator[str]:
    _EchoBot.requests = []
    _EchoBot.keys = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoBot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_load_generator_counts_only_measured_turns(echo_bot: str) -> None:
    result = asyncio.run(run_load(echo_bot, lambda i: ("hi", "silence", "bye"), concurrency=3, conversations=5,
                                  warmup_conversations=2))
    assert result.messages == 15 and result.errors == 0
    assert result.empty_replies == 5
    assert len(_EchoBot.requests) == 21  # 2 warm-up conversations + 5 measured, 3 turns each
    assert len(set(_EchoBot.requests)) == 7  # one sender id per conversation
    assert _EchoBot.keys == _EchoBot.requests  # nginx's key for spreading conversations over Rasa replicas
    assert result.transcript == [("hi", ["ok"]), ("silence", []), ("bye", ["ok"])]
    summary = result.summary()
    assert summary["messages_per_s"] > 0 and summary["p50_ms"] <= summary["p99_ms"]
    assert len(summary["p50_ms_by_turn"]) == 3


def test_alternating_load_ratios_each_round_and_counts_cpu(echo_bot: str) -> None:
    plan = replace(CLUSTER, concurrency_levels=(2,), conversations={2: 4}, rounds=2)
    calls: list[str] = []

    def cpu(name: str) -> dict[str, float]:
        calls.append(name)
        return {"rasa": float(len(calls)), "actions": 0.5 * len(calls)}  # grows between readings of a round

    bots = {"bare": (echo_bot, lambda i: ("hi",)), "ours": (echo_bot, lambda i: ("hi", "bye"))}
    loaded = alternating_load(bots, plan, baseline="bare", cpu={"ours": lambda: cpu("ours")})
    assert loaded.results["bare"][2].messages == 4 and loaded.results["ours"][2].messages == 8
    assert list(loaded.round_ratios) == ["ours"] and len(loaded.round_ratios["ours"][2]) == 2
    assert loaded.cpu_seconds == {"ours": {2: {"rasa": 2.0, "actions": 1.0}}}  # two rounds, per process
    assert loaded.results["ours"][2].cpu_by_turn == {}  # turns overlap at 2 concurrent: not probed


def test_one_sender_at_a_time_gets_the_cpu_of_each_turn(echo_bot: str) -> None:
    readings = iter(range(1000))

    def probe() -> dict[str, float]:
        n = next(readings)
        return {"rasa": n * 0.010, "routing": n * 0.001}  # each turn: 10 ms and 1 ms

    result = asyncio.run(run_load(echo_bot, lambda i: ("hi", "bye"), concurrency=1, conversations=3,
                                  warmup_conversations=1, probe=probe))
    assert result.messages == 6
    by_turn = result.cpu_ms_by_turn()
    assert set(by_turn) == {0, 1}
    assert by_turn[0] == {"rasa": pytest.approx(10.0), "routing": pytest.approx(1.0)}
    merged = LoadResult(concurrency=1, conversations=0)
    merged.add(result)
    merged.add(result)
    assert merged.cpu_ms_by_turn()[1]["rasa"] == pytest.approx(10.0)


def test_tree_cpu_reads_each_named_process() -> None:
    reading = TreeCpu({"me": os.getpid()})()
    assert set(reading) == {"me"} and reading["me"] > 0


def test_thread_cpu_counts_from_its_start_and_never_goes_back() -> None:
    cpu = ThreadCpu({"me": os.getpid()})
    start = cpu()["me"]
    assert 0 <= start < 0.05

    def spin() -> None:
        deadline = time.thread_time() + 0.05
        while time.thread_time() < deadline:
            pass

    worker = threading.Thread(target=spin)
    worker.start()
    time.sleep(0.01)
    during = cpu()["me"]  # reads the worker while it runs
    worker.join()
    after = cpu()["me"]  # the worker is gone: what it used stays counted
    assert during - start > 0.001  # the worker's run time so far
    assert after >= during  # though its thread is gone


FOLDED = (
    "process 7:\"python -m bot_runtime run\";<module> (/x/.venv/bot/lib/python3.10/site-packages/rasa/__main__.py:1);"
    f"handle_message ({ROOT}/bot_runtime/resend_once.py:41);"
    "retrieve (/x/.venv/bot/lib/python3.10/site-packages/rasa/core/tracker_store.py:900);"
    "loads (/usr/lib/python3.10/json/__init__.py:299) 6\n"
    "<module> (/x/.venv/bot/lib/python3.10/site-packages/rasa/__main__.py:1);"
    f"handle_message ({ROOT}/bot_runtime/resend_once.py:41) 2\n"
    "<module> (/x/.venv/bot/lib/python3.10/site-packages/rasa/__main__.py:1);"
    "execute (/x/.venv/bot/lib/python3.10/site-packages/sqlalchemy/engine/base.py:10) 2\n"
    "garbage line\n"
)


def test_profile_shares_attribute_each_sample_to_its_deepest_own_or_rasa_function() -> None:
    stacks = parse_folded(FOLDED)
    assert sum(stacks.values()) == 10
    found = shares(stacks)
    retrieve = next(f for f in found.attributed if f.startswith("retrieve "))
    handle = next(f for f in found.attributed if f.startswith("handle_message "))
    main = next(f for f in found.attributed if f.startswith("<module> "))
    assert found.attributed[retrieve] == pytest.approx(0.6)  # json under it counts for it
    assert found.attributed[handle] == pytest.approx(0.2)
    assert found.attributed[main] == pytest.approx(0.2)  # sqlalchemy called from it
    assert found.inclusive[handle] == pytest.approx(0.8) and found.inclusive[main] == pytest.approx(1.0)
    assert found.leaf_origin == {"stdlib:json": pytest.approx(0.6), "own": pytest.approx(0.2),
                                 "sqlalchemy": pytest.approx(0.2)}
    assert Frame.parse(handle).where == "bot_runtime/resend_once.py" and Frame.parse(handle).origin == "own"
    table = top_table("rasa", found, cpu_ms_per_message=20.0)
    assert table.rows[0][:5] == ["retrieve", "rasa/core/tracker_store.py:900", "60.0%", "60.0%", "12.00"]
    own = own_inclusive_table({"rasa": (found, 20.0)})
    assert [row[1] for row in own.rows] == ["handle_message"] and own.rows[0][4] == "16.00"


def test_speedscope_file_keeps_every_sample() -> None:
    stacks = parse_folded(FOLDED)
    doc = speedscope(stacks, "rasa")
    profile = doc["profiles"][0]  # type: ignore[index]
    assert profile["type"] == "sampled" and sum(profile["weights"]) == 10
    frames = doc["shared"]["frames"]  # type: ignore[index]
    assert len(frames) == 5 and {"name": "loads", "file": "/usr/lib/python3.10/json/__init__.py", "line": 299} in frames
    assert all(max(sample) < len(frames) for sample in profile["samples"])


def test_report_renders_tables_after_the_figures() -> None:
    report = _report()
    report.add_table(Table("CPU per turn", ["turn", "rasa"], [["1", "12.5"]], "a note"))
    text = render_markdown(report)
    assert "### CPU per turn\n\n| turn | rasa |\n|---|---|\n| 1 | 12.5 |\n\na note" in text
    assert text.index("### CPU per turn") > text.index("| Training |")


def test_shop_chunks_keep_ids_and_keys_unique() -> None:
    now = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)
    parts = list(shop_chunks(25, seed=3, now=now, chunk=10))
    customers = [c for p in parts for c in p.customers]
    orders = [o for p in parts for o in p.orders]
    assert [c["id"] for c in customers] == list(range(1, 26))  # no demo accounts
    for key in ("external_id", "email", "email_lower"):
        assert len({c[key] for c in customers}) == 25
    assert [o["id"] for o in orders] == list(range(1, len(orders) + 1))
    assert len({o["number"] for o in orders}) == len(orders)
    assert {o["customer_id"] for o in orders} <= set(range(1, 26))
    assert customers[12]["external_id"] == "cust-0000013" and str(customers[12]["email"]).endswith("13@example.com")
    assert all(p.items == [] for p in parts)
    assert [c["email"] for c in customers] == [c["email"] for p in shop_chunks(25, 3, now, 10) for c in p.customers]


def test_fixture_label_round_trip_and_names() -> None:
    wanted = fixture_label(1_000_000, 7, "abc123")
    assert load_seconds_if_loaded(loaded_label(wanted, 312.44), wanted) == pytest.approx(312.4)
    assert load_seconds_if_loaded(loaded_label(fixture_label(100_000, 7, "abc123"), 9.0), wanted) is None
    assert load_seconds_if_loaded(None, wanted) is None
    assert load_seconds_if_loaded(wanted, wanted) is None  # labelled before the load finished: load again
    assert database_name(1_000_000) == "concierge_bench_1m"
    assert database_name(100_000) == "concierge_bench_100k"
    assert database_name(2500) == "concierge_bench_2500"


def test_replica_shares_count_rest_posts_per_upstream() -> None:
    log = ("2026-11-30T18:00:00+00:00 23000 POST /webhooks/rest/webhook 200 127.0.0.1:23003 bench-a 0.120\n"
           "2026-11-30T18:00:00+00:00 23000 POST /webhooks/rest/webhook 200 127.0.0.1:23006 bench-b 0.100\n"
           "2026-11-30T18:00:01+00:00 23000 POST /webhooks/rest/webhook 200 127.0.0.1:23003 bench-a 0.090\n"
           "2026-11-30T18:00:01+00:00 23000 GET /status 200 127.0.0.1:23003 - 0.001\n"
           "2026-11-30T18:00:01+00:00 23002 POST /api/v1/decisions 200 127.0.0.1:23005 - 0.010\n")
    assert replica_shares(log, 23000) == {"127.0.0.1:23003": 2, "127.0.0.1:23006": 1}


def test_cpu_per_message_and_process_tree_cpu() -> None:
    result = LoadResult(concurrency=1, conversations=1, messages=40)
    assert cpu_per_message(2.0, result) == pytest.approx(50.0)
    assert math.isnan(cpu_per_message(1.0, LoadResult(concurrency=1, conversations=0)))
    assert tree_cpu_seconds([os.getpid()]) > 0
