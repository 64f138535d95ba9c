"""Command-line subcommands of escalations: `python -m routing.cli escalations expire | dead-letters | requeue`."""

from __future__ import annotations

import argparse

from routing.db import command_session
from routing.escalations import outbox
from routing.escalations.service import expire_due
from routing.settings import Settings


def cmd_escalations_expire(settings: Settings, args: argparse.Namespace) -> int:
    """Expire waiting escalations past their queue's timeout (the service also does this every 15 s)."""
    with command_session(settings.database_url) as session:
        print(f"expired {expire_due(session)} escalation(s); the running service relays the news to Rasa")
        session.commit()
    return 0


def cmd_dead_letters(settings: Settings, args: argparse.Namespace) -> int:
    """List the outbox items given up after their attempts (agent replies, ends of handoffs, webhooks)."""
    with command_session(settings.database_url) as session:
        items = outbox.dead_letters(session, limit=args.limit)
        total = outbox.counts(session)["dead"]
        for item in items:
            what = item.payload.get("text") or item.payload.get("status") or item.payload.get("url") or ""
            print(f"{item.id}\t{item.kind}\t{item.conversation_id}\t{item.attempts} attempts\t"
                  f"given up {item.dead_at:%Y-%m-%d %H:%M:%S} UTC\t{str(what)[:60]!r}\t{item.last_error or ''}")
        shown = f"the oldest {len(items)} of {total}" if total > len(items) else f"{total}"
        print(f"{shown} dead letter(s); re-queue with `escalations requeue ID ...` or `--all`")
    return 0


def cmd_requeue(settings: Settings, args: argparse.Namespace) -> int:
    """Put dead letters back in line; the running service sends them within its poll interval (2 s)."""
    if not args.all and not args.ids:
        print("name the items to re-queue (their ids, from `escalations dead-letters`) or pass --all")
        return 2
    with command_session(settings.database_url) as session, session.begin():
        count = outbox.requeue(session, None if args.all else args.ids)
    print(f"re-queued {count} item(s); the running service sends them within seconds")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `escalations expire | dead-letters | requeue` to routing.cli's parser."""
    p = sub.add_parser("escalations", help="escalations")
    esc_sub = p.add_subparsers(dest="escalations_command", required=True)
    esc_sub.add_parser("expire", help="expire escalations nobody picked up in time").set_defaults(
        func=cmd_escalations_expire)
    dead = esc_sub.add_parser("dead-letters", help="list agent replies, ends of handoffs and webhooks that were given "
                                                   "up (never delivered)")
    dead.add_argument("--limit", type=int, default=1000, help="list at most the oldest N (default 1000)")
    dead.set_defaults(func=cmd_dead_letters)
    requeue = esc_sub.add_parser("requeue", help="send dead letters again")
    requeue.add_argument("ids", nargs="*", type=int, help="ids of the dead letters to send again")
    requeue.add_argument("--all", action="store_true", help="every dead letter")
    requeue.set_defaults(func=cmd_requeue)
