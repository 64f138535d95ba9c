"""Loading routing/policy.yml into a validated Policy, with errors that name the offending path."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from routing.policy.definition import Policy


class PolicyError(ValueError):
    """The policy file is missing, not YAML, or invalid; the message lists every problem."""


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    """Validate policy YAML text."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"{source}: expected a mapping at the top level")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            for line in err["msg"].removeprefix("Value error, ").splitlines():
                problems.append(f"{where}: {line}" if where else line)
        raise PolicyError(f"{source}: invalid policy:\n  - " + "\n  - ".join(problems)) from exc


def load_policy(path: Path) -> Policy:
    """The validated policy at `path`, read now (commands and tests; the service reads it through CurrentPolicy)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PolicyError(f"{path}: policy file not found") from exc
    return parse_policy(text, str(path))
