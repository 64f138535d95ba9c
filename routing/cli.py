"""Command line of the routing service: `python -m routing.cli --help`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from routing.settings import Settings, get_settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """Alembic configuration pointing at this package's migrations and `database_url`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url)
    return cfg


def upgrade(database_url: str) -> None:
    """Create or migrate the database schema to the newest revision."""
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), "head")


def cmd_init(settings: Settings, args: argparse.Namespace) -> int:
    upgrade(settings.database_url)
    print(f"routing: database ready ({settings.database_url.split('@')[-1]})")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run("routing.app:create_app", factory=True, host=settings.host, port=settings.routing_port,
                log_level="warning")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m routing.cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("init", help="create/migrate the database (and load the demo shop when empty)")
    p.add_argument("--demo-customers", type=int, default=0, help="load a demo shop of N customers when empty")
    p.set_defaults(func=cmd_init)
    p = sub.add_parser("serve", help="run the HTTP service")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(get_settings(), args))


if __name__ == "__main__":
    sys.exit(main())
