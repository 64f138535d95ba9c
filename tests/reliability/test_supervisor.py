"""The launcher's supervisor on small real processes: a killed child comes back after its back-off, the others
keep running, a crash loop backs off up to the cap, and a recovered child is reported healthy; a stopped (hung) child
is killed after its unanswered liveness probes and restarted, a slow start is left alone for its start-up grace."""

from __future__ import annotations

import io
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from launcher.ports import free_port
from launcher.settings import LivenessSettings, StackSettings
from launcher.stack import Backoff, ProcessSpec, Stack
from tests.reliability import polling
from tests.reliability.polling import healthy

DEADLINE = 60.0  # seconds a drill waits for something that takes well under one
# probes every 0.2 s, 0.3 s to answer, 3 unanswered in a row: a hung child is killed 0.6 to 1.2 s after it stopped
FAST = LivenessSettings(interval=0.2, timeout=0.3, failures=3, startup_grace=60)


def web_server(name: str, crash_flag: Path, backoff: Backoff, slow_flag: Path | None = None,
               live_path: str = "/") -> ProcessSpec:
    """A real HTTP server child that exits at once with code 3 while `crash_flag` exists, and takes as many seconds
    to start as `slow_flag` says while that file exists."""
    port = free_port()
    slow = f'[ -e "{slow_flag}" ] && sleep "$(cat "{slow_flag}")"; ' if slow_flag else ""
    script = f'[ -e "{crash_flag}" ] && exit 3; {slow}exec "{sys.executable}" -m http.server {port} --bind 127.0.0.1'
    return ProcessSpec(name, ["sh", "-c", script], f"http://127.0.0.1:{port}/", cwd=crash_flag.parent,
                       backoff=backoff, live_url=f"http://127.0.0.1:{port}{live_path}")


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Often enough to see a child between its death and its restart 0.1 s later."""
    polling.wait_for(condition, what, DEADLINE, every=0.05)


@contextmanager
def supervised(specs: list[ProcessSpec], log: io.StringIO, liveness: LivenessSettings = FAST) -> Iterator[Stack]:
    stack = Stack(replace(StackSettings(), liveness=liveness), log=log, specs=specs)
    stack.launch(timeout=DEADLINE)
    stopping = threading.Event()
    thread = threading.Thread(target=stack.supervise, args=(stopping, 0.05), daemon=True)
    thread.start()
    try:
        yield stack
    finally:
        stopping.set()
        thread.join()
        stack.stop()


def test_a_killed_child_is_restarted_with_back_off_while_its_sibling_keeps_serving(tmp_path: Path) -> None:
    flag = tmp_path / "crash"
    fragile = web_server("fragile", flag, Backoff(base=0.1, cap=0.4, stable=3600))
    sibling = web_server("sibling", tmp_path / "never", Backoff())
    log = io.StringIO()
    with supervised([fragile, sibling], log) as stack:
        sibling_pid = stack.pids()["sibling"]
        flag.touch()  # from now on the child dies at once each time it is started
        os.kill(stack.pids()["fragile"], signal.SIGKILL)
        wait_for(lambda: fragile.restarts >= 5, "five restarts of a crashing child")
        assert healthy(sibling.health_url), "the sibling serves all along"
        flag.unlink()  # the cause is fixed: the next restart stays up
        wait_for(lambda: "fragile is healthy again" in log.getvalue(), "the fixed child is healthy again")
        assert healthy(fragile.health_url)
        assert stack.pids()["sibling"] == sibling_pid, "the sibling was never restarted"
    exits = re.findall(r"fragile exited with code (\S+)(?: \(\w+\))? after [\d.]+s; restart (\d+) in ([\d.]+)s",
                       log.getvalue())
    print(f"supervisor drill: {len(exits)} deaths, exit codes {[e[0] for e in exits]}, "
          f"back-offs {[e[2] for e in exits]}")
    assert exits[0][0] == "-9" and "-9 (SIGKILL)" in log.getvalue()
    assert {code for code, _, _ in exits[1:]} == {"3"}
    assert [float(delay) for _, _, delay in exits[:5]] == [0.1, 0.2, 0.4, 0.4, 0.4]  # doubled, then capped
    assert [int(n) for _, n, _ in exits] == list(range(1, len(exits) + 1))
    assert "sibling exited" not in log.getvalue()


def test_stop_ends_every_child_even_one_waiting_for_its_restart(tmp_path: Path) -> None:
    child = web_server("child", tmp_path / "crash", Backoff(base=3600))
    other = web_server("other", tmp_path / "never", Backoff())
    log = io.StringIO()
    with supervised([child, other], log) as stack:
        os.kill(stack.pids()["child"], signal.SIGKILL)
        wait_for(lambda: child.restart_at is not None, "the death is noticed")
    assert child.proc is not None and other.proc is not None
    assert other.proc.returncode is not None and child.restarts == 0
    assert not healthy(other.health_url)


def test_back_off_doubles_up_to_the_cap_and_resets_after_a_stable_run() -> None:
    backoff = Backoff(base=1, cap=30, stable=60)
    assert [backoff.delay_after(ran_for=2) for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert backoff.delay_after(ran_for=61) == 1  # it had run for a minute: a new incident, not a crash loop
    assert backoff.delay_after(ran_for=0.5) == 2


def _gone(pid: int) -> bool:
    """No process `pid` any more (the supervisor reaps its dead children)."""
    return not Path(f"/proc/{pid}").exists()


def test_a_stopped_child_is_killed_after_its_unanswered_liveness_probes_and_restarted(tmp_path: Path) -> None:
    hung = web_server("hung", tmp_path / "never", Backoff(base=0.1))
    # its liveness URL answers 404: any answer means alive (a 503 for a database outage is not cured by a restart)
    sibling = web_server("sibling", tmp_path / "never", Backoff(), live_path="/no-such-page")
    log = io.StringIO()
    with supervised([hung, sibling], log) as stack:
        old, sibling_pid = stack.pids()["hung"], stack.pids()["sibling"]
        time.sleep(1.0)  # a few liveness probes answered: nothing happens to a child that answers
        assert "liveness probe" not in log.getvalue()
        os.kill(old, signal.SIGSTOP)
        stopped = time.monotonic()
        wait_for(lambda: hung.restarts >= 1, "the hung child is restarted")
        restarted_after = time.monotonic() - stopped
        wait_for(lambda: "hung is healthy again" in log.getvalue(), "the restarted child is healthy")
        back_after = time.monotonic() - stopped
        assert healthy(hung.health_url) and stack.pids()["hung"] != old and _gone(old)
        assert stack.pids()["sibling"] == sibling_pid and healthy(sibling.health_url)
    text = log.getvalue()
    print(f"liveness drill (probes every {FAST.interval}s, {FAST.timeout}s timeout, {FAST.failures} in a row): "
          f"hung child restarted {restarted_after:.2f}s after SIGSTOP, healthy again after {back_after:.2f}s")
    failures = [line.split(": ", 1)[1] for line in text.splitlines() if "liveness probe (" in line]
    assert [line.split(", last answer")[0] for line in failures] == [
        f"hung did not answer its liveness probe (no answer within 0.3s; GET {hung.live_url}): {n} of 3 in a row"
        for n in (1, 2, 3)]
    silent = [float(line.rsplit("last answer ", 1)[1].removesuffix("s ago")) for line in failures]
    assert silent == sorted(silent) and silent[-1] >= 3 * FAST.timeout, silent
    assert f"concierge: killing hung (pid {old}, SIGKILL) to restart it: no answer to 3 liveness probes in a row " \
           "(every 0.2s, 0.3s timeout)" in text
    assert re.search(r"hung exited with code -9 \(SIGKILL\) after [\d.]+s \(killed by the launcher: no answer to 3 "
                     r"liveness probes in a row \(every 0.2s, 0.3s timeout\)\); restart 1 in 0.1s", text)
    assert "concierge: sibling" not in text and "killing sibling" not in text, "the sibling (404s) was left alone"
    # 3 probes of at most 0.3 s each after the stop, plus one interval and the 0.05 s looks: about 1.3 s at worst
    assert restarted_after < 5.0


def test_a_slow_start_is_left_alone_and_only_a_start_past_its_grace_is_killed(tmp_path: Path) -> None:
    slow_flag = tmp_path / "slow"
    child = web_server("slow", tmp_path / "never", Backoff(base=0.1), slow_flag=slow_flag)
    log = io.StringIO()
    with supervised([child], log, replace(FAST, startup_grace=6.0)) as stack:
        slow_flag.write_text("3")  # each start now takes 3 s: 10 liveness intervals, 15 probe failures' worth
        os.kill(stack.pids()["slow"], signal.SIGKILL)
        wait_for(lambda: child.restarts == 1, "the killed child is restarted")
        starting = stack.pids()["slow"]
        wait_for(lambda: "slow is healthy again" in log.getvalue(), "the slow start completes")
        assert stack.pids()["slow"] == starting and child.restarts == 1, "not killed while it started"
        assert "killing slow" not in log.getvalue() and "liveness probe (" not in log.getvalue()

        slow_flag.write_text("3600")  # now a start that never ends: killed once its 6 s of grace are over
        killed_at = len(log.getvalue())
        os.kill(stack.pids()["slow"], signal.SIGKILL)
        wait_for(lambda: child.restarts == 2, "restarted once more")
        never_ready = stack.pids()["slow"]
        started = time.monotonic()
        wait_for(lambda: child.restarts == 3, "the start past its grace is killed and restarted")
        waited = time.monotonic() - started
        slow_flag.unlink()
        wait_for(lambda: "slow is healthy again (" in log.getvalue()[killed_at:], "a normal start is healthy again")
    text = log.getvalue()[killed_at:]
    print(f"start-up grace drill: a 3 s start left alone; a start past its 6 s grace killed after {waited:.1f}s")
    assert re.search(rf"killing slow \(pid {never_ready}, SIGKILL\) to restart it: no answer to 3 liveness probes in "
                     r"a row \(every 0.2s, 0.3s timeout\), and not ready 6s after its start", text), text
    assert 6.0 <= waited < 12.0


def test_a_child_that_answers_but_is_not_ready_past_its_grace_is_left_alone(tmp_path: Path) -> None:
    """Like a routing service restarted while its database is down: /health answers 503, and a restart would not
    cure that. Here the health URL is a file the child serves: 404 while it is missing."""
    ready = tmp_path / "ready"
    ready.touch()
    child = web_server("waiting", tmp_path / "never", Backoff(base=0.1))
    child.health_url = f"{child.health_url}ready"
    log = io.StringIO()
    with supervised([child], log, replace(FAST, startup_grace=1.0)) as stack:
        ready.unlink()
        os.kill(stack.pids()["waiting"], signal.SIGKILL)
        wait_for(lambda: child.restarts == 1, "restarted")
        time.sleep(3.0)  # three times its grace: answered (404) all along, so not killed
        assert child.restarts == 1 and not child.watch.ready
        ready.touch()
        wait_for(lambda: "waiting is healthy again" in log.getvalue(), "ready once its health URL says 200")
    assert "killing waiting" not in log.getvalue() and "did not answer" not in log.getvalue()


def test_liveness_restarts_can_be_turned_off(tmp_path: Path) -> None:
    child = web_server("paused", tmp_path / "never", Backoff(base=0.1))
    log = io.StringIO()
    with supervised([child], log, replace(FAST, failures=0)) as stack:
        pid = stack.pids()["paused"]
        os.kill(pid, signal.SIGSTOP)  # as a debugger would
        time.sleep(2.0)  # more than twice what it takes to kill it with the probes on
        assert stack.pids()["paused"] == pid and child.restarts == 0
        os.kill(pid, signal.SIGCONT)
    assert "concierge: " not in log.getvalue()
