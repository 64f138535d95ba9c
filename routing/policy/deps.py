"""FastAPI dependency giving the current validated policy (re-read when the file changes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from routing.policy.definition import Policy
from routing.policy.loader import load_policy


def get_policy(request: Request) -> Policy:
    """The policy named by settings.policy_file."""
    return load_policy(request.app.state.settings.policy_file)


PolicyDep = Annotated[Policy, Depends(get_policy)]
