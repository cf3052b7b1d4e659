"""Embodied (manufacturing) carbon of hardware, amortised over its lifetime by the time a run holds it.

Method: LLMCarbon (Faiz et al., "LLMCarbon: Modeling the End-to-End Carbon Footprint of Large Language
Models", ICLR 2024), following ACT (Gupta et al., ISCA 2022):

    chip   [kgCO2e] = die area [cm^2] x carbon per area, CPA [kgCO2e/cm^2]  (depends on the process node)
    memory [kgCO2e] = capacity [GB] x carbon per GB [kgCO2e/GB]              (DRAM, SSD)
    share of a run  = embodied x allocated time / lifetime                   (linear, lifetime 5 years)

Figures are those of the paper as published by its authors in their repository
(github.com/SotaroKaneda/MLCarbon, data/hardware.csv and data/table5.csv): each constant below cites it.
Per-unit figures for network gear are not given there and none are set here (no citable source at hand).
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.units import BYTES_PER_GB, MM2_PER_CM2, S_PER_YEAR

# LLMCarbon: lifespan = 5 x 365 days (embodied.py, `self.lifespan = 5 * 365`).
DEFAULT_LIFETIME_S = 5 * S_PER_YEAR

_LLMCARBON = "Faiz et al., LLMCarbon, ICLR 2024 (authors' repository SotaroKaneda/MLCarbon, data/hardware.csv)"

# LLMCarbon: DRAM (Micron 18 nm) 0.4 kgCO2e/GB.
DRAM_KG_PER_GB = 0.4
# LLMCarbon: SSD (Samsung 20 nm) 0.024 kgCO2e/GB in the table that reproduces XLM (table5.csv: a 32 TB SSD =
# 768 kgCO2e); a later revision of hardware.csv uses 0.018. The paper's Table 5 figure is kept.
SSD_KG_PER_GB = 0.024
SSD_KG_PER_GB_LOW = 0.018


@dataclass(frozen=True)
class ChipFigure:
    """A die's embodied-carbon inputs: area [cm^2] and carbon per area [kgCO2e/cm^2] for its process."""

    name: str
    process: str
    die_area_cm2: float
    carbon_per_area_kg_per_cm2: float
    source: str = _LLMCARBON

    @property
    def embodied_kg(self) -> float:
        return die_embodied_kg(self.die_area_cm2, self.carbon_per_area_kg_per_cm2)


# LLMCarbon hardware table (die areas and CPA per process node).
CHIPS: dict[str, ChipFigure] = {
    c.name: c
    for c in (
        ChipFigure("V100", "TSMC 12nm", 8.15, 1.2),  # 815 mm^2 -> 9.78 kgCO2e
        ChipFigure("H100", "TSMC 4nm", 8.14, 1.8),  # 814 mm^2 -> 14.652 kgCO2e
        ChipFigure("TPUv3", "TSMC 16nm", 7.0, 1.0),  # 700 mm^2 -> 7.0 kgCO2e
        ChipFigure("TPUv4", "TSMC 7nm", 4.0, 1.6),  # 400 mm^2 -> 6.4 kgCO2e
        ChipFigure("CPU", "TSMC 16nm", 1.47, 1.0),  # 147 mm^2 host CPU -> 1.47 kgCO2e
    )
}


def die_embodied_kg(die_area_cm2: float, carbon_per_area_kg_per_cm2: float) -> float:
    """Embodied carbon of a die [kgCO2e] = area [cm^2] x CPA [kgCO2e/cm^2] (LLMCarbon, after ACT).

    Example: V100, 8.15 cm^2 at 1.2 kgCO2e/cm^2 (TSMC 12 nm) -> 9.78 kgCO2e.
    """
    if die_area_cm2 < 0 or carbon_per_area_kg_per_cm2 < 0:
        raise ValueError("die area and carbon per area must be >= 0")
    return die_area_cm2 * carbon_per_area_kg_per_cm2


