"""The look-up benchmark's shop: the demo generator's customers and orders at any size, loaded fast and kept.

`generate` builds a whole shop in memory; a million customers would not fit comfortably, so the shop is generated
`CHUNK` customers at a time (each chunk its own seed) and renumbered so that ids, external ids, emails and order
numbers stay unique across chunks. PostgreSQL gets the rows by COPY; the database is then labelled (a comment on
the database) with what it holds, and the next run with the same size, seed, fixture version and schema revision
reuses it instead of loading again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import cast

import psycopg
from alembic.script import ScriptDirectory
from psycopg import sql
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from routing.db import alembic_config
from routing.demo import FIRST_ORDER_NUMBER, DemoShop, generate, insert_shop
from routing.policy.definition import Policy
from routing.tiers import service as tiers
from routing.tiers.models import CustomerTier

FIXTURE_VERSION = 1  # change when the rows generated for a size and seed change
CHUNK = 50_000
SCRATCH_PREFIX = "concierge_bench"  # the only databases this module drops and re-creates
CUSTOMER_COLUMNS = ("id", "external_id", "name", "email", "email_lower", "phone", "address_line", "city",
                    "postal_code", "country", "created_at", "support_contacts")
ORDER_COLUMNS = ("id", "number", "customer_id", "status", "placed_at", "shipped_at", "delivered_at", "carrier",
                 "tracking_number", "total_cents", "currency", "return_status", "refund_status", "refund_cents",
                 "invoice_number", "shipping_address")
TIER_COLUMNS = tuple(c.name for c in CustomerTier.__table__.columns)


def renumber(shop: DemoShop, customers: int, customer_offset: int, order_offset: int) -> DemoShop:
    """The first `customers` regular customers of `shop` (not its demo accounts) and their orders, moved past
    `customer_offset` customer ids and `order_offset` order ids; external ids, emails and order numbers follow
    the new ids. No line items (look-ups never read them)."""
    out = DemoShop()
    for c in shop.customers:
        old = cast(int, c["id"])
        if old > customers:
            continue
        new = old + customer_offset
        local = str(c["email"]).removesuffix("@example.com").removesuffix(str(old))
        email = f"{local}{new}@example.com"
        out.customers.append({**c, "id": new, "external_id": f"cust-{new:07d}", "email": email,
                              "email_lower": email.lower()})
    for o in shop.orders:
        if cast(int, o["customer_id"]) > customers:
            continue
        oid = order_offset + len(out.orders) + 1
        number = FIRST_ORDER_NUMBER + oid - 1
        out.orders.append({**o, "id": oid, "customer_id": cast(int, o["customer_id"]) + customer_offset,
                           "number": f"C-{number}",
                           "invoice_number": None if o["invoice_number"] is None else f"INV-{number}"})
    return out


def shop_chunks(customers: int, seed: int, now: datetime, chunk: int = CHUNK) -> Iterator[DemoShop]:
    """The shop of `customers` customers, `chunk` at a time, with ids 1..customers and unique keys."""
    orders = 0
    for k, start in enumerate(range(0, customers, chunk)):
        part = renumber(generate(min(chunk, customers - start), seed + k, now), min(chunk, customers - start),
                        start, orders)
        orders += len(part.orders)
        yield part


def database_name(customers: int) -> str:
    """The scratch database of a fixture size: concierge_bench_1m, concierge_bench_100k, concierge_bench_2500."""
    if customers % 1_000_000 == 0:
        return f"{SCRATCH_PREFIX}_{customers // 1_000_000}m"
    if customers % 1000 == 0:
        return f"{SCRATCH_PREFIX}_{customers // 1000}k"
    return f"{SCRATCH_PREFIX}_{customers}"


def fixture_label(customers: int, seed: int, revision: str) -> str:
    """What a loaded database holds; a run whose label differs loads again."""
    return f"concierge bench fixture v{FIXTURE_VERSION}: {customers} customers, seed {seed}, schema {revision}"


def loaded_label(wanted: str, seconds: float) -> str:
    """The comment written on a loaded database: its label and how long the load took."""
    return f"{wanted}; loaded in {seconds:.1f} s"


def load_seconds_if_loaded(comment: str | None, wanted: str) -> float | None:
    """The load time recorded in `comment` when it labels the `wanted` fixture, else None (load again)."""
    prefix = f"{wanted}; loaded in "
    if comment is None or not comment.startswith(prefix) or not comment.endswith(" s"):
        return None
    try:
        return float(comment[len(prefix):-2])
    except ValueError:
        return None


def schema_revision(database_url: str) -> str:
    """The newest migration of the routing service (the schema a loaded database must have)."""
    return str(ScriptDirectory.from_config(alembic_config(database_url)).get_current_head())


def _admin(database_url: str) -> tuple[str, str]:
    """(libpq URL of the server's `postgres` database, the name of the database in `database_url`)."""
    parsed = make_url(database_url)
    if not parsed.database:
        raise SystemExit(f"the database URL names no database: {database_url}")
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    return admin, parsed.database


def stored_label(database_url: str) -> str | None:
    """The label of the PostgreSQL database (None when it does not exist or has none)."""
    admin, name = _admin(database_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        row = conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                           (name,)).fetchone()
    return None if row is None else row[0]


def recreate(database_url: str) -> None:
    """Drop and create the scratch database (only names starting with `SCRATCH_PREFIX`)."""
    admin, name = _admin(database_url)
    if not name.startswith(SCRATCH_PREFIX):
        raise SystemExit(f"refusing to drop {name!r}: benchmark databases are named {SCRATCH_PREFIX}*")
    with psycopg.connect(admin, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)).fetchone()
        if row and row[0]:
            raise SystemExit(f"{name} is in use by {row[0]} connection(s) (another run loading it?): not dropped")
        ident = sql.Identifier(name)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))


def write_label(database_url: str, comment: str) -> None:
    """Label the database with what it holds (COMMENT ON DATABASE)."""
    admin, name = _admin(database_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(comment)))


def _copy(engine: Engine, tables: list[tuple[str, Sequence[str], list[dict[str, object]]]]) -> None:
    """Rows into PostgreSQL tables by COPY, in one transaction."""
    with engine.begin() as conn:
        raw = cast(psycopg.Connection, conn.connection.driver_connection)
        with raw.cursor() as cur:
            for table, columns, rows in tables:
                statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)))
                with cur.copy(statement) as copy:
                    for row in rows:
                        copy.write_row([row.get(c) for c in columns])


def load(engine: Engine, policy: Policy, customers: int, seed: int, now: datetime) -> None:
    """Every chunk into the (empty, migrated) database, then every customer's tier (the service's computation):
    COPY on PostgreSQL, batched inserts elsewhere."""
    postgres = engine.dialect.name == "postgresql"
    for part in shop_chunks(customers, seed, now):
        if postgres:
            _copy(engine, [("customers", CUSTOMER_COLUMNS, part.customers), ("orders", ORDER_COLUMNS, part.orders)])
        else:
            with engine.begin() as conn, Session(bind=conn) as session:
                insert_shop(session, part)
    with Session(engine) as session:
        if not postgres:
            tiers.recompute_all(session, policy, now)
            session.commit()
            return
        rows = tiers.tier_rows(session, policy, now)
    _copy(engine, [("customer_tiers", TIER_COLUMNS, rows)])
    with engine.begin() as conn:
        for table in ("customers", "orders"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
