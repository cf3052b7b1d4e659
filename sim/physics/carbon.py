"""Carbon and off-site water accounting of metered energy: pure functions on aligned arrays.

Every function takes `energy_j` [J] per interval (facility energy, one entry per interval in which power
and the grid signal were constant) and the matching per-interval signal. Location-based and
market-based methods follow the GHG Protocol Scope 2 Guidance (WRI/WBCSD 2015): location-based charges
every kWh at the grid's average intensity; market-based credits contractual clean energy. Hourly
(24/7) matching follows Google, "24/7 Carbon-Free Energy: Methodologies and Metrics" (Feb 2021): clean
supply counts only in the hour it is generated, and a surplus in one hour cannot cover a deficit in
another.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from sim.units import G_PER_KG, J_PER_KWH


def _aligned(name_a: str, a: ArrayLike, name_b: str, b: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(a, dtype=float)
    y = np.broadcast_to(np.asarray(b, dtype=float), x.shape) if np.ndim(b) == 0 else np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"{name_a} has shape {x.shape} but {name_b} has shape {y.shape}; expected one entry per interval")
    if np.any(~np.isfinite(x)) or np.any(x < 0):
        raise ValueError(f"{name_a} must be finite and >= 0")
    if np.any(~np.isfinite(y)) or np.any(y < 0):
        raise ValueError(f"{name_b} must be finite and >= 0")
    return x, y


def carbon_kg_per_interval(energy_j: ArrayLike, intensity_g_per_kwh: ArrayLike) -> np.ndarray:
    """Location-based carbon of each interval [kg].

    carbon_i = energy_i [J] / J_PER_KWH x intensity_i [gCO2e/kWh] / G_PER_KG.
    Example: 700 W for 2 h (5.04 MJ = 1.4 kWh) at 429 gCO2e/kWh -> 0.6006 kg.
    """
    e, ci = _aligned("energy_j", energy_j, "intensity_g_per_kwh", intensity_g_per_kwh)
    return e / J_PER_KWH * ci / G_PER_KG


def location_based_carbon_kg(energy_j: ArrayLike, intensity_g_per_kwh: ArrayLike) -> float:
    """Location-based carbon [kg]: sum over intervals of energy x grid intensity (GHG Protocol Scope 2).

    Reference: Patterson et al. 2021, Table 4, GPT-3: 1,287 MWh at 429 gCO2e/kWh -> 552.1 tCO2e.
    """
    return float(carbon_kg_per_interval(energy_j, intensity_g_per_kwh).sum())


def hourly_unmatched_energy_j(energy_j: ArrayLike, clean_supply_j: ArrayLike) -> np.ndarray:
    """Energy of each interval not covered by clean supply in the same interval [J]: max(E_i - C_i, 0)."""
    e, c = _aligned("energy_j", energy_j, "clean_supply_j", clean_supply_j)
    return np.maximum(e - c, 0.0)


def hourly_cfe_score(energy_j: ArrayLike, clean_supply_j: ArrayLike) -> float:
    """Share of consumption matched by clean supply hour by hour [0-1] (Google 2021 CFE score).

    CFE = sum_i min(E_i, C_i) / sum_i E_i. Zero consumption scores 1 (nothing left unmatched).
    """
    e, c = _aligned("energy_j", energy_j, "clean_supply_j", clean_supply_j)
    total = e.sum()
    return 1.0 if total == 0 else float(np.minimum(e, c).sum() / total)


def hourly_matched_carbon_kg(
    energy_j: ArrayLike, clean_supply_j: ArrayLike, intensity_g_per_kwh: ArrayLike
) -> float:
    """Market-based carbon with 24/7 (hourly) matching [kg].

    carbon = sum_i max(E_i - C_i, 0) x I_i, with C_i [J] the contract's clean energy delivered in interval
    i and I_i the intensity charged for unmatched energy (the grid average; pass a residual-mix series
    instead where one is published). Surplus clean energy in an interval is not carried to another.
    Example: E = [1, 1] kWh, C = [2, 0] kWh, I = 100 g/kWh -> 0.1 kg (the second hour is unmatched).
    """
    unmatched_j = hourly_unmatched_energy_j(energy_j, clean_supply_j)
    return location_based_carbon_kg(unmatched_j, intensity_g_per_kwh)


def annual_matched_fraction(energy_j: ArrayLike, contract_energy_j: float) -> float:
    """Share of the period's consumption covered by a contract volume netted over the period [0-1]:
    min(V, sum E) / sum E. Zero consumption gives 1."""
    e = np.asarray(energy_j, dtype=float)
    if contract_energy_j < 0 or not np.isfinite(contract_energy_j):
        raise ValueError("contract_energy_j must be finite and >= 0")
    total = e.sum()
    return 1.0 if total == 0 else float(min(contract_energy_j, total) / total)


def annual_matched_carbon_kg(
    energy_j: ArrayLike, contract_energy_j: float, intensity_g_per_kwh: ArrayLike
) -> float:
    """Market-based carbon with annual (volume) matching [kg].

    The contract's certificates, V [J] over the period, are netted against the period's total
    consumption (GHG Protocol Scope 2 market-based method); the uncovered share is charged at the
    consumption-weighted intensity: carbon = (1 - min(V, sum E) / sum E) x sum_i E_i I_i.
    The clean energy it credits, min(V, sum E), is never less than hourly matching credits,
    sum_i min(E_i, C_i), for the same contract (sum C = V): so at a uniform intensity annual matching is
    never higher than hourly. With a varying intensity either may be higher: clean energy delivered in
    clean hours avoids little under hourly matching but is credited at the average under annual.
    """
    location_kg = location_based_carbon_kg(energy_j, intensity_g_per_kwh)
    return (1.0 - annual_matched_fraction(energy_j, contract_energy_j)) * location_kg


def off_site_water_l(energy_j: ArrayLike, water_intensity_l_per_kwh: ArrayLike) -> float:
    """Water consumed off site to generate the electricity [L] (Li et al. 2023, arXiv:2304.03271,
    "Making AI Less 'Thirsty'": off-site water = energy x electricity water intensity factor, EWIF).

    water = sum_i E_i [J] / J_PER_KWH x EWIF_i [L/kWh]. Example: 1 MWh at 3.1 L/kWh -> 3,100 L.
    Pass facility energy (IT energy x PUE), as the paper does.
    """
    e, w = _aligned("energy_j", energy_j, "water_intensity_l_per_kwh", water_intensity_l_per_kwh)
    return float((e / J_PER_KWH * w).sum())


def unmatched_fraction(energy_j: float, clean_supply_j: float) -> float:
    """Share of one matching hour's consumption not covered by clean supply delivered in the same hour [0-1].

    f = max(E - C, 0) / E, and 0 when E = 0. The hour's market-based carbon with hourly matching is then
    f x (its location-based carbon), i.e. max(E - C, 0) x I with I the hour's energy-weighted intensity,
    which is `hourly_matched_carbon_kg` for that hour. Example: E = 3 kWh, C = 1 kWh -> 2/3.
    """
    if not (math.isfinite(energy_j) and math.isfinite(clean_supply_j)) or energy_j < 0 or clean_supply_j < 0:
        raise ValueError("energy and clean supply must be finite and >= 0")
    if energy_j == 0.0:
        return 0.0
    return max(energy_j - clean_supply_j, 0.0) / energy_j
