"""Command-line subcommands of escalations: `python -m routing.cli escalations expire`."""

from __future__ import annotations

import argparse

from sqlalchemy.orm import sessionmaker

from routing.db import make_engine
from routing.escalations.service import expire_due
from routing.settings import Settings


def cmd_escalations_expire(settings: Settings, args: argparse.Namespace) -> int:
    """Expire waiting escalations past their queue's timeout (the service also does this every 15 s)."""
    engine = make_engine(settings.database_url)
    with sessionmaker(engine, expire_on_commit=False)() as session:
        print(f"expired {expire_due(session)} escalation(s); the running service relays the news to Rasa")
    engine.dispose()
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `escalations expire` to routing.cli's parser."""
    p = sub.add_parser("escalations", help="escalations")
    esc_sub = p.add_subparsers(dest="escalations_command", required=True)
    esc_sub.add_parser("expire", help="expire escalations nobody picked up in time").set_defaults(
        func=cmd_escalations_expire)
