"""Extractors: what a validation check reads from a run, in SI units, and its dimension.

Each published output is compared with one extractor's value, converted to the output's unit. A new
kind of case (inference: energy per request, per token) adds one extractor here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sim.engine.simulation import RunResult
from sim.units import G_PER_KG, J_PER_KWH, J_PER_MWH, J_PER_WH, KG_PER_T, S_PER_DAY, S_PER_H


@dataclass(frozen=True)
class Extractor:
    """A quantity of a finished run: `read(result)` in SI units of `dimension`."""

    name: str
    dimension: str  # "energy" [J], "time" [s], "carbon" [kgCO2e], "work" [FLOP]
    doc: str
    read: Callable[[RunResult], float]


def _summary_kwh(key: str) -> Callable[[RunResult], float]:
    return lambda result: result.summary[key] * J_PER_KWH


EXTRACTORS: dict[str, Extractor] = {
    e.name: e
    for e in (
        Extractor("facility_energy", "energy", "facility energy of the whole run, IT x PUE [J]",
                  _summary_kwh("facility_energy_kwh")),
        Extractor("it_energy", "energy", "IT energy of the whole run: GPUs, hosts, network, storage [J]",
                  _summary_kwh("it_energy_kwh")),
        Extractor("gpu_energy", "energy", "accelerator energy of the whole run [J]", _summary_kwh("gpu_energy_kwh")),
        Extractor("carbon", "carbon", "operational carbon, location-based [kgCO2e]",
                  lambda result: result.summary["carbon_kg"]),
        Extractor("duration", "time", "simulated time until all work is done (or the run's limit) [s]",
                  lambda result: result.summary["simulated_s"]),
    )
}

# Units of the published table -> (dimension, SI value of one unit). Values stay in the source's units
# in the table; they meet the simulator's SI values here.
UNITS: dict[str, tuple[str, float]] = {
    "J": ("energy", 1.0),
    "Wh": ("energy", J_PER_WH),
    "kWh": ("energy", J_PER_KWH),
    "MWh": ("energy", J_PER_MWH),
    "s": ("time", 1.0),
    "h": ("time", S_PER_H),
    "day": ("time", S_PER_DAY),
    "gCO2e": ("carbon", 1.0 / G_PER_KG),
    "kgCO2e": ("carbon", 1.0),
    "tCO2e": ("carbon", KG_PER_T),
    "FLOP": ("work", 1.0),
}


def in_unit(value_si: float, unit: str) -> float:
    """`value_si` (SI units of the unit's dimension) expressed in `unit`. Example: 3.6e9 J in MWh -> 1.0."""
    return value_si / UNITS[unit][1]
