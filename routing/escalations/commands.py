"""Command-line subcommands of human support: `agents add`, `escalations expire`, `bench-claims`."""

from __future__ import annotations

import argparse

from sqlalchemy.orm import sessionmaker

from routing.db import make_engine
from routing.settings import Settings


def cmd_agents_add(settings: Settings, args: argparse.Namespace) -> int:
    """Create an agent account."""
    from routing.agents.service import create_agent, get_by_login
    from routing.policy.loader import load_policy

    known = {q.name for q in load_policy(settings.policy_file).queues}
    queues = [q.strip() for q in args.queues.split(",") if q.strip()]
    unknown = sorted(set(queues) - known)
    if not queues or unknown:
        print(f"--queues: unknown {', '.join(unknown) or '(none given)'}; known: {', '.join(sorted(known))}")
        return 2
    engine = make_engine(settings.database_url)
    with sessionmaker(engine)() as session:
        if get_by_login(session, args.login) is not None:
            print(f"agent {args.login!r} exists already")
            return 1
        agent = create_agent(session, args.login, args.name, args.password, queues, max_chats=args.max_chats)
        session.commit()
        print(f"agent {agent.login} (id {agent.id}) serves {', '.join(queues)}, up to {agent.max_chats} chats")
    engine.dispose()
    return 0


def cmd_escalations_expire(settings: Settings, args: argparse.Namespace) -> int:
    """Expire waiting escalations past their queue's timeout (the service also does this every 15 s)."""
    from routing.escalations.service import expire_due

    engine = make_engine(settings.database_url)
    with sessionmaker(engine, expire_on_commit=False)() as session:
        print(f"expired {expire_due(session)} escalation(s); the running service relays the news to Rasa")
    engine.dispose()
    return 0


def cmd_bench_claims(settings: Settings, args: argparse.Namespace) -> int:
    """Run the claim benchmark on PostgreSQL."""
    from routing.bench_claims import run

    return run(args.database_url, args.agents, args.escalations, args.json)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the human-support subcommands to routing.cli's parser."""
    p = sub.add_parser("agents", help="support agents")
    agents_sub = p.add_subparsers(dest="agents_command", required=True)
    p = agents_sub.add_parser("add", help="create an agent account")
    p.add_argument("--login", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--queues", required=True, help="comma-separated queue names, e.g. vip,general")
    p.add_argument("--max-chats", type=int, default=3)
    p.set_defaults(func=cmd_agents_add)
    p = sub.add_parser("escalations", help="escalations")
    esc_sub = p.add_subparsers(dest="escalations_command", required=True)
    esc_sub.add_parser("expire", help="expire escalations nobody picked up in time").set_defaults(
        func=cmd_escalations_expire)
    p = sub.add_parser("bench-claims", help="50 concurrent agents claiming on PostgreSQL; claims/s, SSE latency")
    p.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/concierge_bench_claims",
                   help="PostgreSQL database (re-created)")
    p.add_argument("--agents", type=int, default=50)
    p.add_argument("--escalations", type=int, default=1000)
    p.add_argument("--json", default="", help="also write the results to this JSON file")
    p.set_defaults(func=cmd_bench_claims)
