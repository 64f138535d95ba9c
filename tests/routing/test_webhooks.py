"""A queue's outgoing webhook is called (through the outbox, retried after a failure) when an escalation waits."""

from __future__ import annotations

import time
from pathlib import Path

import yaml
from fastapi.testclient import TestClient
from fixtures_human_support import BOT, Recorder, hs_settings, packet

from routing.app import create_app


def test_a_waiting_escalation_calls_the_queue_webhook(hs_db_url: str, hs_policy: Path, hs_recorder: Recorder,
                                                      tmp_path: Path) -> None:
    policy = yaml.safe_load(hs_policy.read_text())
    for queue in policy["queues"]:
        if queue["name"] == "general":
            queue["webhook_url"] = f"{hs_recorder.url}/hooks/general"
    policy_file = tmp_path / "policy-webhook.yml"
    policy_file.write_text(yaml.safe_dump(policy))
    hs_recorder.fail_first = 1  # the receiver fails once: the outbox must retry

    app = create_app(hs_settings(hs_db_url, policy_file, hs_recorder.url))
    try:
        with TestClient(app) as client:
            created = client.post("/api/v1/escalations", json=packet("webhook-1"), headers=BOT)
            created.raise_for_status()
            vip = client.post("/api/v1/escalations", json=packet("webhook-2", queue="vip"), headers=BOT)
            vip.raise_for_status()
            deadline = time.monotonic() + 10
            while not hs_recorder.bodies("/hooks/general") and time.monotonic() < deadline:
                time.sleep(0.1)
    finally:
        app.state.engine.dispose()

    calls = hs_recorder.bodies("/hooks/general")
    assert len(calls) == 1, "exactly one successful call after the failed one"
    assert calls[0]["event"] == "escalation.waiting"
    assert calls[0]["escalation"]["id"] == created.json()["id"]
    assert calls[0]["escalation"]["conversation_id"] == "webhook-1"
    assert len([r for r in hs_recorder.requests if "/hooks/" in r["path"]]) == 2  # one failure, one success
