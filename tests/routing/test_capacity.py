"""Erlang C staffing against published worked examples, and the `capacity erlang` command."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from routing.capacity.erlang import asa_seconds, erlang_c, service_level, staff
from routing.capacity.erlang_a import performance, staff_a

ROOT = Path(__file__).resolve().parents[2]


def test_call_centre_helper_worked_example() -> None:
    """Call Centre Helper, "Erlang C Formula - Made Simple With an Easy Worked Example"
    (https://www.callcentrehelper.com/erlang-c-formula-example-121281.htm): 100 calls per 30 minutes, AHT 180 s,
    80 % in 20 s, shrinkage 30 %. Published: traffic 10 Erlangs; with 11 agents the probability of waiting is
    68.21 % and the service level 39 %; 14 agents are needed (service level 88.84 %, occupancy 71.43 %), and 20
    with 30 % shrinkage."""
    assert erlang_c(11, 10.0) == pytest.approx(0.6821, abs=5e-5)
    assert service_level(11, 10.0, 180, 20) == pytest.approx(0.39, abs=5e-3)
    result = staff(200, 180, 0.8, 20, shrinkage=0.3)
    assert (result.agents_online, result.agents) == (14, 20)
    assert result.traffic_erlangs == pytest.approx(10.0)
    assert result.service_level == pytest.approx(0.8884, abs=5e-5)
    assert result.occupancy == pytest.approx(0.7143, abs=5e-5)


def test_mitan_erlang_c_worked_example() -> None:
    """Mike Hills (Mitan Ltd), "The Erlang-C formula", step-by-step example (formerly
    http://www.mitan.co.uk/erlang/elgcmath.htm, widely mirrored): 360 calls per half hour, 4 minutes each,
    55 agents, target 15 s. Published: traffic 48 Erlangs, occupancy 0.873, probability of waiting 0.2387 (24 %),
    ASA 8.2 s. The service level in 15 s (84.6 %) and in 20 s (86.7 %) follow from the same formula."""
    traffic = 720 * 240 / 3600
    assert traffic == pytest.approx(48.0)
    assert traffic / 55 == pytest.approx(0.873, abs=5e-4)
    assert erlang_c(55, traffic) == pytest.approx(0.2387, abs=5e-5)
    assert asa_seconds(55, traffic, 240) == pytest.approx(8.2, abs=0.05)
    assert service_level(55, traffic, 240, 15) == pytest.approx(0.846, abs=5e-4)
    assert service_level(55, traffic, 240, 20) == pytest.approx(0.867, abs=5e-4)


def test_textbook_identities() -> None:
    """One agent is M/M/1: the probability of waiting is the utilisation; no traffic needs nobody; an overloaded
    queue never meets a target."""
    assert erlang_c(1, 0.5) == pytest.approx(0.5)
    assert asa_seconds(1, 0.5, 100) == pytest.approx(100.0)  # rho / (1 - rho) x AHT
    assert staff(0, 300, 0.8, 20).agents == 0
    assert erlang_c(10, 10.0) == 1.0 and math.isinf(asa_seconds(9, 10.0, 60))


def test_concurrent_chats_share_the_slots() -> None:
    """With 3 chats each, the 14 slots of the worked example need 5 agents (15 slots), and shrinkage scales them."""
    result = staff(200, 180, 0.8, 20, max_chats=3, shrinkage=0.3)
    assert (result.servers, result.agents_online, result.agents) == (15, 5, 8)  # ceil(5 / 0.7) = 8
    assert result.service_level >= 0.8


@pytest.mark.parametrize("bad", [{"target_level": 1.5}, {"aht_seconds": 0}, {"max_chats": 0}, {"shrinkage": 1.0},
                                 {"contacts_per_hour": -1}])
def test_bad_inputs_are_refused(bad: dict[str, float]) -> None:
    args: dict[str, float] = {"contacts_per_hour": 100, "aht_seconds": 180, "target_level": 0.8,
                              "target_seconds": 20, **bad}
    with pytest.raises(ValueError):
        staff(**args)  # type: ignore[arg-type]


def test_the_command_prints_json_without_the_service_secrets() -> None:
    run = subprocess.run([sys.executable, "-m", "routing.cli", "capacity", "erlang", "--contacts-per-hour", "200",
                          "--aht-seconds", "180", "--target-level", "0.8", "--target-seconds", "20", "--max-chats", "1",
                          "--shrinkage", "0.3", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin", "CONCIERGE_ENV": "production"})
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert (out["agents"], out["service_level"], out["asa_seconds"], out["occupancy"]) == (20, 0.8884, 7.8359, 0.7143)
    bad = subprocess.run([sys.executable, "-m", "routing.cli", "capacity", "erlang", "--contacts-per-hour", "200",
                          "--aht-seconds", "180", "--target-level", "80"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode != 0 and "share between 0 and 1" in bad.stderr


def poisson_tail(mean: float, n: int) -> tuple[float, float]:
    """P(X >= n) and E[(X - n)+] of a Poisson(mean), summed term by term."""
    terms = [math.exp(k * math.log(mean) - mean - math.lgamma(k + 1)) for k in range(400)]
    return sum(terms[n:]), sum((k - n) * p for k, p in enumerate(terms) if k > n)


def test_erlang_a_without_abandonment_is_erlang_c() -> None:
    """Customers of near-infinite patience: Erlang A gives Call Centre Helper's published Erlang C figures for the
    14 agents of its worked example (probability of waiting 17.41 %, service level 88.84 %, ASA 7.8 s)."""
    perf = performance(14, 200 / 3600, 180, 1e8, 20)
    assert perf.probability_wait == pytest.approx(0.1741, abs=5e-5)
    assert perf.service_level == pytest.approx(0.8884, abs=5e-5)
    assert perf.mean_wait_seconds == pytest.approx(7.84, abs=5e-3)
    assert perf.probability_abandon < 1e-6


def test_erlang_a_with_patience_equal_to_handle_time_is_poisson() -> None:
    """When the mean patience equals the mean handle time, every contact leaves at the same rate whether served or
    waiting, so the number in the system is Poisson(A), as in M/M/infinity (Garnett, Mandelbaum & Reiman,
    "Designing a call center with impatient customers", M&SOM 2002, section 4). With A = 10 Erlangs and 11 agents,
    P(wait) = P(X >= 11) = 1 - 0.5830 (published Poisson tables: P(X <= 10) for mean 10 is 0.5830), and the abandons
    are E[(X - 11)+] / A."""
    perf = performance(11, 200 / 3600, 180, 180, 20)
    assert perf.probability_wait == pytest.approx(1 - 0.5830, abs=5e-5)
    for servers in (5, 11, 14):
        perf = performance(servers, 200 / 3600, 180, 180, 20)
        tail, excess = poisson_tail(10.0, servers)
        assert perf.probability_wait == pytest.approx(tail, rel=1e-9)
        assert perf.probability_abandon == pytest.approx(excess / 10.0, rel=1e-9)


def test_erlang_a_service_level_bounds() -> None:
    """Answered at once = those who did not wait; answered eventually = those who did not abandon."""
    perf0 = performance(11, 200 / 3600, 180, 600, 0)
    assert perf0.service_level == pytest.approx(1 - perf0.probability_wait, abs=1e-12)
    far = performance(11, 200 / 3600, 180, 600, 20_000)
    assert far.service_level == pytest.approx(1 - far.probability_abandon, abs=1e-9)
    near = performance(11, 200 / 3600, 180, 600, 20)
    assert perf0.service_level < near.service_level < far.service_level


def test_erlang_a_staffs_fewer_than_erlang_c_and_copes_with_overload() -> None:
    """Call Centre Helper's example with a 10-minute mean patience: 13 agents instead of 14 (those who leave
    shorten the line; they count as missed). Ten agents for 10 Erlangs is hopeless for Erlang C, finite for A."""
    a = staff_a(200, 180, 0.8, 20, patience_seconds=600)
    assert a.agents_online == staff(200, 180, 0.8, 20).agents_online - 1
    assert a.service_level >= 0.8
    assert performance(a.servers - 1, 200 / 3600, 180, 600, 20).service_level < 0.8
    overloaded = performance(10, 200 / 3600, 180, 600, 20)
    assert 0 < overloaded.probability_abandon < 0.2 and math.isfinite(overloaded.mean_wait_seconds)
    with_chats = staff_a(200, 180, 0.8, 20, 600, max_chats=3, shrinkage=0.3)
    assert with_chats.servers == 3 * with_chats.agents_online >= a.servers
    assert with_chats.agents == math.ceil(with_chats.agents_online / 0.7)
    with pytest.raises(ValueError):
        staff_a(200, 180, 0.8, 20, patience_seconds=0)


def test_the_command_uses_erlang_a_when_given_a_patience() -> None:
    run = subprocess.run([sys.executable, "-m", "routing.cli", "capacity", "erlang", "--contacts-per-hour", "200",
                          "--aht-seconds", "180", "--patience-seconds", "600", "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    a = staff_a(200, 180, 0.8, 20, 600)
    assert (out["agents"], out["probability_abandon"]) == (a.agents, round(a.probability_abandon, 4))
