"""Units read from names: every quantity in sim carries its unit in its name (`it_kwh`, `ambient_c`,
`carbon_intensity_g_per_kwh`), so a column or key name is enough to label an axis or a docs row.

Display scaling (kWh -> MWh -> GWh, kgCO2e -> tCO2e, s -> h -> d) uses the factors of `sim.units` only.
"""

from __future__ import annotations

from typing import Iterable

from sim.units import G_PER_KG, J_PER_KWH, J_PER_MWH, KG_PER_T, S_PER_DAY, S_PER_H

KWH_PER_MWH = J_PER_MWH / J_PER_KWH  # 1000, and so MW per kW... as the same SI prefix step

# Longest suffix first: `_g_per_kwh` before `_kwh`, `_flop_per_s_per_gpu` before `_per_s`.
_SUFFIX_UNITS: tuple[tuple[str, str], ...] = (
    ("_flop_per_s_per_gpu", "FLOP/s per accelerator"),
    ("_w_per_gpu", "W per accelerator"),
    ("_bytes_per_s", "bytes/s"),
    ("_flop_per_s", "FLOP/s"),
    ("_g_per_kwh", "gCO2e/kWh"),
    ("_kg_per_kwh", "kgCO2e/kWh"),
    ("_l_per_kwh", "L/kWh"),
    ("_usd_per_mwh", "USD/MWh"),
    ("_usd_per_kwh", "USD/kWh"),
    ("_j_per_token", "J/token"),
    ("_tokens_per_s", "tokens/s"),
    ("_per_s", "1/s"),
    ("_per_h", "1/h"),
    ("_kwh", "kWh"),
    ("_mwh", "MWh"),
    ("_wh", "Wh"),
    ("_kw", "kW"),
    ("_mw", "MW"),
    ("_w", "W"),
    ("_j", "J"),
    ("_kg", "kg"),
    ("_g", "g"),
    ("_bytes", "bytes"),
    ("_flop", "FLOP"),
    ("_mm2", "mm2"),
    ("_m3", "m3"),
    ("_pct", "%"),
    ("_share", "1"),
    ("_fraction", "1"),
    ("_usd", "USD"),
    ("_l", "L"),
    ("_c", "degC"),
    ("_s", "s"),
    ("_h", "h"),
    ("_hours", "h"),
    ("_tokens", "tokens"),
    ("_at", "UTC"),
)
_EXACT_UNITS = {
    "pue": "1", "wue": "L/kWh", "mfu": "1", "flop": "FLOP", "tokens": "tokens", "parameters": "parameters",
    "timestamp": "UTC", "seed": "", "gpus": "accelerators", "nodes": "servers", "requests": "requests",
    "gpu_hours": "GPU-h",
}
_CARBON_WORDS = ("carbon", "co2", "emission", "embodied")


def unit_of(name: str) -> str:
    """The unit a name states: 'carbon_kg' -> 'kgCO2e', 'it_kwh' -> 'kWh', 'pue' -> '1'; '' if none."""
    key = name.lower()
    if key in _EXACT_UNITS:
        return _EXACT_UNITS[key]
    for suffix, unit in _SUFFIX_UNITS:
        if key.endswith(suffix):
            if unit in ("kg", "g") and any(word in key for word in _CARBON_WORDS):
                return f"{unit}CO2e"
            return unit
    return ""


def words(name: str) -> str:
    """'carbon_intensity_g_per_kwh' -> 'carbon intensity'; the unit suffix dropped, underscores as spaces."""
    key = name
    low = name.lower()
    if low not in _EXACT_UNITS:
        for suffix, _ in _SUFFIX_UNITS:
            if low.endswith(suffix) and len(low) > len(suffix):
                key = name[: -len(suffix)]
                break
    text = key.replace("_", " ").strip()
    for short, long in (("it", "IT"), ("pue", "PUE"), ("gpu", "GPU"), ("ttft", "TTFT"), ("tpot", "TPOT"),
                        ("e2e", "end-to-end")):
        text = " ".join(long if w == short else w for w in text.split(" "))
    return text


def axis_label(name: str, unit: str | None = None) -> str:
    """'facility_energy_kwh' -> 'facility energy (kWh)'; the unit given overrides the one in the name."""
    unit = unit_of(name) if unit is None else unit
    return f"{words(name)} ({unit})" if unit else words(name)


def display_scale(unit: str, values: Iterable[float]) -> tuple[float, str]:
    """(divisor, unit) that keep the largest magnitude readable: 12,345 kWh -> (1000, 'MWh')."""
    finite = [abs(v) for v in values if v == v and abs(v) != float("inf")]
    peak = max(finite, default=0.0)
    if unit == "kWh":
        if peak >= KWH_PER_MWH * KWH_PER_MWH:
            return KWH_PER_MWH * KWH_PER_MWH, "GWh"
        if peak >= KWH_PER_MWH:
            return KWH_PER_MWH, "MWh"
    elif unit == "kW":
        if peak >= KWH_PER_MWH * KWH_PER_MWH:
            return KWH_PER_MWH * KWH_PER_MWH, "GW"
        if peak >= KWH_PER_MWH:
            return KWH_PER_MWH, "MW"
    elif unit == "kgCO2e" and peak >= KG_PER_T:
        return KG_PER_T, "tCO2e"
    elif unit == "gCO2e" and peak >= G_PER_KG * KG_PER_T:
        return G_PER_KG * KG_PER_T, "tCO2e"
    elif unit == "s":
        if peak >= 2 * S_PER_DAY:
            return S_PER_DAY, "d"
        if peak >= 2 * S_PER_H:
            return S_PER_H, "h"
    elif unit == "J":
        if peak >= J_PER_KWH:
            return J_PER_KWH, "kWh"
    return 1.0, unit
