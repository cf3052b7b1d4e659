"""Typed view of embodied.toml: carbon per area of process nodes, each accelerator's process, each server's
host parts (CPUs, DRAM, SSD). Formulas live in sim/physics/embodied.py."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class ProcessFigure:
    """A logic process node's carbon per area [kgCO2e/cm^2]."""

    name: str
    carbon_per_area_kg_per_cm2: float
    source: str


@dataclass(frozen=True)
class GpuProcess:
    """The process an accelerator's die is made on."""

    key: str
    process: ProcessFigure
    source: str


@dataclass(frozen=True)
class HostParts:
    """The parts of a server's host that LLMCarbon counts: CPUs, DRAM [bytes], SSD [bytes]."""

    key: str
    cpus: int
    dram_bytes: float
    ssd_bytes: float
    source: str


@dataclass(frozen=True)
class EmbodiedCatalog:
    processes: dict[str, ProcessFigure]
    gpus: dict[str, GpuProcess]
    hosts: dict[str, HostParts]


@cache
def embodied_catalog() -> EmbodiedCatalog:
    with resources.files("sim.catalog").joinpath("embodied.toml").open("rb") as handle:
        data = tomllib.load(handle)
    processes = {name: ProcessFigure(name=name, **entry) for name, entry in data["process"].items()}
    gpus = {
        key: GpuProcess(key=key, process=processes[entry["process"]], source=entry["source"])
        for key, entry in data["gpu"].items()
    }
    hosts = {key: HostParts(key=key, **entry) for key, entry in data["node"].items()}
    return EmbodiedCatalog(processes=processes, gpus=gpus, hosts=hosts)
