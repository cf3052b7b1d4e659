"""Embodied carbon: LLMCarbon's per-chip figures and its XLM table, by hand."""

from __future__ import annotations

import pytest

from sim.physics.embodied import (
    CHIPS,
    DEFAULT_LIFETIME_S,
    DRAM_KG_PER_GB,
    SSD_KG_PER_GB,
    amortised_embodied_kg,
    capacity_embodied_kg,
    die_embodied_kg,
    host_embodied_kg,
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
