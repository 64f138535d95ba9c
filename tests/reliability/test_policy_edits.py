"""A bad edit of the policy file keeps the last valid policy in force (on the real service, edited while it runs);
a service that never read a valid policy refuses to start."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from launcher.ports import free_port
from launcher.settings import ROOT
from tests.reliability.routing_service import BOT, init_database, routing_service, start_service

POLICY_TEXT = (ROOT / "routing" / "policy.yml").read_text()


def write(path: Path, text: str) -> None:
    """Replace the file's content; the new modification time is distinct from the last one's."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    while path.stat().st_mtime_ns == before:  # coarse file-system clocks
        time.sleep(0.01)
        path.write_text(text)


def versioned(version: str) -> str:
    policy = yaml.safe_load(POLICY_TEXT)
    policy["version"] = version
    return yaml.safe_dump(policy, sort_keys=False)


def state(client: httpx.Client) -> tuple[str, dict[str, Any]]:
    """The version the service applies (its policy summary and a routing decision) and its /health answer."""
    summary = client.get("/api/v1/policy").raise_for_status().json()
    decision = client.post("/api/v1/decisions", json={"conversation_id": "policy-edit", "intent": "track_order"})
    assert decision.status_code == 200, decision.text
    health = client.get("/health")
    assert health.status_code == 200
    return str(summary["version"]), dict(health.json())


def test_a_bad_edit_keeps_the_last_valid_policy_and_health_says_why(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    write(policy, versioned("v1"))
    url = f"sqlite:///{tmp_path / 'routing.db'}"
    init_database(url, policy)
    with routing_service(url, policy, tmp_path / "service.log") as service, \
            httpx.Client(base_url=service.url, headers=BOT, timeout=10) as client:
        version, health = state(client)
        assert (version, health["status"], health["policy"]["error"]) == ("v1", "ok", None)
        assert health["policy"]["path"] == str(policy) and health["policy"]["loaded_at"]
        loaded_at = health["policy"]["loaded_at"]

        write(policy, "tiers: [unclosed\n")  # not YAML
        for _ in range(3):
            version, health = state(client)
            assert version == "v1"
        assert health["status"] == "degraded" and health["database"] == "ok"
        assert health["policy"]["error"].startswith(f"{policy}: not valid YAML")
        assert health["policy"]["loaded_at"] == loaded_at, "still the version loaded first"

        write(policy, versioned("v2").replace("queue: priority", "queue: nowhere", 1))  # YAML, but invalid
        version, health = state(client)
        assert version == "v1" and "unknown queue 'nowhere'" in health["policy"]["error"]

        write(policy, versioned("v2"))  # fixed
        version, health = state(client)
        assert (version, health["status"], health["policy"]["error"]) == ("v2", "ok", None)

        policy.unlink()  # removed
        version, health = state(client)
        assert version == "v2" and health["policy"]["error"] == f"{policy}: policy file not found"
        log = service.log()
    assert log.count(f"{policy}: not valid YAML") == 1, "each bad version is logged once, with the file's path"
    assert f"still applying the valid version of {policy}" in log
    assert log.count("unknown queue 'nowhere'") == 1
    assert "valid again (version v2)" in log
    assert "Traceback" not in log and " 500" not in log


def test_without_any_valid_policy_the_service_refuses_to_start(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    write(policy, versioned("v1"))
    url = f"sqlite:///{tmp_path / 'routing.db'}"
    init_database(url, policy)
    write(policy, versioned("v1").replace("anonymous_tier: bronze", "anonymous_tier: guest"))
    log_path = tmp_path / "service.log"
    proc = start_service(url, policy, log_path, free_port())
    try:
        code = proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    log = log_path.read_text()
    assert code == 1, log
    assert f"routing: cannot start without a valid policy: {policy}: invalid policy" in log
    assert "anonymous_tier: unknown tier 'guest'" in log
