"""One word for each thing: an escalation's statuses and audit kinds are spelled once (routing/escalations/models.py
Status and Kind); everywhere else in the routing service and in the console they are named through them."""

from __future__ import annotations

import re
from pathlib import Path

from routing.escalations.flows import TRANSITIONS
from routing.escalations.models import CLOSED_STATUSES, OFFLINE_STATUSES, OPEN_STATUSES, Kind, Status

ROOT = Path(__file__).resolve().parents[2]
DEFINED_IN = ROOT / "routing" / "escalations" / "models.py"
# the same words meaning something else: a queue's out-of-hours alternative ("ticket"), the figures named after
# outcomes (routing/analytics/kpis.py), and the capacity simulation's outcomes of a simulated contact
OTHER_MEANINGS = ('Literal["callback", "ticket"]', 'Kpi("', '        "abandoned": abandoned', '        "expired": sum(',
                  'outcome == "abandoned"', '"expired" if timed_out else "abandoned"', '("abandon_rate", "abandoned")')


def test_every_status_has_a_place_in_the_lifecycle() -> None:
    assert set(TRANSITIONS) == set(Status)
    assert set(OPEN_STATUSES) | set(CLOSED_STATUSES) | set(OFFLINE_STATUSES) == set(Status)
    assert all(target in Status for targets in TRANSITIONS.values() for target in targets)


def test_no_status_or_kind_is_a_bare_string_in_the_routing_service() -> None:
    words = "|".join(sorted({*Status, *Kind}))
    bare = re.compile(rf'"({words})"')  # code quotes with " (ruff); SQL in docstrings may quote with '

    found = []
    for path in sorted((ROOT / "routing").rglob("*.py")):
        if path == DEFINED_IN or "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if bare.search(line) and not any(other in line for other in OTHER_MEANINGS):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "name these through Status / Kind:\n" + "\n".join(found)


def test_the_console_names_only_statuses_that_exist() -> None:
    script = (ROOT / "routing" / "web" / "static" / "console.js").read_text(encoding="utf-8")
    lists = re.findall(r"const (?:OPEN_FOR_TAKING|MINE) = \[(.*?)\];", script)
    named = {name for body in lists for name in re.findall(r'"([a-z_]+)"', body)}
    assert len(lists) == 2 and named <= set(Status), named - set(Status)
