"""`python -m fuzz [--conversations N] [--seed S]`: fuzz the dialogue on a private embedded stack (see fuzz/__init__).

Half of the conversations run with every support queue open, half with all of them closed (the routing service
re-reads its policy file when it changes). Exit code 1 when any invariant was broken; reports/fuzz/ holds the
summary and one shrunk test story per failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from fuzz import story
from fuzz.invariants import bot_messages, routine_intents
from fuzz.plan import Customer, Turn, conversation
from fuzz.runner import TIMEOUT, Played, Player, play_all
from fuzz.utterances import load_examples
from launcher.ports import free_base_port
from launcher.settings import ALWAYS_OPEN, ROOT, StackSettings, write_policy_copy
from launcher.stack import running
from scripts.digressions import Topics, classify

DEMO_ACCOUNTS = ("demo-platinum", "demo-gold", "demo-silver", "demo-bronze")
CLOSED = {**ALWAYS_OPEN, "days": []}
POLICY_RELOAD_SECONDS = 2.0


def guest_orders(database_url: str, limit: int = 200) -> list[tuple[str, str]]:
    """(order number, email) pairs of ordinary customers, as a guest would know them."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT o.number, c.email FROM orders o JOIN customers c ON c.id = o.customer_id "
            "WHERE c.external_id NOT LIKE 'demo-%' ORDER BY o.id LIMIT :limit"), {"limit": limit}).all()
    engine.dispose()
    return [(str(number), str(email)) for number, email in rows]


def plans(rng: random.Random, count: int, orders: list[tuple[str, str]], topics: Topics,
          examples: dict[str, list[str]]) -> list[tuple[Customer, list[Turn]]]:
    made = []
    for _ in range(count):
        number, email = rng.choice(orders)
        kind = "guest" if rng.random() < 0.5 else rng.choice(DEMO_ACCOUNTS)
        customer = Customer(kind, number, email)
        made.append((customer, conversation(rng, customer, topics, examples)))
    return made


async def fuzz(stack: StackSettings, count: int, seed: int, concurrency: int, out: Path) -> int:
    rng = random.Random(seed)
    orders = guest_orders(stack.database_url)
    started = time.monotonic()
    played: list[Played] = []
    topics, examples = classify(ROOT), load_examples(ROOT)  # read once: both phases draw from the same data
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        player = Player(stack, client, routine_intents(ROOT), bot_messages(ROOT))
        for phase, hours in (("open", ALWAYS_OPEN), ("closed", CLOSED)):
            write_policy_copy(ROOT / "routing" / "policy.yml", stack.policy_file, default=hours)
            await asyncio.sleep(POLICY_RELOAD_SECONDS)
            batch = plans(rng, count // 2 if phase == "open" else count - count // 2, orders, topics, examples)
            played += await play_all(player, batch, concurrency)
            print(f"fuzz: {len(batch)} conversations with the queues {phase}", flush=True)
        failures = [p for p in played if p.violations]
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob("*.yml"):
            old.unlink()
        kinds: Counter[str] = Counter(v.kind for p in failures for v in p.violations)
        written = []
        for index, failure in enumerate(failures[:20]):  # the first 20 are shrunk and written
            shrunk = await player.shrink(failure)
            violation = next(v for v in shrunk.violations if v.kind == failure.violations[0].kind)
            name = f"{violation.kind}-{index + 1:02d}"
            (out / f"{name}.yml").write_text(story.render(f"fuzz {name}", shrunk, violation))
            written.append(name)
            print(f"fuzz: {name}: {violation.detail} ({len(failure.turns)} -> {len(shrunk.turns)} messages)")
    seconds = time.monotonic() - started
    summary = {"conversations": len(played), "turns": sum(len(p.turns) for p in played),
               "violations": sum(kinds.values()), "conversations_failed": len(failures), "by_kind": dict(kinds),
               "seconds": round(seconds, 1), "seed": seed, "stories": written}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"fuzz: {summary['conversations']} conversations, {summary['turns']} turns, "
          f"{summary['violations']} violations in {summary['conversations_failed']} conversations "
          f"{dict(kinds) or ''} in {seconds:.0f} s (seed {seed}); stories in {out}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "fuzz")
    args = parser.parse_args(argv)
    os.environ.setdefault("CONCIERGE_DEMO_CUSTOMERS", "400")
    with tempfile.TemporaryDirectory(prefix="concierge-fuzz-") as tmp:
        var_dir = Path(tmp)
        settings = StackSettings().with_ports(free_base_port(29000, 30000), var_dir)
        settings = settings.always_open()
        with running(settings, var_dir / "stack.log"):
            return asyncio.run(fuzz(settings, args.conversations, args.seed, args.concurrency, args.out))


if __name__ == "__main__":
    sys.exit(main())
