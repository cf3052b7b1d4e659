"""Extractors: what a validation check reads from a run, in SI units, and its dimension.

Each published output is compared with one extractor's value, converted to the output's unit. An
extractor reads the finished run and, where the boundary needs it, the scenario that produced it (for
instance, which GPUs the service's replicas occupy). A new kind of quantity adds one extractor here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from sim.config.schema import Scenario
from sim.engine.simulation import RunResult
from sim.physics.power import gpu_power_w
from sim.workloads.service import COMPLETED
from sim.units import G_PER_KG, J_PER_KWH, J_PER_MWH, J_PER_WH, KG_PER_T, S_PER_DAY, S_PER_H


@dataclass(frozen=True)
class Extractor:
    """A quantity of a finished run: `read(result, scenario)` in SI units of `dimension`."""

    name: str
    dimension: str  # "energy" [J], "time" [s], "carbon" [kgCO2e], "work" [FLOP]
    doc: str
    read: Callable[[RunResult, Scenario], float]


def _summary_kwh(key: str) -> Callable[[RunResult, Scenario], float]:
    return lambda result, scenario: result.summary[key] * J_PER_KWH


def _only_service(result: RunResult, scenario: Scenario, what: str) -> dict:
    """The one service of a scenario that has one service and no training job (else a clear error)."""
    if len(scenario.services) != 1 or scenario.jobs:
        raise ValueError(f"extractor {what!r} needs a scenario with exactly one service and no jobs "
                         f"(got {len(scenario.services)} services, {len(scenario.jobs)} jobs)")
    return result.summary["services"][0]


def replica_gpu_energy_j(result: RunResult, scenario: Scenario) -> float:
    """GPU energy of the service's replicas over the whole run [J]: busy steps, the gaps between requests
    (model resident) and the tail until the last request completes; the node's other GPUs and the hosts
    are left out.

    E = E_gpu(run) - (G - replicas x tensor_parallel) x P_gpu(activity 0) x t_run, where the other
    G - r x tp GPUs of the cluster draw their idle power throughout (a service's spare GPUs, and nodes
    nobody holds, both sit at activity 0). This is the boundary of an NVML/DCGM measurement on the GPUs
    a benchmark uses, over its whole window (ML.ENERGY: Zeus begin_window ... end_window).
    Example: one Llama-2-7B replica on one GPU of a DGX A100 40 GB, 500 s: E_gpu = 7 x 63 W x 500 s + E_replica.
    """
    service = _only_service(result, scenario, "service GPU energy")
    gpu = scenario.cluster.node_spec().gpu
    others = scenario.cluster.gpu_count - service["replicas"] * service["tensor_parallel"]
    return result.summary["gpu_energy_kwh"] * J_PER_KWH - others * gpu_power_w(gpu, 0.0) * result.summary["simulated_s"]


def _per_completed_request(result: RunResult, scenario: Scenario) -> float:
    service = _only_service(result, scenario, "service GPU energy per request")
    if not service["completed"]:
        raise ValueError("no request completed: energy per request is undefined")
    return replica_gpu_energy_j(result, scenario) / service["completed"]


def _mean_latency_s(result: RunResult, scenario: Scenario) -> float:
    _only_service(result, scenario, "mean request latency")
    requests = result.requests
    done = np.asarray(requests.column("status").to_pylist(), dtype=object) == COMPLETED
    latency = requests.column("latency_s").to_numpy()[done]
    if not latency.size:
        raise ValueError("no request completed: mean latency is undefined")
    return float(latency.mean())


EXTRACTORS: dict[str, Extractor] = {
    e.name: e
    for e in (
        Extractor("facility_energy", "energy", "facility energy of the whole run, IT x PUE [J]",
                  _summary_kwh("facility_energy_kwh")),
        Extractor("it_energy", "energy", "IT energy of the whole run: GPUs, hosts, network, storage [J]",
                  _summary_kwh("it_energy_kwh")),
        Extractor("gpu_energy", "energy", "accelerator energy of the whole run [J]", _summary_kwh("gpu_energy_kwh")),
        Extractor("carbon", "carbon", "operational carbon, location-based [kgCO2e]",
                  lambda result, scenario: result.summary["carbon_kg"]),
        Extractor("embodied_carbon", "carbon",
                  "embodied carbon of the installed hardware, amortised over the run [kgCO2e]",
                  lambda result, scenario: result.summary["embodied_carbon_kg"]),
        Extractor("carbon_with_embodied", "carbon",
                  "operational (location-based) plus embodied carbon of the run [kgCO2e]",
                  lambda result, scenario: result.summary["carbon_kg"] + result.summary["embodied_carbon_kg"]),
        Extractor("duration", "time", "simulated time until all work is done (or the run's limit) [s]",
                  lambda result, scenario: result.summary["simulated_s"]),
        Extractor("service_gpu_energy_per_request", "energy",
                  "GPU energy of the one service's replicas over the whole run (idle gaps and tail included; "
                  "other GPUs, hosts and PUE left out) / completed requests [J]",
                  _per_completed_request),
        Extractor("service_latency_mean", "time",
                  "mean end-to-end latency (arrival to last token) of the service's completed requests [s]",
                  _mean_latency_s),
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
