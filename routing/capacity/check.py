"""Closed form against simulation: the same queue through Erlang C / Erlang A and through the discrete-event
simulation of `simulation.py`, side by side. The standard scenarios are the ones `capacity simulate` prints and
`tests/routing/test_capacity_simulation.py` asserts; docs/operations.md explains where and why they disagree."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from routing.capacity.erlang import asa_seconds, erlang_c, service_level
from routing.capacity.erlang_a import performance
from routing.capacity.simulation import Scenario, TierLoad, simulate


@dataclass(frozen=True)
class Check:
    """A named scenario and its target (answered within `target_seconds`)."""

    name: str
    what: str
    scenario: Scenario
    target_seconds: float


SCENARIOS = (
    Check("erlang-c", "Call Centre Helper's example: 200/h, AHT 180 s, 14 agents, nobody leaves",
          Scenario((TierLoad("all", 200),), agents=14, aht_seconds=180), 20),
    Check("max-chats", "the same traffic on 5 agents x 3 chats (15 slots)",
          Scenario((TierLoad("all", 200),), agents=5, max_chats=3, aht_seconds=180), 20),
    Check("erlang-a", "200/h, AHT 180 s, 11 agents, patience 600 s (exponential)",
          Scenario((TierLoad("all", 200),), agents=11, aht_seconds=180, patience_seconds=600), 20),
    Check("priorities", "the same 200/h on 14 agents as two tiers: 50/h at priority 100, 150/h at 10 (aging on)",
          Scenario((TierLoad("high", 50, 100, 60), TierLoad("low", 150, 10, 3600)), agents=14, aht_seconds=180), 20),
    Check("lognormal", "the same 200/h on 14 agents with log-normal handle times (mean 180 s, sigma 0.5)",
          Scenario((TierLoad("all", 200),), agents=14, aht_seconds=180, handle="lognormal"), 20),
    Check("vip-routed", "vip as routed: platinum 8/h (priority 100, SLA 60 s) and gold 22/h (70, 180 s), aging, "
                        "2 agents x 3 chats, AHT 420 s log-normal, patience 900 s, expiry at 300 s",
          Scenario((TierLoad("platinum", 8, 100, 60), TierLoad("gold", 22, 70, 180)), agents=2, max_chats=3,
                   aht_seconds=420, patience_seconds=900, timeout_seconds=300, handle="lognormal"), 60),
)


def closed_form(scenario: Scenario, target_seconds: float) -> dict[str, Any]:
    """Erlang A when the scenario's contacts give up (patience), else Erlang C, on agents x max_chats servers."""
    lam = sum(t.contacts_per_hour for t in scenario.tiers) / 3600
    servers = scenario.agents * scenario.max_chats
    if scenario.patience_seconds:
        perf = performance(servers, lam, scenario.aht_seconds, scenario.patience_seconds, target_seconds)
        return {"method": "Erlang A", "probability_wait": perf.probability_wait,
                "service_level": perf.service_level, "abandon_rate": perf.probability_abandon,
                "mean_wait_seconds": perf.mean_wait_seconds}
    traffic = lam * scenario.aht_seconds
    return {"method": "Erlang C", "probability_wait": erlang_c(servers, traffic),
            "service_level": service_level(servers, traffic, scenario.aht_seconds, target_seconds),
            "abandon_rate": 0.0, "mean_wait_seconds": asa_seconds(servers, traffic, scenario.aht_seconds)}


def compare(check: Check, hours: float | None = None, seed: int | None = None) -> dict[str, Any]:
    """Both answers for one scenario (the simulation for `hours` after its warm-up, with `seed`)."""
    scenario = check.scenario
    if hours is not None:
        scenario = replace(scenario, hours=hours)
    if seed is not None:
        scenario = replace(scenario, seed=seed)
    sim = simulate(scenario, check.target_seconds)
    closed = closed_form(scenario, check.target_seconds)
    return {"name": check.name, "what": check.what, "target_seconds": check.target_seconds,
            "closed_form": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in closed.items()},
            "simulated": {**sim.overall.as_dict(),
                          "service_level_95ci": round(sim.service_level_halfwidth, 4)},
            "simulated_by_tier": {name: o.as_dict() for name, o in sim.by_tier.items()}
            if len(sim.by_tier) > 1 else {}}
