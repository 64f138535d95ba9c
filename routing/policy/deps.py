"""FastAPI dependency giving the policy in force (re-read when the file changes; see routing/policy/current.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from routing.policy.current import CurrentPolicy
from routing.policy.definition import Policy


def get_policy(request: Request) -> Policy:
    """The app's current policy (the last valid version of settings.policy_file)."""
    current: CurrentPolicy = request.app.state.policy
    return current.get()


PolicyDep = Annotated[Policy, Depends(get_policy)]
