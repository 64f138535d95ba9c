"""Command-line subcommands of the capacity planner: `python -m routing.cli capacity erlang | plan | simulate`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from clock import utcnow
from routing.capacity.erlang import Staffing, staff
from routing.capacity.erlang_a import StaffingA, staff_a
from routing.capacity.report import summary, write_plan
from routing.capacity.service import METHODS, PlanOptions, make_plan
from routing.db import command_session
from routing.settings import Settings


def cmd_capacity_erlang(settings: Settings | None, args: argparse.Namespace) -> int:
    """Agents needed for one interval's arrivals (Erlang C, max_chats, shrinkage)."""
    try:
        result: Staffing | StaffingA = (
            staff_a(args.contacts_per_hour, args.aht_seconds, args.target_level, args.target_seconds,
                    args.patience_seconds, args.max_chats, args.shrinkage) if args.patience_seconds is not None
            else staff(args.contacts_per_hour, args.aht_seconds, args.target_level, args.target_seconds,
                       args.max_chats, args.shrinkage))
    except ValueError as error:
        raise SystemExit(f"capacity erlang: {error}") from None
    if args.json:
        print(json.dumps(result.as_dict()))
        return 0
    if isinstance(result, StaffingA):
        print(f"{result.agents} agents to schedule ({result.agents_online} online x {result.max_chats} chats, "
              f"shrinkage {100 * result.shrinkage:.0f}%), Erlang A with patience {result.patience_seconds:g} s: "
              f"service level {100 * result.service_level:.1f}% in {args.target_seconds:g} s, abandonment "
              f"{100 * result.probability_abandon:.1f}%, mean wait {result.mean_wait_seconds:.1f} s, occupancy "
              f"{100 * result.occupancy:.1f}%, traffic {result.traffic_erlangs:.2f} Erlangs")
    else:
        print(f"{result.agents} agents to schedule ({result.agents_online} online x {result.max_chats} chats, "
              f"shrinkage {100 * result.shrinkage:.0f}%): service level {100 * result.service_level:.1f}% in "
              f"{args.target_seconds:g} s, ASA {result.asa_seconds:.1f} s, occupancy {100 * result.occupancy:.1f}%, "
              f"traffic {result.traffic_erlangs:.2f} Erlangs")
    return 0


def cmd_capacity_plan(settings: Settings, args: argparse.Namespace) -> int:
    """Write the staffing plan per queue and hour of the week (plan.json, plan.csv, plan_heatmap.png)."""
    from routing.policy.loader import load_policy

    options = PlanOptions(args.weeks, args.target_level, args.shrinkage, args.method, args.patience_seconds,
                          args.max_chats)
    try:
        with command_session(settings.database_url) as session:
            plan = make_plan(session, load_policy(settings.policy_file), utcnow(), options)
    except ValueError as error:
        raise SystemExit(f"capacity plan: {error}") from None
    paths = write_plan(plan, args.out)
    print(summary(plan))
    print("written: " + ", ".join(str(p) for p in paths))
    return 0


def cmd_capacity_simulate(settings: Settings | None, args: argparse.Namespace) -> int:
    """Closed form against simulation for the standard scenarios."""
    from routing.capacity.check import SCENARIOS, compare  # SimPy only for this command

    if args.hours <= 0:
        raise SystemExit("capacity simulate: --hours must be > 0")
    unknown = sorted(set(args.scenario or []) - {c.name for c in SCENARIOS})
    if unknown:
        raise SystemExit(f"capacity simulate: no scenario {unknown[0]!r}; choose from "
                         f"{', '.join(c.name for c in SCENARIOS)}")
    results = [compare(c, args.hours, args.seed) for c in SCENARIOS if not args.scenario or c.name in args.scenario]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{'scenario':<12}{'figure':<20}{'closed form':>12}{'simulated':>12}")
    for r in results:
        closed, sim = r["closed_form"], r["simulated"]
        print(f"{r['name']}: {r['what']} (target {r['target_seconds']:g} s; {closed['method']})")
        for key, label in (("service_level", "service level"), ("probability_wait", "P(wait)"),
                           ("abandon_rate", "abandoned"), ("mean_wait_seconds", "mean wait (s)")):
            print(f"{'':<12}{label:<20}{closed[key]:>12.4f}{sim[key]:>12.4f}")
        print(f"{'':<12}{'SL 95% CI (sim)':<20}{'':>12}{'+-' + format(sim['service_level_95ci'], '.4f'):>12}")
        for tier, o in r["simulated_by_tier"].items():
            print(f"{'':<12}{'tier ' + tier:<20}{'SL':>12}{o['service_level']:>12.4f}   mean wait "
                  f"{o['mean_wait_seconds']:.1f} s, abandoned {o['abandon_rate']:.4f}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `capacity erlang` to routing.cli's parser."""
    p = sub.add_parser("capacity", help="capacity planning")
    cap_sub = p.add_subparsers(dest="capacity_command", required=True)
    p = cap_sub.add_parser("erlang", help="agents needed for a target service level (Erlang C)")
    p.add_argument("--contacts-per-hour", type=float, required=True)
    p.add_argument("--aht-seconds", type=float, required=True, help="average handle time of one contact")
    p.add_argument("--target-level", type=float, default=0.8, help="share to answer in time (default 0.8)")
    p.add_argument("--target-seconds", type=float, default=20, help="answered within (default 20 s)")
    p.add_argument("--max-chats", type=int, default=1, help="chats an agent handles at once (default 1)")
    p.add_argument("--shrinkage", type=float, default=0.0, help="share of paid time off the queue (default 0)")
    p.add_argument("--patience-seconds", type=float,
                   help="customers' mean patience: Erlang A (abandons count as missed) instead of Erlang C")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_capacity_erlang, needs_settings=False)

    p = cap_sub.add_parser("plan", help="staffing per queue and hour of the week from the history (CSV, JSON, PNG)")
    p.add_argument("--weeks", type=int, default=4, choices=range(1, 27), metavar="1..26",
                   help="weeks of history to average (default 4)")
    p.add_argument("--out", type=Path, default=Path("reports/capacity"), help="output folder")
    p.add_argument("--target-level", type=float, default=0.8, help="share answered within the queue's SLA (0.8)")
    p.add_argument("--shrinkage", type=float, default=0.0, help="share of paid time off the queue (default 0)")
    p.add_argument("--method", choices=METHODS, default="auto",
                   help="auto (default): Erlang A where abandons were seen, else Erlang C")
    p.add_argument("--patience-seconds", type=float, help="mean patience for every queue, instead of the history's")
    p.add_argument("--max-chats", type=int, help="chats per agent for every queue, instead of the roster's median")
    p.set_defaults(func=cmd_capacity_plan)

    p = cap_sub.add_parser("simulate", help="closed form (Erlang C / A) against a discrete-event simulation")
    p.add_argument("--hours", type=float, default=400, help="simulated hours per scenario (default 400)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--scenario", action="append", help="only this scenario (repeatable; default: all; erlang-c, "
                   "max-chats, erlang-a, priorities, lognormal, vip-routed)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_capacity_simulate, needs_settings=False)
