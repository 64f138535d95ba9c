"""The outbox blocks no one: lanes, a webhook lane of its own, back-off, dead letters (shown to the agent, counted on
/health, listed and re-queued by a command). Real HTTP receivers (the recorder), SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from fixtures_human_support import BOT, CSAT_SECRET, Recorder, add_agent, agent_headers, eventually, hs_settings, packet
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clock import FixedClock, use, utcnow
from routing.app import create_app
from routing.cli import main
from routing.escalations import outbox
from routing.escalations.claims import JOINED_MESSAGE
from routing.escalations.delivery import OutboxDelivery
from routing.escalations.models import OutboxItem
from routing.escalations.relay import RasaRelay
from routing.settings import get_settings


def _texts(rec: Recorder, conversation: str) -> list[str]:
    return [body[0]["text"] for body in rec.bodies(f"/conversations/{conversation}/tracker/events")]


def _items(sessions: sessionmaker[Session], conversation: str) -> list[OutboxItem]:
    with sessions() as s:
        return list(s.scalars(select(OutboxItem).where(OutboxItem.conversation_id == conversation)
                              .order_by(OutboxItem.id)))


def _webhook_policy(policy: Path, tmp_path: Path, url: str) -> Path:
    data = yaml.safe_load(policy.read_text())
    for queue in data["queues"]:
        if queue["name"] == "general":
            queue["webhook_url"] = url
    out = tmp_path / "policy-webhook.yml"
    out.write_text(yaml.safe_dump(data))
    return out


@pytest.mark.parametrize("receiver", ["hangs", "refuses"])
def test_a_dead_webhook_does_not_delay_the_agents_messages(hs_db_url: str, hs_policy: Path, hs_recorder: Recorder,
                                                           tmp_path: Path, receiver: str) -> None:
    """The queue's webhook receiver accepts and never answers (or refuses connections); the customer still gets the
    agent's messages at once: the webhook has a lane (and slots) of its own."""
    if receiver == "hangs":
        hs_recorder.hold_paths = {"/hooks/"}
        hook = f"{hs_recorder.url}/hooks/general"
    else:
        hook = "http://127.0.0.1:9/hooks/general"  # nothing listens on the discard port
    app = create_app(hs_settings(hs_db_url, _webhook_policy(hs_policy, tmp_path, hook), hs_recorder.url))
    try:
        with TestClient(app) as client:
            add_agent(app.state.sessions, "carol", ["general"])
            carol = agent_headers(client, "carol")
            esc = client.post("/api/v1/escalations", json=packet("hooked"), headers=BOT).json()
            if receiver == "hangs":
                assert hs_recorder.holding.wait(10), "the webhook call should be on the wire"
            else:
                assert eventually(lambda: _items(app.state.sessions, "hooked")[0].attempts >= 1)
            url = f"/api/v1/agent/escalations/{esc['id']}"
            assert client.post(f"{url}/claim", headers=carol).status_code == 200
            assert client.post(f"{url}/messages", json={"text": "Hi, Carol here."}, headers=carol).status_code == 201
            joined = JOINED_MESSAGE.format(agent="Carol")
            assert eventually(lambda: _texts(hs_recorder, "hooked") == [joined, "Hi, Carol here."])
            [webhook] = [i for i in _items(app.state.sessions, "hooked") if i.kind == "webhook"]
            assert webhook.state == "pending" and webhook.sent_at is None  # still not answered, nothing waited on it
            if receiver == "hangs":
                assert not hs_recorder.bodies("/hooks/")
            else:
                assert "ConnectError" in (webhook.last_error or "")
            assert eventually(lambda: client.get(url, headers=carol).json()["messages"][-1]["delivery"] == "sent")
            hs_recorder.release.set()
    finally:
        app.state.engine.dispose()


def test_sixty_failing_items_of_one_conversation_do_not_block_another(
        hs_client: TestClient, hs_sessions: sessionmaker[Session], hs_recorder: Recorder) -> None:
    hs_recorder.fail_paths = {"/conversations/stuck/"}
    with hs_sessions.begin() as s:
        for n in range(60):
            outbox.enqueue(s, "agent_message", "stuck", {"text": f"stuck {n}", "agent_name": "Bob"})
        outbox.enqueue(s, "agent_message", "healthy", {"text": "hello", "agent_name": "Bob"})
    assert eventually(lambda: _texts(hs_recorder, "healthy") == ["hello"])
    # the head's attempt is counted when it is claimed, its error once the send failed: wait for both (a loaded
    # machine can deliver the healthy lane in between)
    assert eventually(lambda: "500" in (_items(hs_sessions, "stuck")[0].last_error or ""))
    stuck = _items(hs_sessions, "stuck")
    assert stuck[0].attempts >= 1
    assert {i.attempts for i in stuck[1:]} == {0}, "only the head of a lane is ever tried"
    assert {i.state for i in stuck} == {"pending"}  # kept, in order, for when the conversation comes back
    tried = {r["body"][0]["text"] for r in hs_recorder.received("/conversations/stuck/")}
    assert tried == {"stuck 0"}


