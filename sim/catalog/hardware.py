"""Typed views of the accelerator and server catalogs (gpus.toml, nodes.toml)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class GpuSpec:
    """One accelerator. Powers [W], peak [FLOP/s], memory [B], bandwidth [B/s].

    `link_bandwidth_bytes_per_s`: chip-to-chip link bandwidth in one direction (None: not linked).
    """

    key: str
    name: str
    tdp_w: float
    idle_w: float
    peak_flop_per_s: float
    hbm_bytes: float
    hbm_bandwidth_bytes_per_s: float
    peak_fp8_flop_per_s: float | None = None
    die_area_mm2: float | None = None
    link_bandwidth_bytes_per_s: float | None = None
    source: str = ""
    idle_source: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.idle_w <= self.tdp_w:
            raise ValueError(f"{self.key}: idle_w {self.idle_w} must lie in [0, tdp_w={self.tdp_w}]")

    @property
    def dynamic_range_w(self) -> float:
        return self.tdp_w - self.idle_w


@dataclass(frozen=True)
class NodeSpec:
    """One server: its accelerators and its host (everything else that draws power in the box)."""

    key: str
    name: str
    gpu: GpuSpec
    gpus_per_node: int
    max_power_w: float
    host_idle_w: float
    source: str = ""
    host_idle_source: str = ""

    def __post_init__(self) -> None:
        if self.host_max_w < 0:
            raise ValueError(
                f"{self.key}: max_power_w {self.max_power_w} is below the accelerators' "
                f"{self.gpus_per_node} x {self.gpu.tdp_w} W"
            )
        if not 0 <= self.host_idle_w <= self.host_max_w:
            raise ValueError(f"{self.key}: host_idle_w {self.host_idle_w} must lie in [0, {self.host_max_w}]")

    @property
    def host_max_w(self) -> float:
        """Host share of the system maximum [W]: max_power_w - gpus_per_node x tdp_w."""
        return self.max_power_w - self.gpus_per_node * self.gpu.tdp_w

    @property
    def idle_power_w(self) -> float:
        return self.host_idle_w + self.gpus_per_node * self.gpu.idle_w


def _read(filename: str) -> dict[str, dict]:
    with resources.files("sim.catalog").joinpath(filename).open("rb") as handle:
        return tomllib.load(handle)


_GPU_FIELDS = {f.name for f in fields(GpuSpec)} - {"key"}


@cache
def gpu_catalog() -> dict[str, GpuSpec]:
    return {key: GpuSpec(key=key, **{k: v for k, v in entry.items() if k in _GPU_FIELDS})
            for key, entry in _read("gpus.toml").items()}


@cache
def node_catalog() -> dict[str, NodeSpec]:
    gpus = gpu_catalog()
    nodes = {}
    for key, entry in _read("nodes.toml").items():
        entry = dict(entry)
        nodes[key] = NodeSpec(key=key, gpu=gpus[entry.pop("gpu")], **entry)
    return nodes
