"""Whose X-Forwarded-For the routing service believes: only the reverse proxies named in CONCIERGE_TRUSTED_PROXIES.

The client's address is what the sign-in throttle counts per address (routing/throttle.py). uvicorn believes
X-Forwarded-For and X-Forwarded-Proto from 127.0.0.1 and ::1 unless told otherwise, so any client that reached
the service over loopback (or through a local proxy that passes the header on) could name a new address with each
guess and never be throttled. The service's servers take these options instead: forwarded headers are read only
from the listed proxy addresses (nginx's in the cluster, launcher/cluster.py), and not at all by default.
"""

from __future__ import annotations

import ipaddress
from typing import Any


def parse_trusted_proxies(value: str) -> list[str]:
    """The comma-separated addresses or networks (`10.0.0.5, 10.1.0.0/16`); ValueError for anything else ("*",
    host names), since the list decides whose word about a client's address is taken."""
    proxies = [item.strip() for item in value.split(",") if item.strip()]
    for item in proxies:
        try:  # as uvicorn reads them; it would take a malformed entry as a literal name, silently
            ipaddress.ip_network(item) if "/" in item else ipaddress.ip_address(item)
        except ValueError:
            raise ValueError(f"CONCIERGE_TRUSTED_PROXIES: {item!r} is not an IP address or network") from None
    return proxies


def uvicorn_options(trusted_proxies: str) -> dict[str, Any]:
    """uvicorn's proxy options for CONCIERGE_TRUSTED_PROXIES: no forwarded header is read when it is empty."""
    proxies = parse_trusted_proxies(trusted_proxies)
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies}
