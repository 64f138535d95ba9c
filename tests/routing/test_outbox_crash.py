"""A crash in the middle of a delivery round re-sends at most the one item that was on the wire: the real routing
service (a subprocess) is killed with SIGKILL while Rasa (the recorder) holds one message unanswered."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from fixtures_human_support import Recorder
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from clock import ANCHOR_VARIABLE, START_VARIABLE, utcnow
from routing.db import make_engine
from routing.escalations import outbox
from routing.escalations.models import OutboxItem
from routing.settings import ROOT

TEXTS = [f"message {n}" for n in range(1, 6)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _service(db_url: str, policy: Path, rasa_url: str, log: Path, **extra: str) -> subprocess.Popen[bytes]:
    """`python -m routing.cli serve`: the service with its outbox worker, relaying to `rasa_url`."""
    env = {**os.environ, "CONCIERGE_ENV": "development", "CONCIERGE_DATABASE_URL": db_url,
           "CONCIERGE_POLICY_FILE": str(policy), "CONCIERGE_RASA_URL": rasa_url,
           "CONCIERGE_ROUTING_PORT": str(_free_port()), "CONCIERGE_HOST": "127.0.0.1", **extra}
    if START_VARIABLE in extra:
        env.pop(ANCHOR_VARIABLE, None)  # a clock of its own, started at that instant
    return subprocess.Popen([sys.executable, "-m", "routing.cli", "serve"], cwd=ROOT, env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)


def _texts(rec: Recorder, answered: bool) -> list[str]:
    return [r["body"][0]["text"] for r in rec.received("/conversations/crash/tracker/events")
            if not answered or r["status"] == 200]


def test_kill_9_mid_round_resends_at_most_the_item_on_the_wire(hs_db_url: str, hs_policy: Path,
                                                               hs_recorder: Recorder, tmp_path: Path) -> None:
    engine = make_engine(hs_db_url)
    sessions = sessionmaker(engine)
    with sessions.begin() as s:
        for text in TEXTS:
            outbox.enqueue(s, "agent_message", "crash", {"text": text, "agent_name": "Bob"})

    def third(path: str, body: Any) -> bool:
        return isinstance(body, list) and body[0].get("text") == TEXTS[2] and not hs_recorder.release.is_set()

    hs_recorder.hold_if = third  # "Rasa" takes the third message and never answers
    log = tmp_path / "service.log"
    first = _service(hs_db_url, hs_policy, hs_recorder.url, log)
    try:
        assert hs_recorder.holding.wait(60), log.read_text()
        first.send_signal(signal.SIGKILL)  # mid-round: message 3 is on the wire, 4 and 5 wait behind it
        assert first.wait(10) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()
    assert _texts(hs_recorder, answered=True) == TEXTS[:2]
    with sessions() as s:
        states = [(i.state, i.attempts) for i in s.scalars(select(OutboxItem).order_by(OutboxItem.id))]
    assert states == [("sent", 1), ("sent", 1), ("pending", 1), ("pending", 0), ("pending", 0)]

    hs_recorder.release.set()  # Rasa answers again; the restarted service runs past the lease of message 3
    later = (utcnow() + timedelta(seconds=outbox.LEASE_SECONDS + 5)).isoformat()
    second = _service(hs_db_url, hs_policy, hs_recorder.url, log, **{START_VARIABLE: later})
    try:
        deadline = time.monotonic() + 60
        while len(_texts(hs_recorder, answered=True)) < len(TEXTS) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        second.terminate()
        second.wait(10)
    engine.dispose()

    assert _texts(hs_recorder, answered=True) == TEXTS, log.read_text()  # in order, each answered once
    on_the_wire = _texts(hs_recorder, answered=False)
    assert on_the_wire == TEXTS[:3] + TEXTS[2:]  # message 3 twice (cut by the crash, then again): nothing else
    assert len(on_the_wire) - len(TEXTS) == 1
