"""Embodied carbon: LLMCarbon's per-chip figures and its XLM table, by hand."""

from __future__ import annotations

import pytest

from sim.physics.embodied import (
    CHIPS,
    DEFAULT_LIFETIME_S,
    DRAM_KG_PER_GB,
    SSD_KG_PER_GB,
    accelerator_embodied_kg,
    amortised_embodied_kg,
    capacity_embodied_kg,
    die_embodied_kg,
    host_embodied_kg,
    node_embodied_kg,
)
from sim.units import BYTES_PER_GB, KG_PER_T, S_PER_DAY, S_PER_YEAR


@pytest.mark.parametrize(
    "name, kg",
    # LLMCarbon hardware table, column CO2e_chip (kgCO2e)
    [("V100", 9.78), ("H100", 14.652), ("TPUv3", 7.0), ("TPUv4", 6.4), ("CPU", 1.47)],
)
def test_chip_figures(name, kg):
    assert CHIPS[name].embodied_kg == pytest.approx(kg)


def test_die_and_capacity_by_hand():
    assert die_embodied_kg(8.15, 1.2) == pytest.approx(9.78)
    assert capacity_embodied_kg(256 * BYTES_PER_GB, DRAM_KG_PER_GB) == pytest.approx(102.4)
    assert capacity_embodied_kg(32_000 * BYTES_PER_GB, SSD_KG_PER_GB) == pytest.approx(768.0)
    assert host_embodied_kg(1, 256 * BYTES_PER_GB, 32_000 * BYTES_PER_GB) == pytest.approx(871.87)


def test_llmcarbon_table_5_xlm():
    # LLMCarbon Table 5 (XLM): 512 V100, 64 CPU, 64 x 32 TB SSD, 64 x 256 GB DRAM, held 1.12 % of a
    # 5-year life (20.4275 days): 0.056, 0.0011, 0.55 and 0.073 tCO2e.
    held_s = 20.4275 * S_PER_DAY
    assert held_s / DEFAULT_LIFETIME_S == pytest.approx(0.0112, abs=5e-5)
    v100_t = amortised_embodied_kg(512 * CHIPS["V100"].embodied_kg, held_s) / KG_PER_T
    cpu_t = amortised_embodied_kg(64 * CHIPS["CPU"].embodied_kg, held_s) / KG_PER_T
    ssd_t = amortised_embodied_kg(64 * capacity_embodied_kg(32_000 * BYTES_PER_GB, SSD_KG_PER_GB), held_s) / KG_PER_T
    dram_t = amortised_embodied_kg(64 * capacity_embodied_kg(256 * BYTES_PER_GB, DRAM_KG_PER_GB), held_s) / KG_PER_T
    assert round(v100_t, 3) == 0.056
    assert round(cpu_t, 4) == 0.0011
    assert round(ssd_t, 2) == 0.55
    assert round(dram_t, 3) == 0.073
    # the four rows add up to 0.68 t (0.056 + 0.0011 + 0.55 + 0.073)
    assert round(v100_t + cpu_t + ssd_t + dram_t, 2) == 0.68


def test_amortisation_is_linear_and_capped_at_the_lifetime():
    assert DEFAULT_LIFETIME_S == 5 * S_PER_YEAR
    assert amortised_embodied_kg(100.0, 0.0) == 0.0
    assert amortised_embodied_kg(100.0, DEFAULT_LIFETIME_S / 4) == pytest.approx(25.0)
    assert amortised_embodied_kg(100.0, DEFAULT_LIFETIME_S) == 100.0
    assert amortised_embodied_kg(100.0, 2 * DEFAULT_LIFETIME_S) == 100.0
    assert amortised_embodied_kg(100.0, S_PER_YEAR, lifetime_s=4 * S_PER_YEAR) == pytest.approx(25.0)
    with pytest.raises(ValueError):
        amortised_embodied_kg(100.0, -1.0)
    with pytest.raises(ValueError):
        amortised_embodied_kg(100.0, 1.0, lifetime_s=0.0)


def test_accelerator_and_node_by_hand():
    # H100 SXM 80 GB: 814 mm^2 on 4 nm (1.8 kgCO2e/cm^2) + 80 GB HBM x 0.4 = 14.652 + 32
    assert accelerator_embodied_kg(814, 1.8, 80 * BYTES_PER_GB) == pytest.approx(46.652)
    # V100 32 GB: 815 mm^2 on 12 nm: LLMCarbon's 9.78 kg die + 12.8 kg HBM
    assert accelerator_embodied_kg(815, 1.2, 32 * BYTES_PER_GB) == pytest.approx(9.78 + 12.8)
    assert node_embodied_kg(8, 46.652, 1632.38) == pytest.approx(2005.596)
    assert node_embodied_kg(8, 46.652, 1632.38, network_kg=10.0, storage_kg=5.0) == pytest.approx(2020.596)
    with pytest.raises(ValueError):
        node_embodied_kg(8, -1.0, 0.0)


def test_catalog_covers_every_accelerator_with_a_die_area_and_its_process_is_llmcarbons():
    from sim.catalog.embodied import embodied_catalog
    from sim.catalog.hardware import gpu_catalog

    catalog = embodied_catalog()
    with_area = {k for k, g in gpu_catalog().items() if g.die_area_mm2 is not None}
    assert with_area == set(catalog.gpus)
    # LLMCarbon's own chips come back: V100 9.78 kg, H100 14.652 kg, TPU v3 7.0, TPU v4 6.4 (die only)
    for key, kg in (("v100-sxm2-32gb", 9.78), ("h100-sxm5-80gb", 14.652), ("tpu-v3", 7.0), ("tpu-v4", 6.4)):
        gpu = gpu_catalog()[key]
        cpa = catalog.gpus[key].process.carbon_per_area_kg_per_cm2
        assert accelerator_embodied_kg(gpu.die_area_mm2, cpa, 0.0) == pytest.approx(kg)
    # DGX H100 host: 2 CPUs + 2 TB DRAM + 34.56 TB SSD -> 2.94 + 800 + 829.44 kgCO2e
    h = catalog.hosts["dgx-h100"]
    assert host_embodied_kg(h.cpus, h.dram_bytes, h.ssd_bytes) == pytest.approx(1632.38)
