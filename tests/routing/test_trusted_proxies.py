"""X-Forwarded-For is believed only from the proxies named in CONCIERGE_TRUSTED_PROXIES (routing/proxies.py): the
real service (`routing.cli serve`, as the launchers start it) over real HTTP from loopback, where uvicorn's own
default would believe anyone."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fixtures_human_support import hs_policy_file
from pydantic import ValidationError

from routing.settings import Settings
from tests.reliability.routing_service import init_database, routing_service


def _failed_sign_ins(http: httpx.Client, logins: list[str], forwarded_for: str) -> list[int]:
    return [http.post("/api/v1/agent/login", json={"login": login, "password": "guess"},
                      headers={"X-Forwarded-For": forwarded_for}).status_code for login in logins]


@pytest.mark.parametrize("trusted", ["", "127.0.0.1"])
def test_the_throttle_counts_the_forwarded_address_only_from_a_trusted_proxy(tmp_path: Path, trusted: str) -> None:
    url, policy = f"sqlite:///{tmp_path / 'routing.db'}", hs_policy_file(tmp_path)
    init_database(url, policy, demo_customers=0)
    with routing_service(url, policy, tmp_path / "service.log", env={"CONCIERGE_TRUSTED_PROXIES": trusted}) as svc, \
            httpx.Client(base_url=svc.url, timeout=30) as http:
        # 20 failures (the limit of one address across logins), each naming another address
        codes = [_failed_sign_ins(http, [f"user{n}"], f"203.0.113.{n}")[0] for n in range(20)]
        assert codes == [401] * 20
        after = _failed_sign_ins(http, ["user-next"], "203.0.113.99")
        if not trusted:  # the header changed nothing: all 20 came from 127.0.0.1, which is locked
            assert after == [429], svc.log()
            return
        assert after == [401]  # each named address was counted on its own...
        assert _failed_sign_ins(http, [f"other{n}" for n in range(20)], "198.51.100.5") == [401] * 20
        assert _failed_sign_ins(http, ["other-last"], "198.51.100.5") == [429]  # ...and the named one locks
        assert _failed_sign_ins(http, ["user-next"], "203.0.113.98") == [401]


@pytest.mark.parametrize("value", ["*", "localhost", "10.0.0.1/8", "127.0.0.1, nginx"])
def test_trusted_proxies_are_addresses_or_networks(value: str) -> None:
    with pytest.raises(ValidationError, match="CONCIERGE_TRUSTED_PROXIES"):
        Settings(env="development", trusted_proxies=value)
    assert Settings(env="development", trusted_proxies="127.0.0.1, ::1, 10.0.0.0/8").trusted_proxies


def test_the_launchers_name_the_proxy_in_front_of_the_routing_service(monkeypatch: pytest.MonkeyPatch) -> None:
    from launcher import cluster
    from launcher.settings import StackSettings

    monkeypatch.delenv("CONCIERGE_TRUSTED_PROXIES", raising=False)
    stack = StackSettings()
    assert stack.child_env()["CONCIERGE_TRUSTED_PROXIES"] == ""  # the embedded stack: nothing in front
    specs = cluster.process_specs(cluster.ClusterSettings.from_stack(stack))
    routing = [spec for spec in specs if spec.name.startswith("routing")]
    assert routing and {spec.env["CONCIERGE_TRUSTED_PROXIES"] for spec in routing} == {stack.host}  # nginx's
