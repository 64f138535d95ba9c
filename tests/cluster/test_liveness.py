"""Liveness in the cluster profile: each replica is probed on its own port and nginx on its own path, so a hung
replica is killed and restarted while nginx (and the other replica) keep serving, and nginx is never blamed for the
replicas behind it. Real nginx and real HTTP servers as the replicas (the whole cluster's drills are in
test_cluster.py and, for one stack, tests/reliability/test_launcher_drills.py)."""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import httpx

from launcher import nginx
from launcher.cluster import ClusterSettings, process_specs
from launcher.ports import free_port
from launcher.settings import LivenessSettings, StackSettings
from launcher.stack import Backoff, ProcessSpec, Stack
from tests.reliability.polling import healthy, wait_for

FAST = LivenessSettings(interval=0.2, timeout=0.3, failures=3, startup_grace=60)


def test_every_replica_is_probed_on_its_own_port_and_nginx_on_its_own_path(tmp_path: Path) -> None:
    stack = StackSettings().with_ports(27000, tmp_path)
    cluster = ClusterSettings.from_stack(stack, replicas=2, replica_offset=3)
    specs = {spec.name: spec for spec in process_specs(cluster)}
    for name, spec in specs.items():
        if name != "nginx":
            port = spec.health_url.split("/")[2]
            assert (spec.live_url or spec.health_url).split("/")[2] == port, f"{name} is probed on its own port"
    assert specs["routing1"].live_url.endswith(":27005/health/live")
    assert specs["rasa2"].live_url == f"http://{stack.host}:27006/"
    assert specs["rasa1"].liveness == stack.rasa_liveness and specs["rasa1"].liveness.timeout == 30
    assert specs["nginx"].live_url == f"{stack.routing_url}{nginx.LIVE_PATH}"


def _replica(name: str, folder: Path) -> ProcessSpec:
    port = free_port()
    return ProcessSpec(name, [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                       f"http://127.0.0.1:{port}/", cwd=folder, backoff=Backoff(base=0.1))


def test_a_hung_replica_is_restarted_while_nginx_keeps_serving(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("replica\n")
    replicas = [_replica("routing1", tmp_path), _replica("routing2", tmp_path)]
    ports = [int(spec.health_url.split(":")[2].rstrip("/")) for spec in replicas]
    fronts = {"rasa": free_port(), "actions": free_port(), "routing": free_port()}
    directory = tmp_path / "nginx"
    conf = nginx.write_config(directory, nginx.render(directory, "127.0.0.1", fronts,
                                                      dict.fromkeys(fronts, ports), max_body_bytes=1_000_000))
    front = f"http://127.0.0.1:{fronts['routing']}"
    door = ProcessSpec("nginx", nginx.argv(directory, conf), f"{front}/", live_url=f"{front}{nginx.LIVE_PATH}")
    log = io.StringIO()
    stack = Stack(replace(StackSettings(), liveness=FAST), log=log, specs=[*replicas, door])
    stack.launch(timeout=60)
    stopping = threading.Event()
    supervisor = threading.Thread(target=stack.supervise, args=(stopping, 0.05), daemon=True)
    supervisor.start()
    try:
        before = stack.pids()
        os.kill(before["routing1"], signal.SIGSTOP)
        stopped = time.monotonic()
        # requests through the front door meanwhile: the ones sent to the hung replica are answered by the other
        # once the hung one is killed (nginx passes a request whose replica closed without an answer to the next)
        answers, waits = [], []
        for _ in range(4):
            started = time.monotonic()
            answers.append(httpx.get(f"{front}/", timeout=30).status_code)
            waits.append(round(time.monotonic() - started, 2))
        wait_for(lambda: replicas[0].restarts == 1, "the hung replica is restarted", 30, every=0.05)
        restarted_after = time.monotonic() - stopped
        wait_for(lambda: healthy(replicas[0].health_url), "the restarted replica serves", 30)
        after = stack.pids()
        assert after["routing1"] != before["routing1"] and not Path(f"/proc/{before['routing1']}").exists()
        assert (after["routing2"], after["nginx"]) == (before["routing2"], before["nginx"])
    finally:
        stopping.set()
        supervisor.join()
        stack.stop()
    text = log.getvalue()
    print(f"cluster liveness: hung replica restarted {restarted_after:.2f}s after SIGSTOP; front door answers "
          f"{answers} in {waits} s")
    assert answers == [200] * 4
    assert "killing routing1 (pid" in text
    assert "killing nginx" not in text and "killing routing2" not in text and "nginx did not answer" not in text
