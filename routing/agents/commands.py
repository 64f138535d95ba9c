"""Command-line subcommands of agents: `python -m routing.cli agents add ...`.

The password is never an argument (it would sit in the shell history and the process list): it is typed at a
prompt, or read from standard input with `--password-stdin`, and must have at least MIN_PASSWORD_CHARS characters.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy.orm import sessionmaker

from routing.agents.service import create_agent, get_by_login
from routing.db import make_engine
from routing.policy.loader import load_policy
from routing.settings import Settings

MIN_PASSWORD_CHARS = 12


def _password(from_stdin: bool) -> str | None:
    """The new agent's password from stdin or a prompt (typed twice); None when it is too short or mistyped."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("the two passwords differ")
            return None
    if len(password) < MIN_PASSWORD_CHARS:
        print(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
        return None
    return password


def cmd_agents_add(settings: Settings, args: argparse.Namespace) -> int:
    """Create an agent account."""
    known = {q.name for q in load_policy(settings.policy_file).queues}
    queues = [q.strip() for q in args.queues.split(",") if q.strip()]
    unknown = sorted(set(queues) - known)
    if not queues or unknown:
        print(f"--queues: unknown {', '.join(unknown) or '(none given)'}; known: {', '.join(sorted(known))}")
        return 2
    password = _password(args.password_stdin)
    if password is None:
        return 2
    engine = make_engine(settings.database_url)
    with sessionmaker(engine)() as session:
        if get_by_login(session, args.login) is not None:
            print(f"agent {args.login!r} exists already")
            return 1
        agent = create_agent(session, args.login, args.name, password, queues, max_chats=args.max_chats)
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
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.add_argument("--queues", required=True, help="comma-separated queue names, e.g. vip,general")
    p.add_argument("--max-chats", type=int, default=3)
    p.set_defaults(func=cmd_agents_add)
