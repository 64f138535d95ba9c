"""Command line of the routing service: `python -m routing.cli --help`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from routing.agents.commands import register as register_agent_commands
from routing.analytics.commands import register as register_ops_report
from routing.analytics.commands import register_demo as register_demo_commands
from routing.capacity.commands import register as register_capacity_commands
from routing.db import command_session, upgrade
from routing.escalations.commands import register as register_escalation_commands
from routing.policy.definition import Policy
from routing.policy.loader import PolicyError, load_policy
from routing.proxies import uvicorn_options
from routing.settings import Settings, get_settings


def _policy(settings: Settings) -> Policy:
    return load_policy(settings.policy_file)


def cmd_init(settings: Settings, args: argparse.Namespace) -> int:
    upgrade(settings.database_url)
    print(f"routing: database ready ({settings.database_url.split('@')[-1]})")
    if args.demo_customers > 0:
        from routing.demo import load_demo

        with command_session(settings.database_url) as session, session.begin():
            if load_demo(session, _policy(settings), args.demo_customers, seed=args.seed):
                print(f"routing: demo shop loaded ({args.demo_customers} customers + 4 demo accounts), tiers computed")
        if settings.env == "development":
            from routing.agents.demo import create_demo_agents

            with command_session(settings.database_url) as session, session.begin():
                if create_demo_agents(session):
                    print("routing: demo agents alice (vip, priority), bob (priority, general), carol (general), "
                          "lena (lead); password 'demo'")
    return 0


def cmd_tiers_recompute(settings: Settings, args: argparse.Namespace) -> int:
    from routing.tiers.service import recompute_all

    with command_session(settings.database_url) as session, session.begin():
        print(f"routing: tiers recomputed for {recompute_all(session, _policy(settings))} customers")
    return 0


def cmd_import_csv(settings: Settings, args: argparse.Namespace) -> int:
    from routing.csv_import import import_csv

    with command_session(settings.database_url) as session, session.begin():
        report = import_csv(session, _policy(settings), args.customers, args.orders)
        if not report.ok:
            session.rollback()
            print(f"import refused, nothing imported ({len(report.errors)} problems):", file=sys.stderr)
            for error in report.errors:
                print(f"  {error}", file=sys.stderr)
            return 1
    print(f"imported {report.customers} customers and {report.orders} orders; tiers recomputed")
    return 0


def cmd_report_tiers(settings: Settings, args: argparse.Namespace) -> int:
    from routing.tiers.report import write_report

    with command_session(settings.database_url) as session:
        text, md_path, png_path = write_report(session, _policy(settings), args.out)
    print(text)
    print(f"written: {md_path}, {png_path}")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    try:
        _policy(settings)  # the app checks it as well; this says why in one line instead of a traceback
    except PolicyError as error:
        print(f"routing: cannot start without a valid policy: {error}", file=sys.stderr)
        return 1
    # forwarded headers only from CONCIERGE_TRUSTED_PROXIES (uvicorn's default believes any loopback client)
    uvicorn.run("routing.app:create_app", factory=True, host=settings.host, port=settings.routing_port,
                log_level="warning", **uvicorn_options(settings.trusted_proxies))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m routing.cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("init", help="create/migrate the database (and load the demo shop when empty)")
    p.add_argument("--demo-customers", type=int, default=0, help="load a demo shop of N customers when empty")
    p.add_argument("--seed", type=int, default=42, help="demo generator seed")
    p.set_defaults(func=cmd_init)
    p = sub.add_parser("tiers", help="value tiers")
    tiers_sub = p.add_subparsers(dest="tiers_command", required=True)
    tiers_sub.add_parser("recompute", help="recompute every customer's tier").set_defaults(func=cmd_tiers_recompute)
    p = sub.add_parser("import-csv", help="import customers/orders CSV (all or nothing, per-row error report)")
    p.add_argument("--customers", type=Path, help="customers CSV")
    p.add_argument("--orders", type=Path, help="orders CSV")
    p.set_defaults(func=cmd_import_csv)
    p = sub.add_parser("report", help="reports")
    report_sub = p.add_subparsers(dest="report_command", required=True)
    p = report_sub.add_parser("tiers", help="customers and revenue share per tier (Markdown + PNG)")
    p.add_argument("--out", type=Path, default=Path("reports"), help="output folder")
    p.set_defaults(func=cmd_report_tiers)
    register_ops_report(report_sub)  # report ops
    register_capacity_commands(sub)  # capacity erlang
    register_demo_commands(sub)  # demo simulate
    register_agent_commands(sub)  # agents add
    register_escalation_commands(sub)  # escalations expire
    p = sub.add_parser("serve", help="run the HTTP service")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not getattr(args, "needs_settings", True):  # pure calculators run anywhere, without the service's secrets
        return int(args.func(None, args))
    return int(args.func(get_settings(), args))


if __name__ == "__main__":
    sys.exit(main())