def test_one_round_sends_the_head_of_every_lane(hs_sessions: sessionmaker[Session], hs_recorder: Recorder) -> None:
    """The heads are chosen in SQL: 60 failing items ahead of them (by id) in one lane do not fill the round."""
    hs_recorder.fail_paths = {"/conversations/stuck/"}
    with hs_sessions.begin() as s:
        for n in range(60):
            outbox.enqueue(s, "agent_message", "stuck", {"text": f"stuck {n}", "agent_name": "Bob"})
        for name in ("a", "b", "c"):
            outbox.enqueue(s, "agent_message", name, {"text": f"to {name}", "agent_name": "Bob"})
            outbox.enqueue(s, "end_handoff", name, {"status": "resolved", "disposition": None})
    delivery = OutboxDelivery(hs_sessions, RasaRelay(hs_recorder.url, "tok"), max_attempts=10, parallel=2,
                              csat_secret=CSAT_SECRET)
    try:
        assert delivery.drain(utcnow()) == 6  # each lane in order, the stuck one tried once
    finally:
        delivery.close()
    for name in ("a", "b", "c"):
        assert [r["path"].rsplit("/", 1)[-1] for r in hs_recorder.received(f"/conversations/{name}/")] == [
            "events", "trigger_intent"]
    assert [i.attempts for i in _items(hs_sessions, "stuck")][:3] == [1, 0, 0]


def test_backoff_doubles_then_the_item_is_a_dead_letter_and_the_lane_moves_on(
        hs_sessions: sessionmaker[Session], hs_recorder: Recorder) -> None:
    hs_recorder.fail_paths = {"/conversations/down/tracker/events"}  # the message fails, the end of handoff would not
    clock = FixedClock(utcnow())
    start = clock.instant
    delivery = OutboxDelivery(hs_sessions, RasaRelay(hs_recorder.url, "tok"), max_attempts=5, parallel=2,
                              csat_secret=CSAT_SECRET)
    with use(clock), hs_sessions.begin() as s:
        outbox.enqueue(s, "agent_message", "down", {"text": "lost?", "agent_name": "Bob"})
        outbox.enqueue(s, "end_handoff", "down", {"status": "resolved", "disposition": None})
    waits = []
    try:
        with use(clock):
            for attempt in range(1, 5):
                assert delivery.drain() == 0  # the end of the handoff waits behind the failing message
                head, after = _items(hs_sessions, "down")
                assert head.attempts == attempt and head.state == "pending" and after.attempts == 0
                waits.append((head.next_attempt_at - clock.instant).total_seconds())
                clock.instant = head.next_attempt_at
            assert waits == [2, 4, 8, 16]  # exponential back-off, computed from clock.utcnow()
            assert delivery.drain() == 1  # the 5th attempt fails too: given up, and the next item of the lane goes
            head, after = _items(hs_sessions, "down")
            assert head.state == "dead" and head.attempts == 5 and "500" in (head.last_error or "")
            assert head.dead_at == clock.instant == start + timedelta(seconds=30)
            assert after.state == "sent"
            with hs_sessions() as s:
                assert outbox.counts(s) == {"pending": 0, "dead": 1}
                assert [i.id for i in outbox.dead_letters(s)] == [head.id]
            hs_recorder.fail_paths = set()
            with hs_sessions.begin() as s:
                assert outbox.requeue(s, [head.id]) == 1
            assert delivery.drain() == 1
    finally:
        delivery.close()
    assert _texts(hs_recorder, "down") == ["lost?"]
    assert len(hs_recorder.received("/conversations/down/tracker/events")) == 6  # 5 failed + the re-queued one
    assert [i.state for i in _items(hs_sessions, "down")] == ["sent", "sent"]


def test_a_dead_letter_shows_on_the_message_on_health_and_in_the_commands(
        hs_db_url: str, hs_policy: Path, hs_recorder: Recorder, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    hs_recorder.fail_paths = {"/conversations/gone/"}
    settings = hs_settings(hs_db_url, hs_policy, hs_recorder.url).model_copy(update={"outbox_max_attempts": 2})
    app = create_app(settings)
    for key, value in {"CONCIERGE_DATABASE_URL": hs_db_url, "CONCIERGE_POLICY_FILE": str(hs_policy),
                       "CONCIERGE_ENV": "development"}.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        with TestClient(app) as client:
            add_agent(app.state.sessions, "carol", ["general"])
            carol = agent_headers(client, "carol")
            esc = client.post("/api/v1/escalations", json=packet("gone"), headers=BOT).json()
            url = f"/api/v1/agent/escalations/{esc['id']}"
            client.post(f"{url}/claim", headers=carol).raise_for_status()
            reply = client.post(f"{url}/messages", json={"text": "Are you still there?"}, headers=carol).json()

            def delivery() -> Any:
                [message] = [m for m in client.get(url, headers=carol).json()["messages"] if m["id"] == reply["id"]]
                return message["delivery"]

            assert eventually(lambda: delivery() == "failed")  # two attempts, 2 s apart
            # the joined note too
            assert client.get("/health", headers=BOT).json()["outbox"] == {"pending": 0, "dead": 2}
            assert main(["escalations", "dead-letters"]) == 0
            listed = capsys.readouterr().out
            assert "Are you still there?" in listed and "2 dead letter(s)" in listed and "500" in listed
            assert main(["escalations", "dead-letters", "--limit", "1"]) == 0
            assert "the oldest 1 of 2 dead letter(s)" in capsys.readouterr().out

            hs_recorder.fail_paths = set()  # the conversation is back: the operator re-queues
            assert main(["escalations", "requeue", "--all"]) == 0
            assert "re-queued 2 item(s)" in capsys.readouterr().out
            assert eventually(lambda: delivery() == "sent")
            assert client.get("/health", headers=BOT).json()["outbox"] == {"pending": 0, "dead": 0}
            assert _texts(hs_recorder, "gone") == [JOINED_MESSAGE.format(agent="Carol"), "Are you still there?"]
            assert main(["escalations", "requeue"]) == 2  # names nothing: refused
    finally:
        get_settings.cache_clear()
        app.state.engine.dispose()
