"""Exact unit conversions. The only place where conversion factors are written down.

Inside the simulator everything is SI: seconds, watts, joules, bytes, FLOP, kilograms.
Conversions happen at the edges (reading a scenario, writing outputs) through these names.
"""

US_PER_S = 1_000_000  # microseconds per second: timestamps held as UTC epoch microseconds
S_PER_MIN = 60.0
S_PER_H = 3600.0
S_PER_DAY = 86_400.0
S_PER_YEAR = 365.0 * S_PER_DAY

J_PER_WH = 3600.0
J_PER_KWH = 3.6e6
J_PER_MWH = 3.6e9

W_PER_MW = 1e6

G_PER_KG = 1000.0
KG_PER_T = 1000.0

BYTES_PER_GB = 1e9
BYTES_PER_TB = 1e12
BYTES_PER_GIB = 2**30
BITS_PER_BYTE = 8.0

MM2_PER_CM2 = 100.0

FLOP_PER_TFLOP = 1e12


def j_to_kwh(energy_j: float) -> float:
    return energy_j / J_PER_KWH


def kwh_to_j(energy_kwh: float) -> float:
    return energy_kwh * J_PER_KWH


def carbon_kg(energy_j: float, intensity_g_per_kwh: float) -> float:
    """Carbon [kg] of `energy_j` [J] at `intensity_g_per_kwh` [gCO2e/kWh]."""
    return energy_j / J_PER_KWH * intensity_g_per_kwh / G_PER_KG
