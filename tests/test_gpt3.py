"""The reference case: GPT-3 175B, Patterson et al. 2021, Table 4 (14.8 days, 1,287 MWh, 552.1 tCO2e)."""

import pytest

from sim.config import load_scenario
from sim.engine.simulation import Simulation
from helpers import SCENARIOS

PUBLISHED_DAYS = 14.8
PUBLISHED_MWH = 1287.0
PUBLISHED_T = 552.1


def run(overrides=()):
    return Simulation(load_scenario(SCENARIOS / "gpt3.toml", list(overrides))).run().summary


def test_gpt3_from_the_general_power_model():
    summary = run()
    assert summary["simulated_s"] / 86400 == pytest.approx(PUBLISHED_DAYS, rel=0.03)
    assert summary["facility_energy_kwh"] / 1000 == pytest.approx(PUBLISHED_MWH, rel=0.05)
    assert summary["carbon_kg"] / 1000 == pytest.approx(PUBLISHED_T, rel=0.05)
    assert summary["pue"] == pytest.approx(1.10)


def test_gpt3_with_the_measured_system_power():
    summary = run(["jobs.0.measured_power_w_per_gpu=330"])
    assert summary["facility_energy_kwh"] / 1000 == pytest.approx(PUBLISHED_MWH, rel=0.01)
    assert summary["carbon_kg"] / 1000 == pytest.approx(PUBLISHED_T, rel=0.01)
    # 330 W per chip x 10,000 chips x the simulated duration, times PUE: a closed form
    expected_kwh = 330 * 10_000 * summary["simulated_s"] / 3.6e6 * 1.10
    assert summary["facility_energy_kwh"] == pytest.approx(expected_kwh, rel=1e-9)
