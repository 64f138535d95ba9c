"""FastAPI dependency giving the current validated policy (re-read when the file changes)."""

from __future__ import annotations

from fastapi import Request

from routing.policy.loader import load_policy
from routing.policy.schema import Policy


def get_policy(request: Request) -> Policy:
    """The policy named by settings.policy_file."""
    return load_policy(request.app.state.settings.policy_file)
