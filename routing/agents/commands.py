"""Command-line subcommands of agents: `python -m routing.cli agents add ...`, `agents role LOGIN lead`.

The password is never an argument (it would sit in the shell history and the process list): it is typed at a
prompt, or read from standard input with `--password-stdin`, and must have at least MIN_PASSWORD_CHARS characters.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from routing.agents.models import AGENT_ROLES
from routing.agents.service import create_agent, get_by_login, set_role
from routing.db import command_session
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
    if unknown or (not queues and args.role == "agent"):  # a lead or admin may serve no queue
        print(f"--queues: unknown {', '.join(unknown) or '(none given)'}; known: {', '.join(sorted(known))}")
        return 2
    password = _password(args.password_stdin)
    if password is None:
        return 2
    with command_session(settings.database_url) as session:
        if get_by_login(session, args.login) is not None:
            print(f"agent {args.login!r} exists already")
            return 1
        agent = create_agent(session, args.login, args.name, password, queues, max_chats=args.max_chats,
                             role=args.role)
        session.commit()
        print(f"{agent.role} {agent.login} (id {agent.id}) serves {', '.join(queues) or 'no queue'}, "
              f"up to {agent.max_chats} chats")
    return 0


def cmd_agents_role(settings: Settings, args: argparse.Namespace) -> int:
    """Make an existing account an agent, a lead or an admin."""
    with command_session(settings.database_url) as session:
        agent = get_by_login(session, args.login)
        if agent is None:
            print(f"no agent {args.login!r}")
            return 1
        set_role(session, agent, args.role)
        session.commit()
        print(f"{agent.login} is now {agent.role}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `agents add` to routing.cli's parser."""
    p = sub.add_parser("agents", help="support agents")
    agents_sub = p.add_subparsers(dest="agents_command", required=True)
    p = agents_sub.add_parser("add", help="create an agent account")
    p.add_argument("--login", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.add_argument("--queues", default="", help="comma-separated queue names, e.g. vip,general (a lead or admin "
                   "may serve none)")
    p.add_argument("--max-chats", type=int, default=3)
    p.add_argument("--role", choices=AGENT_ROLES, default="agent",
                   help="agent (own figures only), lead or admin (every figure of the dashboard); default agent")
    p.set_defaults(func=cmd_agents_add)
    p = agents_sub.add_parser("role", help="make an account an agent, a lead or an admin")
    p.add_argument("login")
    p.add_argument("role", choices=AGENT_ROLES)
    p.set_defaults(func=cmd_agents_role)
