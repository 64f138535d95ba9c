"""Expiry of escalations nobody picks up, and the relay to Rasa through the outbox (retries, order, nothing lost)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fixtures_human_support import CSAT_SECRET, Recorder
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from routing.escalations import outbox, service
from routing.escalations.delivery import OutboxDelivery
from routing.escalations.models import Escalation, OutboxItem
from routing.escalations.relay import RasaRelay
from routing.escalations.schemas import EscalationIn
from routing.policy.loader import load_policy

pytestmark = pytest.mark.clock  # about hours, SLAs, expiry or dates: CI runs it at other instants too


def test_waiting_too_long_expires_and_the_bot_is_told(hs_sessions: sessionmaker[Session], hs_policy: Path,
                                                       hs_recorder: Recorder) -> None:
    policy = load_policy(hs_policy)
    timeout = policy.queue("general").escalation_timeout_seconds
    long_ago = utcnow() - timedelta(seconds=timeout + 5)
    with hs_sessions() as s:
        old = service.create(s, EscalationIn(conversation_id="old", idempotency_key="old", tier="bronze",
                                             queue="general"), policy, now=long_ago)[0].id
        new = service.create(s, EscalationIn(conversation_id="new", idempotency_key="new", tier="bronze",
                                             queue="general"), policy)[0].id
        assert service.expire_due(s) == 1
        s.commit()
        delivery = OutboxDelivery(hs_sessions, RasaRelay(hs_recorder.url, "tok"), 10, 4, csat_secret=CSAT_SECRET)
        assert delivery.drain() == 1
        expired, waiting = s.get(Escalation, old), s.get(Escalation, new)
        assert expired is not None and waiting is not None
        assert expired.status == "expired" and expired.alternative == "callback" and expired.closed_at
        assert waiting.status == "waiting"
    [sent] = [r for r in hs_recorder.requests if r["status"] == 200]
    assert sent["path"] == "/conversations/old/trigger_intent" and sent["query"]["output_channel"] == ["latest"]
    with hs_sessions() as s:
        item = s.scalars(select(OutboxItem.id).where(OutboxItem.conversation_id == "old",
                                                   OutboxItem.kind == "end_handoff")).one()
    # the outbox item's key rides along: a repeated attempt is applied once (bot_runtime/relay_once.py)
    assert sent["body"]["entities"] == {"handoff_status": "expired", "disposition": "", "relay_id": f"outbox:{item}"}


def test_outbox_retries_in_order_until_rasa_answers(hs_sessions: sessionmaker[Session],
                                                     hs_recorder: Recorder) -> None:
    delivery = OutboxDelivery(hs_sessions, RasaRelay(hs_recorder.url, "tok"), max_attempts=10, parallel=4,
                              csat_secret=CSAT_SECRET)
    hs_recorder.fail_first = 1  # Rasa is down for the first delivery round
    with hs_sessions() as s:
        outbox.enqueue(s, "agent_message", "conv-r", {"text": "first", "agent_name": "Bob"})
        outbox.enqueue(s, "agent_message", "conv-r", {"text": "second", "agent_name": "Bob"})
        outbox.enqueue(s, "end_handoff", "conv-r", {"status": "resolved", "disposition": "resolved"})
        s.commit()
        now = utcnow()
        assert delivery.drain(now) == 0  # first failed; the later ones must not overtake it
        items = list(s.scalars(select(OutboxItem).order_by(OutboxItem.id)))
        assert [i.attempts for i in items] == [1, 0, 0] and "500" in (items[0].last_error or "")
        assert items[0].next_attempt_at == now + timedelta(seconds=2)
        assert delivery.drain(now + timedelta(seconds=1)) == 0  # not due yet: backoff
        assert delivery.drain(now + timedelta(minutes=1)) == 3
        s.expire_all()
        assert {i.state for i in s.scalars(select(OutboxItem))} == {"sent"}
        assert all(i.sent_at for i in s.scalars(select(OutboxItem)))
    delivery.close()
    texts = [b[0]["text"] for b in hs_recorder.bodies("/tracker/events")]
    assert texts == ["first", "second"] and len(hs_recorder.bodies("trigger_intent")) == 1
    first_ok = next(r for r in hs_recorder.requests if r["status"] == 200)
    assert first_ok["query"]["execute_side_effects"] == ["true"] and first_ok["query"]["token"] == ["tok"]
