"""Small scenarios for the policy tests, built as dicts and validated like a TOML file."""

from __future__ import annotations

from pathlib import Path

from sim.config.loader import validate_scenario
from sim.engine.simulation import Simulation

CALIFORNIA = "US-CAL-CISO_2023_hourly.csv"


def scenario(jobs: list[dict] | None = None, *, nodes: int = 8, policies: dict | None = None, grid: dict | None = None,
             generator: dict | None = None, duration: str | None = None, start: str = "2023-06-01T00:00:00Z",
             seed: int = 1, interval: str = "1h", pue: float = 1.2, extra: dict | None = None):
    data: dict = {
        "scenario": {"name": "policy-test", "seed": seed, "start": start},
        "cluster": {"node": "dgx-h100", "nodes": nodes},
        "facility": {"pue": pue},
        "grid": grid if grid is not None else {"carbon_intensity_g_per_kwh": 300.0},
        "output": {"interval": interval},
    }
    queue: dict = {}
    if jobs:
        queue["jobs"] = jobs
    if generator:
        queue["generator"] = generator
    if queue:
        data["queue"] = queue
    if policies:
        data["policies"] = policies
    if duration is not None:
        data["scenario"]["duration"] = duration
    if extra:
        data.update(extra)
    return validate_scenario(data, "test", Path("."))


def run(sc):
    simulation = Simulation(sc)
    result = simulation.run()
    return simulation, result
