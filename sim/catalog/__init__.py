"""Hardware catalog: accelerators and servers as data (TOML files beside this module), with sources."""

from sim.catalog.hardware import GpuSpec, NodeSpec, gpu_catalog, node_catalog

__all__ = ["GpuSpec", "NodeSpec", "gpu_catalog", "node_catalog"]
