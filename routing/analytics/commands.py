"""Command-line subcommand of the operations figures: `python -m routing.cli report ops`."""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from clock import utcnow
from routing.analytics.report import summary, write_report
from routing.analytics.service import DEFAULT_DAYS, Filters, day_range, operations_figures
from routing.db import command_session
from routing.policy.intents import KNOWN_INTENTS
from routing.settings import Settings


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-02") from None


def cmd_report_ops(settings: Settings, args: argparse.Namespace) -> int:
    """Write the operations figures of [since, until] (whole UTC days) as JSON, CSV and PNG."""
    today = utcnow().date()
    until: date = args.until or today
    since: date = args.since or until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        raise SystemExit(f"--since {since} is after --until {until}")
    with command_session(settings.database_url) as session:
        figures = operations_figures(session, *day_range(since, until),
                                     Filters(args.tier, args.queue, args.agent, args.intent), args.threshold)
    paths = write_report(figures, args.out)
    print(summary(figures))
    print("written: " + ", ".join(str(p) for p in paths))
    return 0


def cmd_demo_simulate(settings: Settings, args: argparse.Namespace) -> int:
    """Write a demo history (development only; once per database)."""
    from routing.agents.demo import create_demo_agents
    from routing.analytics.simulate import simulate
    from routing.decisions.models import RoutingDecision
    from routing.policy.loader import load_policy

    if settings.env != "development":
        raise SystemExit("demo simulate writes invented conversations: it runs only with CONCIERGE_ENV=development")
    with command_session(settings.database_url) as session, session.begin():
        if session.scalars(select(RoutingDecision.id).where(RoutingDecision.conversation_id.like("sim-%"))
                           .limit(1)).first() is not None:
            print("demo history already there; nothing written")
            return 0
        create_demo_agents(session)
        made = simulate(session, load_policy(settings.policy_file), utcnow(), args.weeks, args.seed)
    print(f"demo history of {args.weeks} weeks: {made.contacts} contacts, {made.escalations} escalations, "
          f"{made.ratings} CSAT ratings")
    return 0


def register_demo(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `demo simulate` to routing.cli's parser."""
    p = sub.add_parser("demo", help="demo data (development only)")
    demo_sub = p.add_subparsers(dest="demo_command", required=True)
    p = demo_sub.add_parser("simulate", help="write weeks of invented conversations, escalations and ratings")
    p.add_argument("--weeks", type=int, default=4, choices=range(1, 27), metavar="1..26", help="default 4")
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(func=cmd_demo_simulate)


def register(report_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `report ops` to routing.cli's `report` command."""
    p = report_sub.add_parser("ops", help="operations figures per tier, queue, agent, intent (JSON, CSV, PNG)")
    p.add_argument("--since", type=_day, help="first day (UTC), default: 27 days before --until")
    p.add_argument("--until", type=_day, help="last day (UTC, included), default: today")
    p.add_argument("--out", type=Path, default=Path("reports/ops"), help="output folder")
    p.add_argument("--tier", help="only this tier")
    p.add_argument("--queue", help="only this queue")
    p.add_argument("--agent", help="only this agent (login)")
    p.add_argument("--intent", choices=sorted(KNOWN_INTENTS), metavar="INTENT", help="only this intent")
    p.add_argument("--threshold", type=int, default=20,
                   help="seconds of the 'X%% answered in T seconds' service level (default 20)")
    p.set_defaults(func=cmd_report_ops)
