"""Every shipped scenario loads and runs (briefly)."""

import pytest

from sim.config import load_scenario
from sim.engine.simulation import Simulation
from helpers import SCENARIOS

ALL = sorted(p for p in SCENARIOS.rglob("*.toml") if "sweeps" not in p.parts and p.name != "published.toml")


@pytest.mark.parametrize("path", ALL, ids=[str(p.relative_to(SCENARIOS)) for p in ALL])
def test_scenario_loads_and_runs_for_a_simulated_day(path, shared_data):
    scenario = load_scenario(path, ["scenario.duration='1d'"])
    result = Simulation(scenario).run()
    assert result.summary["simulated_s"] <= 86400
    assert result.summary["facility_energy_kwh"] > 0
