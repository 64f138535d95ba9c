"""The closed forms against the discrete-event simulation (routing/capacity/simulation.py, SimPy), seeded, so the
figures are the same on every run. Tolerance where the models match (Poisson arrivals, exponential handle times
and patience, one class): service level and probability of waiting within 0.02, abandonment within 0.005, mean
wait within 15 %; each run is 400 simulated hours (about 80,000 contacts), whose 95 % batch-means interval on the
service level is 0.006 to 0.019 wide. Where the routing service differs from Erlang's assumptions (priorities,
aging, expiry, log-normal handle times) the test states the difference instead."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from routing.capacity.check import SCENARIOS, compare
from routing.capacity.simulation import Scenario, TierLoad, simulate

ROOT = Path(__file__).resolve().parents[2]
BY_NAME = {c.name: c for c in SCENARIOS}


@pytest.mark.parametrize("name", ["erlang-c", "max-chats", "erlang-a"])
def test_closed_form_and_simulation_agree(name: str) -> None:
    result = compare(BY_NAME[name], hours=400, seed=1)
    closed, sim = result["closed_form"], result["simulated"]
    assert sim["arrivals"] > 70_000
    assert sim["service_level"] == pytest.approx(closed["service_level"], abs=0.02)
    assert sim["probability_wait"] == pytest.approx(closed["probability_wait"], abs=0.02)
    assert sim["abandon_rate"] == pytest.approx(closed["abandon_rate"], abs=0.005)
    assert sim["mean_wait_seconds"] == pytest.approx(closed["mean_wait_seconds"], rel=0.15)


def test_priorities_share_the_same_waiting_out_differently() -> None:
    """Serving one tier first changes who waits, not how much in total (work conservation: handle times do not
    depend on the tier), so P(wait) and the mean wait stay Erlang C's; the high tier waits far less than the low."""
    result = compare(BY_NAME["priorities"], hours=400, seed=1)
    closed, sim, tiers = result["closed_form"], result["simulated"], result["simulated_by_tier"]
    assert sim["probability_wait"] == pytest.approx(closed["probability_wait"], abs=0.02)
    assert sim["mean_wait_seconds"] == pytest.approx(closed["mean_wait_seconds"], rel=0.15)
    assert tiers["high"]["service_level"] > tiers["low"]["service_level"] + 0.03
    assert tiers["high"]["mean_wait_seconds"] < tiers["low"]["mean_wait_seconds"] / 2


def test_handle_times_less_variable_than_exponential_make_erlang_c_cautious() -> None:
    """Log-normal handle times of the same mean (coefficient of variation 0.53 instead of 1): shorter waits and a
    better service level than Erlang C says, so its staffing errs on the safe side."""
    result = compare(BY_NAME["lognormal"], hours=400, seed=1)
    closed, sim = result["closed_form"], result["simulated"]
    assert sim["mean_wait_seconds"] < 0.8 * closed["mean_wait_seconds"]
    assert sim["service_level"] > closed["service_level"]


def test_the_vip_queue_as_routed_differs_where_erlang_does_not_look() -> None:
    """Two tiers with priorities and aging, expiry after 300 s, log-normal handle times: the total still lands near
    Erlang A (within 0.05), but platinum is answered better than gold (Erlang sees one class), and the waits are
    shorter than Erlang A's (log-normal handle times vary less than exponential ones)."""
    result = compare(BY_NAME["vip-routed"], hours=2000, seed=1)
    closed, sim, tiers = result["closed_form"], result["simulated"], result["simulated_by_tier"]
    assert sim["service_level"] == pytest.approx(closed["service_level"], abs=0.05)
    assert tiers["platinum"]["service_level"] > tiers["gold"]["service_level"]
    assert tiers["platinum"]["mean_wait_seconds"] < tiers["gold"]["mean_wait_seconds"]
    assert sim["mean_wait_seconds"] < closed["mean_wait_seconds"]


def test_the_simulation_is_deterministic_and_counts_every_outcome() -> None:
    scenario = Scenario((TierLoad("a", 60, 10), TierLoad("b", 60, 0)), agents=1, max_chats=2, aht_seconds=100,
                        patience_seconds=120, timeout_seconds=150, hours=20, seed=3)
    first, again = simulate(scenario, 20), simulate(scenario, 20)
    assert first.overall == again.overall
    o = first.overall
    assert o.arrivals == o.answered + o.abandoned + o.expired and o.abandoned > 0 and o.expired > 0
    assert sum(t.arrivals for t in first.by_tier.values()) == o.arrivals


def test_the_simulate_command() -> None:
    run = subprocess.run([sys.executable, "-m", "routing.cli", "capacity", "simulate", "--hours", "20",
                          "--scenario", "erlang-a", "--json"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env={"PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    [out] = json.loads(run.stdout)
    assert out["name"] == "erlang-a" and out["closed_form"]["method"] == "Erlang A"
    assert out["simulated"]["arrivals"] > 3000
    table = subprocess.run([sys.executable, "-m", "routing.cli", "capacity", "simulate", "--hours", "10"], cwd=ROOT,
                           capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})
    assert table.returncode == 0 and "tier platinum" in table.stdout and "service level" in table.stdout
