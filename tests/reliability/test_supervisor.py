"""The launcher's supervisor on small real processes: a killed child comes back after its back-off, the others
keep running, a crash loop backs off up to the cap, and a recovered child is reported healthy."""

from __future__ import annotations

import io
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from launcher.ports import free_port
from launcher.settings import StackSettings
from launcher.stack import Backoff, ProcessSpec, Stack
from tests.reliability import polling
from tests.reliability.polling import healthy

DEADLINE = 60.0  # seconds a drill waits for something that takes well under one


def web_server(name: str, crash_flag: Path, backoff: Backoff) -> ProcessSpec:
    """A real HTTP server child that exits at once with code 3 while `crash_flag` exists."""
    port = free_port()
    script = f'[ -e "{crash_flag}" ] && exit 3; exec "{sys.executable}" -m http.server {port} --bind 127.0.0.1'
    return ProcessSpec(name, ["sh", "-c", script], f"http://127.0.0.1:{port}/", cwd=crash_flag.parent,
                       backoff=backoff)


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Often enough to see a child between its death and its restart 0.1 s later."""
    polling.wait_for(condition, what, DEADLINE, every=0.05)


@contextmanager
def supervised(specs: list[ProcessSpec], log: io.StringIO) -> Iterator[Stack]:
    stack = Stack(StackSettings(), log=log, specs=specs)
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
