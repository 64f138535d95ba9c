"""The rooms of the routing service stay in the order docs/development.md gives: a module imports only from its own
concept, from concepts below it, or any concept's tables (`models`: shared facts, never behaviour)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# routing/*.py at the top level: the shared infrastructure below every concept, and the composition above them
INFRASTRUCTURE = {"admission", "auth", "db", "errors", "inputs", "leadership", "live", "live_limits", "liveness",
                  "pagination", "proxies", "settings", "sqltypes", "state", "throttle", "webhooks"}
COMPOSITION = {"app", "cli", "csv_import", "demo", "health", "migrations", "models", "workers"}
# bottom to top, as docs/development.md explains them
LAYERS = ["infrastructure", "policy", "tiers", "orders", "customers", "identity", "queues", "agents", "escalations",
          "decisions", "analytics", "capacity", "web", "dev", "composition"]


def layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "routing" or len(parts) < 2:
        return None
    room = parts[1]
    if room in INFRASTRUCTURE:
        return "infrastructure"
    return "composition" if room in COMPOSITION else room


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("routing"):
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names if alias.name.startswith("routing")]
    return found


def test_every_room_of_the_routing_service_has_a_layer() -> None:
    rooms = {path.stem if path.is_file() else path.name for path in (ROOT / "routing").iterdir()
             if (path.suffix == ".py" or path.is_dir()) and not path.name.startswith("__")}
    assert {layer(f"routing.{room}") for room in rooms} <= set(LAYERS)


def test_no_module_imports_from_a_concept_above_it() -> None:
    upward = []
    for path in sorted((ROOT / "routing").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        own = layer(module)
        if own is None or own == "composition":
            continue
        for imported, names in _imports(path):
            other = layer(imported)
            if other is None or LAYERS.index(other) <= LAYERS.index(own):
                continue
            if imported.endswith(".models") or (names and all(n == "models" for n in names)):
                continue  # a concept's tables are shared facts
            upward.append(f"{module} ({own}) imports {imported} ({other})")
    assert not upward, "\n".join(upward)
