"""`python -m bench [--quick | --cluster] [--profile]`: run every benchmark, print each figure, write reports/bench.json
and bench.md (`--cluster`: the production figures, into reports/bench-cluster.json and bench-cluster.md;
`--profile`: the bot section alone, then one more round of Concierge with py-spy on each of its processes, into
reports/bench-profile.json and bench-profile.md, the samples into reports/profile/).

Order: the bare `rasa init` bot (created, trained, loaded), the Concierge stack (started, loaded, memory,
escalation latency via bench/escalation.py when present), training time (full mode), then the figures of
other commands when they exist (routing tier lookup, claims, outbox delivery, NLU evaluation). `--cluster`: the bare
bot, the embedded stack and the cluster with 1 and 2 replicas at 10 and 50 concurrent conversations
(bench/production.py), tier look-ups on PostgreSQL at 1M customers, claims against 1 and 2 routing processes.
Benchmarks report; they do not judge: the exit code is 0 unless a section could not run at all.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import bots, extras, production
from bench.machine import machine_facts
from bench.plan import CLUSTER, FULL, QUICK, Plan
from bench.report import SKIPPED, Figure, Report, render_markdown, write
from bench.training import time_training
from launcher.settings import ROOT

REPORTS = ROOT / "reports"
PROFILES = REPORTS / "profile"


def _section(report: Report, name: str, step: Callable[[], object]) -> bool:
    """Run one section; an exception becomes an "error" figure instead of ending the run."""
    print(f"\n== {name}", flush=True)
    started = time.monotonic()
    try:
        step()
        return True
    except Exception as exc:
        traceback.print_exc()
        report.add(Figure(name, "error", f"error: {type(exc).__name__}: {exc}"[:300]))
        return False
    finally:
        seconds = round(time.monotonic() - started, 1)
        report.details.setdefault("section_seconds", {})[name] = seconds
        print(f"  ({name}: {seconds} s)", flush=True)


def _start_report(plan: Plan) -> Report:
    """The report with the machine's facts and its load at the start."""
    report = Report(mode=plan.mode, machine=machine_facts())
    load = os.getloadavg()
    report.machine["load_average_at_start"] = " ".join(f"{x:.2f}" for x in load)
    if load[0] > 1.0:
        report.notes.append(f"Other processes were busy when the run started (1-minute load average {load[0]:.2f}): "
                            "timings are pessimistic.")
    report.notes.append(
        "Load: per concurrency level " + ", ".join(f"{n} conversations at {c}" for c, n in plan.conversations.items())
        + f" measured in {plan.rounds} alternating rounds after {plan.warmup_rounds} warm-up conversation(s) per "
        "sender; one sender id per "
        "conversation; loopback only.")
    return report


def run(plan: Plan, work: Path, log_path: Path) -> tuple[Report, bool]:
    """Every section in order; returns the report and whether all sections ran."""
    report = _start_report(plan)
    if plan.nlu_limit is not None:
        report.notes.append(f"NLU evaluation limited to {plan.nlu_limit} Bitext utterances (--quick); "
                            "its report is in reports/bench-nlu/, reports/nlu_eval.json is left alone.")
    ok = True
    with open(log_path, "w") as log:
        ok &= _section(report, bots.VERSUS, lambda: bots.measure_bots(report, plan, work, log, PROFILES))
        if plan.profile:  # where the CPU goes, in minutes: the other sections are left out
            return report, ok
        if plan.train:
            ok &= _section(report, "Training", lambda: report.add(
                Figure("Training", "full model, cold cache (rasa train)", time_training(work, log), "s")))
        else:
            print("\n== Training", flush=True)
            report.add(Figure("Training", "full model, cold cache (rasa train)", SKIPPED + " (--quick)"))
        ok &= _section(report, extras.LOOKUP, lambda: extras.routing_lookup(report, plan, log))
        ok &= _section(report, extras.CLAIMS, lambda: extras.routing_claims(report, plan, log))
        ok &= _section(report, extras.OUTBOX, lambda: extras.outbox_delivery(report, plan, log))
        ok &= _section(report, extras.NLU, lambda: extras.nlu_eval(report, plan, log))
    return report, ok


def run_cluster(plan: Plan, work: Path, log_path: Path) -> tuple[Report, bool]:
    """The production sections: bots on the production stores, look-ups on PostgreSQL, claims in own processes."""
    report = _start_report(plan)
    ok = True
    with open(log_path, "w") as log:
        ok &= _section(report, production.VERSUS, lambda: production.measure(report, plan, work, log))
        ok &= _section(report, extras.LOOKUP, lambda: extras.routing_lookup(report, plan, log))
        ok &= _section(report, extras.CLAIMS, lambda: extras.routing_claims(report, plan, log))
    report.machine["load_average_at_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return report, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="smaller counts, no model training (< 5 minutes)")
    mode.add_argument("--cluster", action="store_true",
                      help="the production figures: the cluster with 1 and 2 replicas beside the embedded stack and "
                           "the bare bot, 1M-customer look-ups on PostgreSQL, claims against separate routing "
                           "processes (reports/bench-cluster.md)")
    parser.add_argument("--profile", action="store_true",
                        help="the bot section alone, then a round of Concierge with py-spy attached to each of its "
                             "processes: where a turn's CPU goes (reports/bench-profile.md, reports/profile/)")
    args = parser.parse_args(argv)
    if args.profile and args.cluster:
        parser.error("--profile profiles the embedded stack: not with --cluster")
    plan = CLUSTER if args.cluster else QUICK if args.quick else FULL
    plan = dataclasses.replace(plan, profile=args.profile)
    stem = "bench-cluster" if args.cluster else "bench-profile" if args.profile else "bench"
    # the benchmarks start development stacks and tools with the development secrets (production is the default)
    os.environ.setdefault("CONCIERGE_ENV", "development")
    print(f"Concierge benchmark, {plan.mode} mode: expected duration about {plan.expected_minutes} minutes "
          "on 2 CPU cores" + ("" if args.quick or args.cluster or args.profile
                               else " (training, 100k-customer lookups and NLU evaluation included)")
          + (" (the first run loads 1M customers into PostgreSQL, kept for the next)" if args.cluster else ""),
          flush=True)
    started = time.monotonic()
    REPORTS.mkdir(exist_ok=True)
    log_path = REPORTS / f"{stem}.log"
    print(f"process logs: {log_path}", flush=True)
    with tempfile.TemporaryDirectory(prefix="concierge-bench-") as tmp:
        report, ok = (run_cluster if args.cluster else run)(plan, Path(tmp), log_path)
    report.details["duration_s"] = round(time.monotonic() - started, 1)
    json_path, md_path = write(report, REPORTS, stem)
    print("\n" + render_markdown(report))
    print(f"duration {report.details['duration_s']} s; wrote {json_path} and {md_path}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