def capacity_embodied_kg(capacity_bytes: float, kg_per_gb: float) -> float:
    """Embodied carbon of memory or storage [kgCO2e] = capacity [GB] x carbon per GB [kgCO2e/GB].

    Example: 256 GB of DRAM at 0.4 kgCO2e/GB -> 102.4 kgCO2e (LLMCarbon).
    """
    if capacity_bytes < 0 or kg_per_gb < 0:
        raise ValueError("capacity and carbon per GB must be >= 0")
    return capacity_bytes / BYTES_PER_GB * kg_per_gb


def host_embodied_kg(
    cpu_count: int,
    dram_bytes: float,
    ssd_bytes: float,
    cpu: ChipFigure = CHIPS["CPU"],
    dram_kg_per_gb: float = DRAM_KG_PER_GB,
    ssd_kg_per_gb: float = SSD_KG_PER_GB,
) -> float:
    """Embodied carbon of a host's CPUs, DRAM and SSD [kgCO2e], LLMCarbon's server parts.

    Boards, power supplies, chassis and network gear are not in LLMCarbon's table and are not counted.
    Example (LLMCarbon's XLM server): 1 CPU, 256 GB DRAM, 32 TB SSD -> 1.47 + 102.4 + 768 = 871.87 kgCO2e.
    """
    if cpu_count < 0:
        raise ValueError("cpu_count must be >= 0")
    return (
        cpu_count * cpu.embodied_kg
        + capacity_embodied_kg(dram_bytes, dram_kg_per_gb)
        + capacity_embodied_kg(ssd_bytes, ssd_kg_per_gb)
    )


def amortised_embodied_kg(embodied_kg: float, allocated_s: float, lifetime_s: float = DEFAULT_LIFETIME_S) -> float:
    """Share of embodied carbon charged to `allocated_s` [s] of use [kgCO2e], linear over the lifetime.

    share = embodied x min(allocated / lifetime, 1): once a device has been held for its whole lifetime it
    has been fully charged. Example (LLMCarbon Table 5, XLM): 512 V100 x 9.78 kg for 20.4275 days of a
    5-year life (1.12 %) -> 56.0 kgCO2e = 0.056 t.
    """
    if embodied_kg < 0 or allocated_s < 0:
        raise ValueError("embodied carbon and allocated time must be >= 0")
    if not lifetime_s > 0:
        raise ValueError("lifetime_s must be > 0")
    return embodied_kg * min(allocated_s / lifetime_s, 1.0)


def accelerator_embodied_kg(
    die_area_mm2: float,
    carbon_per_area_kg_per_cm2: float,
    hbm_bytes: float,
    dram_kg_per_gb: float = DRAM_KG_PER_GB,
) -> float:
    """Embodied carbon of one accelerator [kgCO2e]: its logic die plus its HBM, LLMCarbon's method.

    embodied = die area [mm^2] / MM2_PER_CM2 x CPA [kgCO2e/cm^2] + HBM [GB] x DRAM factor [kgCO2e/GB].
    LLMCarbon has no separate HBM figure; its DRAM factor (0.4 kgCO2e/GB) is applied to the HBM capacity.
    Example: H100 SXM 80 GB, 814 mm^2 on TSMC 4nm (1.8 kgCO2e/cm^2): 14.652 + 80 x 0.4 = 46.652 kgCO2e.
    """
    die_kg = die_embodied_kg(die_area_mm2 / MM2_PER_CM2, carbon_per_area_kg_per_cm2)
    return die_kg + capacity_embodied_kg(hbm_bytes, dram_kg_per_gb)


def node_embodied_kg(
    gpus_per_node: int,
    accelerator_kg: float,
    host_kg: float,
    network_kg: float = 0.0,
    storage_kg: float = 0.0,
) -> float:
    """Embodied carbon charged per node [kgCO2e]: its accelerators, its host, and its share of network and
    storage gear (each given per node). Example (DGX H100): 8 x 46.652 + 1,632.38 (host) = 2,005.596 kgCO2e."""
    parts = (accelerator_kg, host_kg, network_kg, storage_kg)
    if gpus_per_node < 0 or any(p < 0 for p in parts):
        raise ValueError("embodied figures and counts must be >= 0")
    return gpus_per_node * accelerator_kg + host_kg + network_kg + storage_kg
