"""docs/settings.md, the table of every CONCIERGE_* variable, is complete and current: every name the code, scripts
and configuration files use has an entry in the catalog docs/settings.yml, every entry is used somewhere, every field
of the routing service's Settings has one, and the committed table is what scripts/settings_table.py writes now."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("settings_table", ROOT / "scripts" / "settings_table.py")
assert _spec and _spec.loader
settings_table = sys.modules["settings_table"] = importlib.util.module_from_spec(_spec)  # dataclasses look it up
_spec.loader.exec_module(settings_table)

# a whole name: not the start of a longer one, nor a family written as CONCIERGE_CLUSTER_PG_*
NAME = re.compile(r"\bCONCIERGE_[A-Z0-9_]*[A-Z0-9](?![A-Za-z0-9_*])")
BINARY = (".png", ".jpg", ".gif", ".ico", ".gz", ".zip", ".woff", ".woff2")
FIX = "add it to docs/settings.yml, then run `make settings-table`"


def _names_by_file() -> dict[str, set[str]]:
    """The CONCIERGE_* names in every file of the checkout git does not ignore (committed or not)."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    found = {}
    for path in filter(None, listed):
        file = ROOT / path
        if path.endswith(BINARY) or not file.is_file():
            continue
        names = set(NAME.findall(file.read_bytes().decode("utf-8", "replace")))
        if names:
            found[path] = names
    return found


def _is_documentation(path: str) -> bool:
    return path.startswith("docs/") or path.endswith(".md")


@pytest.fixture(scope="module")
def used() -> dict[str, set[str]]:
    return _names_by_file()


@pytest.fixture(scope="module")
def catalog() -> set[str]:
    return {v.name for v in settings_table.load_catalog()[1]}


def test_every_variable_the_code_uses_is_in_the_catalog(used: dict[str, set[str]], catalog: set[str]) -> None:
    missing = {f"{name} ({path})" for path, names in used.items()
               if not _is_documentation(path) and not path.startswith("tests/") for name in names - catalog}
    assert not missing, f"not in the catalog ({FIX}): " + ", ".join(sorted(missing))


def test_every_routing_setting_is_in_the_catalog(catalog: set[str]) -> None:
    missing = set(settings_table.routing_variables()) - catalog
    assert not missing, f"fields of routing/settings.py Settings without an entry ({FIX}): {sorted(missing)}"


def test_every_catalog_entry_is_used(used: dict[str, set[str]], catalog: set[str]) -> None:
    anywhere = set(settings_table.routing_variables()).union(
        *(names for path, names in used.items() if not _is_documentation(path)))
    unused = catalog - anywhere
    assert not unused, f"read nowhere (code, configuration, scripts, tests): take {sorted(unused)} out of the catalog"


def test_the_documents_name_only_catalogued_variables(used: dict[str, set[str]], catalog: set[str]) -> None:
    unknown = {f"{name} ({path})" for path, names in used.items() if _is_documentation(path)
               for name in names - catalog}
    assert not unknown, "the documents name variables that do not exist: " + ", ".join(sorted(unknown))


def test_the_table_is_what_the_generator_writes_now() -> None:
    processes, variables = settings_table.load_catalog()
    expected = settings_table.render(processes, variables)
    assert settings_table.TARGET.read_text(encoding="utf-8") == expected, \
        "docs/settings.md is out of date: run `make settings-table`"


@pytest.mark.parametrize(("entry", "problem"), [
    ("CONCIERGE_HOST: {read_by: [routing], use: production, meaning: m}", "leave out use"),
    ("CONCIERGE_HOST: {read_by: [launcher], meaning: m}", "add routing to read_by"),
    ("CONCIERGE_HOST: {read_by: [routing], default: {routing: x}, meaning: m}", "only map other readers"),
    ("CONCIERGE_X: {read_by: [launcher], use: production, meaning: m}", "default is missing"),
    ("CONCIERGE_X: {read_by: [launcher, bench], use: production, default: {bench: x}, meaning: m}", "every reader"),
    ("CONCIERGE_X: {read_by: [nobody], use: production, default: x, meaning: m}", "read_by must list"),
    ("CONCIERGE_X: {read_by: [bench], use: sometimes, default: x, meaning: m}", "use must be one of"),
])
def test_a_malformed_entry_is_refused_by_name(tmp_path: Path, entry: str, problem: str) -> None:
    path = tmp_path / "settings.yml"
    path.write_text(f"processes: {{routing: r, launcher: l, bench: b}}\nvariables:\n  {entry}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=problem) as refused:
        settings_table.load_catalog(path)
    assert entry.split(":")[0] in str(refused.value)
