"""Write docs/settings.md: one table of every CONCIERGE_* environment variable, who reads it, its default, whether
production may set it, and what it means.

The hand-written part is the catalog docs/settings.yml (readers, meaning, production or not, and the defaults the
code of the other processes has). The routing service's variables take their defaults and their secret flag from
`routing.settings.Settings` itself (field `host` is read as CONCIERGE_HOST; a secret is one of SECRETS), so the table
cannot drift from it. tests/routing/test_settings_table.py fails when the code uses a variable the catalog lacks, an
entry is used nowhere, or docs/settings.md is not what this script writes now.

Run with the routing runtime (it imports the routing service's settings): `make settings-table`.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from routing.settings import SECRETS, Settings  # noqa: E402

CATALOG = ROOT / "docs" / "settings.yml"
TARGET = ROOT / "docs" / "settings.md"
PREFIX = str(Settings.model_config.get("env_prefix", ""))
ROUTING = "routing"
# what the table's "production" column says for each kind of variable
USES = {
    "production": "yes",
    "secret": "**must be set**: a secret, its development default refused",
    "development": "no: development and tests",
}


@dataclass(frozen=True)
class Variable:
    """One catalog entry, with the routing service's default and secret flag filled in from Settings."""

    name: str
    read_by: tuple[str, ...]  # in the catalog's order of processes
    defaults: Mapping[str, str]  # per reader, as the table shows it
    use: str  # a key of USES
    meaning: str


def routing_variables() -> dict[str, tuple[str, bool]]:
    """Every variable the routing service reads: its default as the table shows it, and whether it is a secret."""
    return {f"{PREFIX}{name.upper()}": (shown(field.get_default(call_default_factory=True)), name in SECRETS)
            for name, field in Settings.model_fields.items()}


def shown(value: object) -> str:
    """A default as the table shows it: in backticks, paths under the checkout relative to it, "" as empty."""
    text = str(value).replace(str(ROOT), "<checkout>")
    return f"`{text}`" if text else "empty"


def _fail(name: str, problem: str) -> ValueError:
    return ValueError(f"{CATALOG.relative_to(ROOT)}: {name}: {problem}")


def _entry(name: str, raw: Mapping[str, object], processes: tuple[str, ...],
           routing: Mapping[str, tuple[str, bool]]) -> Variable:
    read_by = raw.get("read_by")
    if not isinstance(read_by, list) or not read_by or not set(read_by) <= set(processes) \
            or len(set(read_by)) != len(read_by):
        raise _fail(name, f"read_by must list some of {', '.join(processes)}, each once")
    readers = tuple(p for p in processes if p in read_by)
    meaning, use, default = raw.get("meaning"), raw.get("use"), raw.get("default")
    if not isinstance(meaning, str) or not meaning.strip():
        raise _fail(name, "meaning is missing")
    if name in routing:
        # the routing service's own default and secret flag come from its Settings; the catalog gives only the
        # defaults of the other readers that differ from it
        if ROUTING not in readers:
            raise _fail(name, "a field of routing/settings.py Settings: add routing to read_by")
        if use is not None:
            raise _fail(name, "leave out use: the routing service's SECRETS decides it")
        others = default if isinstance(default, dict) else {} if default is None else None
        if others is None or not set(others) <= set(readers) - {ROUTING}:
            raise _fail(name, "default may only map other readers to their defaults (routing's is in Settings)")
        routing_default, secret = routing[name]
        defaults = {p: str(others.get(p, routing_default)) for p in readers}
        use = "secret" if secret else "production"
    else:
        if use not in USES:
            raise _fail(name, f"use must be one of {', '.join(USES)}")
        if isinstance(default, dict):
            if set(default) != set(readers):
                raise _fail(name, "default must give the default of every reader, or be one text for all")
            defaults = {p: str(default[p]) for p in readers}
        elif isinstance(default, str):
            defaults = dict.fromkeys(readers, default)
        else:
            raise _fail(name, "default is missing (one text, or one per reader)")
    return Variable(name, readers, defaults, str(use), " ".join(meaning.split()))


def load_catalog(path: Path = CATALOG) -> tuple[dict[str, str], list[Variable]]:
    """The processes (name: what runs) and the variables of the catalog; ValueError naming the entry if malformed."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    processes: dict[str, str] = {str(k): str(v) for k, v in data["processes"].items()}
    routing = routing_variables()
    variables = []
    for name, raw in data["variables"].items():
        if not str(name).startswith(PREFIX):
            raise _fail(str(name), f"not a {PREFIX}* name")
        variables.append(_entry(str(name), raw, tuple(processes), routing))
    return processes, variables


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def default_cell(variable: Variable) -> str:
    """One default, or each distinct default after the readers that have it."""
    groups: dict[str, list[str]] = {}
    for process in variable.read_by:
        groups.setdefault(variable.defaults[process], []).append(process)
    if len(groups) == 1:
        return next(iter(groups))
    return "; ".join(f"{', '.join(readers)}: {text}" for text, readers in groups.items())


def render(processes: Mapping[str, str], variables: list[Variable]) -> str:
    """docs/settings.md: the variables sorted by their first reader (in the catalog's order of processes), then name."""
    order = {process: i for i, process in enumerate(processes)}
    rows = sorted(variables, key=lambda v: (order[v.read_by[0]], v.name))
    lines = [
        "# Settings",
        "",
        "<!-- GENERATED by scripts/settings_table.py from docs/settings.yml and routing/settings.py "
        "(`make settings-table`): do not edit. -->",
        "",
        f"Every setting of Concierge is an environment variable named `{PREFIX}*`: {len(rows)} in all, sorted by the "
        "first process that reads them. *read by* names the processes:",
        "",
        *[f"- **{process}**: {what}" for process, what in processes.items()],
        "",
        "*default* is what a process uses when the variable is unset (`<checkout>` is the folder of this "
        "repository); where readers differ, each default follows the readers that have it. *production*: "
        "**must be set** is a secret whose development default production refuses; *no* marks development, test and "
        "benchmark settings. The routing service's defaults and secrets are read from `routing/settings.py`.",
        "",
        "| variable | read by | default | production | meaning |",
        "|---|---|---|---|---|",
    ]
    for v in rows:
        cells = (f"`{v.name}`", ", ".join(v.read_by), default_cell(v), USES[v.use], v.meaning)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    processes, variables = load_catalog()
    TARGET.write_text(render(processes, variables), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}: {len(variables)} variables")
    return 0


if __name__ == "__main__":
    sys.exit(main())
