"""The climate x cooling table of the README: annual PUE and on-site WUE measured through the engine.

Runs the shipped scenarios of scenarios/climate/ as they are (1,000 H100 training all year, 94 % of the plant's
design IT power, hourly output) for each plant, on the real NREL TMY3 years of ../shared/data (or
$SIM_SHARED_DATA) and on the built-in climates fitted to them.

    python benchmarks/climate_table.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sim.config import load_scenario
from sim.engine.simulation import Simulation
from sim.units import J_PER_KWH

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SIM_SHARED_DATA", ROOT.parent / "shared" / "data"))
CLIMATES = {
    "hot_dry": ("Phoenix, AZ", "USA_AZ_Phoenix-Sky.Harbor.Intl.AP.722780_TMY3.epw"),
    "temperate": ("Sterling, VA", "USA_VA_Sterling-Washington.Dulles.Intl.AP.724030_TMY3.epw"),
    "cold": ("Minneapolis, MN", "USA_MN_Minneapolis-St.Paul.Intl.AP.726580_TMY3.epw"),
}
# column label -> (scenario file pattern, extra overrides)
PLANTS = {
    "hyperscale_air (towers)": ("{climate}-air.toml", []),
    "dry_cooled (air, dry)": ("{climate}-air.toml", ["facility.preset='dry_cooled'"]),
    "liquid_dtc (dry)": ("{climate}-liquid.toml", []),
    "legacy_air": ("temperate-legacy.toml", []),
}


def run(climate: str, plant: str, epw: bool) -> dict:
    pattern, overrides = PLANTS[plant]
    if epw:
        overrides = [*overrides, f"weather.file='{DATA / CLIMATES[climate][1]}'"]
    else:
        overrides = [*overrides, f"weather.climate='{climate}'"]
    return Simulation(load_scenario(ROOT / "scenarios" / "climate" / pattern.format(climate=climate), overrides)).run().summary


def main() -> int:
    sources = [True, False] if all((DATA / f).is_file() for _, f in CLIMATES.values()) else [False]
    if sources == [False]:
        print(f"EPW files not found in {DATA} (set SIM_SHARED_DATA): built-in climates only", file=sys.stderr)
    for epw in sources:
        summaries = {(c, p): run(c, p, epw) for c in CLIMATES for p in PLANTS}
        s = summaries[("temperate", "hyperscale_air (towers)")]
        it_w = s["it_energy_kwh"] * J_PER_KWH / s["simulated_s"]
        title = "NREL TMY3 EPW typical years" if epw else "built-in climates (fitted sinusoids)"
        print(f"\n{title}: annual PUE / on-site WUE [L/kWh of IT energy]; IT {it_w / 1e6:.3f} MW mean = "
              f"{it_w / s['facility']['design_it_power_w']:.1%} of the 1.0 MW design, all year")
        print("| climate | " + " | ".join(PLANTS) + " |")
        print("|---|" + "---|" * len(PLANTS))
        for climate, (place, _) in CLIMATES.items():
            cells = []
            for plant in PLANTS:
                summary = summaries[(climate, plant)]
                cells.append(f"{summary['pue']:.3f} / {summary['wue_l_per_kwh']:.2f}")
            print(f"| {climate} ({place}) | " + " | ".join(cells) + " |")
        for climate in CLIMATES:
            parts = summaries[(climate, "hyperscale_air (towers)")]["cooling_parts_energy_kwh"]
            it_kwh = summaries[(climate, "hyperscale_air (towers)")]["it_energy_kwh"]
            shares = ", ".join(f"{name} {kwh / it_kwh:.2%}" for name, kwh in parts.items())
            print(f"hyperscale_air, {climate}: cooling by equipment, share of IT energy: {shares}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
