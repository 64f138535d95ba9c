"""Command-line subcommands of agents: `python -m routing.cli agents add ...`."""

from __future__ import annotations

import argparse

from sqlalchemy.orm import sessionmaker

from routing.agents.service import create_agent, get_by_login
from routing.db import make_engine
from routing.policy.loader import load_policy
from routing.settings import Settings


def cmd_agents_add(settings: Settings, args: argparse.Namespace) -> int:
    """Create an agent account."""
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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `agents add` to routing.cli's parser."""
    p = sub.add_parser("agents", help="support agents")
    agents_sub = p.add_subparsers(dest="agents_command", required=True)
    p = agents_sub.add_parser("add", help="create an agent account")
    p.add_argument("--login", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--queues", required=True, help="comma-separated queue names, e.g. vip,general")
    p.add_argument("--max-chats", type=int, default=3)
    p.set_defaults(func=cmd_agents_add)
