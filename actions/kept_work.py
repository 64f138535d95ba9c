"""Work the bot kept while the routing service was unreachable, and when to try it again.

What to send stays in the conversation's slots (`pending_escalation`, `pending_relay`: the tracker store keeps them
across restarts); this store only remembers which conversations have kept work and when each is due. It is a file of
its own, not a Rasa reminder (reminders live in the Rasa process's memory and were lost when it restarted), and the
action server's loop (`deliver_due`) asks Rasa to run `action_retry_escalation` in each due conversation, from
start-up on, whichever process restarted in between.

A request for a person kept while the customer's sign-in could not be checked (the service was down from the
first message on) also keeps the customer's token here, beside the conversation, so that the retry decides for the
customer they are, not for a guest (actions/retry.py). The token is a credential until its `exp`: it waits in this
store only (never in the tracker store), and goes with the row when the work is done or given up.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import httpx

from clock import utcnow

logger = logging.getLogger(__name__)

RETRY_SECONDS = (5, 10, 20, 30)  # then every 30 s: kept work reaches a person within a minute of the service's return
MAX_ATTEMPTS = 240  # two hours of tries; then the customer is told and given another way (actions/handoff.py)
TRIGGER_INTENT = "EXTERNAL_retry_escalation"
SCHEMA = """CREATE TABLE IF NOT EXISTS kept_work (
    conversation_id TEXT PRIMARY KEY, due_at REAL NOT NULL, attempt INTEGER NOT NULL, token TEXT)"""
_prepared: set[Path] = set()  # stores whose table this process has created (once, not on every call)


def store_path() -> Path:
    """CONCIERGE_KEPT_WORK_DB, else kept-work.db in the stack's data folder (CONCIERGE_VAR_DIR, default var/)."""
    configured = os.environ.get("CONCIERGE_KEPT_WORK_DB")
    if configured:
        return Path(configured)
    return Path(os.environ.get("CONCIERGE_VAR_DIR", "var")) / "kept-work.db"


@contextmanager
def _db() -> Iterator[sqlite3.Connection]:
    path = store_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    conn = sqlite3.connect(path, timeout=5.0)
    try:
        if new or path not in _prepared:
            conn.execute("PRAGMA journal_mode=WAL")  # persistent: set once per file
            conn.execute(SCHEMA)
            if "token" not in {row[1] for row in conn.execute("PRAGMA table_info(kept_work)")}:
                conn.execute("ALTER TABLE kept_work ADD COLUMN token TEXT")  # a store from before tokens were kept
            _prepared.add(path)
        with conn:
            yield conn
    finally:
        conn.close()


def delay(attempt: int) -> int:
    """Seconds before try number `attempt` (1 = the first retry)."""
    return RETRY_SECONDS[min(max(attempt, 1), len(RETRY_SECONDS)) - 1]


def remember(conversation_id: str, attempt: int = 1, token: str | None = None) -> None:
    """Try the conversation's kept work again after `delay(attempt)` seconds (replaces an earlier plan). `token`: the
    customer's sign-in token still to be checked; a plan without one keeps the token kept before."""
    due = utcnow().timestamp() + delay(attempt)
    with _db() as conn:
        conn.execute("INSERT INTO kept_work (conversation_id, due_at, attempt, token) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT (conversation_id) DO UPDATE SET due_at = excluded.due_at, "
                     "attempt = excluded.attempt, token = coalesce(excluded.token, kept_work.token)",
                     (conversation_id, due, attempt, token))


def token_of(conversation_id: str) -> str | None:
    """The sign-in token kept with the conversation's work, still to be checked (None when none was kept)."""
    with _db() as conn:
        row = conn.execute("SELECT token FROM kept_work WHERE conversation_id = ?", (conversation_id,)).fetchone()
    return str(row[0]) if row and row[0] is not None else None


def forget(conversation_id: str) -> None:
    """The conversation has no kept work any more."""
    with _db() as conn:
        conn.execute("DELETE FROM kept_work WHERE conversation_id = ?", (conversation_id,))


def attempt_of(conversation_id: str) -> int:
    """How many tries the conversation's kept work has had (0 when it has none)."""
    with _db() as conn:
        row = conn.execute("SELECT attempt FROM kept_work WHERE conversation_id = ?", (conversation_id,)).fetchone()
    return int(row[0]) if row else 0


def due(limit: int = 50) -> list[str]:
    """Conversations whose kept work is due, most overdue first; each is postponed by a round, so that a slow
    retry is not triggered twice (the retry action then plans the next try or forgets the conversation)."""
    now = utcnow().timestamp()
    with _db() as conn:
        rows = conn.execute("SELECT conversation_id, attempt FROM kept_work WHERE due_at <= ? ORDER BY due_at LIMIT ?",
                            (now, limit)).fetchall()
        for conversation_id, attempt in rows:
            conn.execute("UPDATE kept_work SET due_at = ? WHERE conversation_id = ?",
                         (now + delay(int(attempt) + 1), conversation_id))
    return [str(row[0]) for row in rows]


async def deliver_due(http: httpx.AsyncClient, rasa_url: str, rasa_token: str) -> int:
    """Ask Rasa to retry the kept work of every due conversation; the number of conversations asked."""
    asked = 0
    for conversation_id in due():
        url = f"{rasa_url}/conversations/{quote(conversation_id, safe='')}/trigger_intent"
        try:
            response = await http.post(url, params={"token": rasa_token, "output_channel": "latest"},
                                       json={"name": TRIGGER_INTENT})
            response.raise_for_status()
            asked += 1
        except httpx.HTTPError as error:  # Rasa is down or restarting: the next round tries again
            logger.warning("kept work of %s not retried yet: %r", conversation_id, error)
    return asked
