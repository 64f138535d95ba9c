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


def free_base_port(start: int = 28000, stop: int = 29000, width: int = 3) -> int:
    """A base port with the `width` - 1 ports after it free as well (3 for StackSettings.with_ports; at most 10)."""
    for base in range(start, stop, 10):
        if all(_free(p) for p in range(base, base + width)):
            return base
    raise RuntimeError(f"no {width} free ports in a row in {start}..{stop}")
