"""FastAPI dependencies giving the policy in force (re-read when the file changes; see routing/policy/current.py)."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from routing.policy.current import CurrentPolicy
from routing.policy.definition import Policy


def current_policy(request: Request) -> CurrentPolicy:
    """The policy file's last valid version, re-read when it changes (create_app puts it on app.state)."""
    return cast(CurrentPolicy, request.app.state.policy)


CurrentPolicyDep = Annotated[CurrentPolicy, Depends(current_policy)]


def get_policy(current: CurrentPolicyDep) -> Policy:
    """The app's current policy (the last valid version of settings.policy_file)."""
    return current.get()


PolicyDep = Annotated[Policy, Depends(get_policy)]
