"""The action server's token has no usable default outside development, like the routing service's secrets."""

from __future__ import annotations

import pytest

from bot_runtime.action_server import DEV_SECRET, actions_token

STRONG = "x" * 40


def test_development_may_use_the_development_token() -> None:
    assert actions_token({"CONCIERGE_ENV": "development"}) == DEV_SECRET
    assert actions_token({"CONCIERGE_ENV": "development", "CONCIERGE_ACTIONS_TOKEN": "short"}) == "short"


@pytest.mark.parametrize("token", ["", DEV_SECRET, "too-short-for-production"])
def test_production_refuses_a_missing_development_or_short_token(token: str) -> None:
    with pytest.raises(SystemExit, match="CONCIERGE_ACTIONS_TOKEN"):
        actions_token({"CONCIERGE_ENV": "production", "CONCIERGE_ACTIONS_TOKEN": token})
    with pytest.raises(SystemExit):
        actions_token({"CONCIERGE_ACTIONS_TOKEN": token})  # production unless said otherwise


def test_production_takes_a_strong_token() -> None:
    assert actions_token({"CONCIERGE_ENV": "production", "CONCIERGE_ACTIONS_TOKEN": STRONG}) == STRONG
