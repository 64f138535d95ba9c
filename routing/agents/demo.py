"""Demo agents for development: alice (vip, priority), bob (priority, general), carol (general), and lena, a team
lead serving no queue (she sees every figure of the dashboard); password "demo"."""

from __future__ import annotations

from sqlalchemy.orm import Session

from routing.agents.service import create_agent, get_by_login

DEMO_AGENTS: tuple[tuple[str, str, list[str], str], ...] = (
    ("alice", "Alice", ["vip", "priority"], "agent"), ("bob", "Bob", ["priority", "general"], "agent"),
    ("carol", "Carol", ["general"], "agent"), ("lena", "Lena", [], "lead"))


def create_demo_agents(session: Session) -> int:
    """Create the missing demo agents (call only when settings.env == "development"); returns how many were added."""
    added = 0
    for login, name, queues, role in DEMO_AGENTS:
        if get_by_login(session, login) is None:
            create_agent(session, login, name, "demo", queues, max_chats=3, team="demo", role=role)
            added += 1
    session.flush()
    return added
