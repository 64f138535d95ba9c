"""Free loopback ports for private stacks and servers (tests, benchmarks)."""

from __future__ import annotations

import socket


def _free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def free_port() -> int:
    """A port the kernel reports unused on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_base_port(start: int = 28000, stop: int = 29000) -> int:
    """A base port with base+1 and base+2 free as well (for StackSettings.with_ports)."""
    for base in range(start, stop, 10):
        if all(_free(p) for p in (base, base + 1, base + 2)):
            return base
    raise RuntimeError(f"no three free ports in {start}..{stop}")
