"""Draw docs/pue_vs_outdoor_temperature.png: hourly PUE against the outdoor dry bulb for one year, from the engine.

Left: the air-cooled hyperscale plant (scenarios/climate/*-air.toml) on the three NREL TMY3 years. Right: the four
plants on the Sterling, VA year. Each point is one hour of the engine's time series (timeseries `pue` against
`ambient_c`); the cluster trains all year at 94 % of the plant's design IT power.

matplotlib is not a dependency of sim; install it to draw the figure:

    .venv/bin/pip install matplotlib && .venv/bin/python docs/plot_pue_vs_temperature.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sim.config import load_scenario
from sim.engine.simulation import Simulation

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SIM_SHARED_DATA", ROOT.parent / "shared" / "data"))
OUT = ROOT / "docs" / "pue_vs_outdoor_temperature.png"
EPW = {
    "hot-dry (Phoenix, AZ)": ("hot_dry", "USA_AZ_Phoenix-Sky.Harbor.Intl.AP.722780_TMY3.epw"),
    "temperate (Sterling, VA)": ("temperate", "USA_VA_Sterling-Washington.Dulles.Intl.AP.724030_TMY3.epw"),
    "cold (Minneapolis, MN)": ("cold", "USA_MN_Minneapolis-St.Paul.Intl.AP.726580_TMY3.epw"),
}
PLANTS = {
    "hyperscale_air (towers)": ("temperate-air.toml", []),
    "dry_cooled": ("temperate-air.toml", ["facility.preset='dry_cooled'"]),
    "liquid_dtc": ("temperate-liquid.toml", []),
    "legacy_air": ("temperate-legacy.toml", []),
}


def hourly(scenario_file: str, epw: str, extra: list[str]):
    overrides = [f"weather.file='{DATA / epw}'", *extra]
    result = Simulation(load_scenario(ROOT / "scenarios" / "climate" / scenario_file, overrides)).run()
    ts = result.timeseries.to_pandas()
    return ts.ambient_c.to_numpy(), ts.pue.to_numpy(), result.summary["pue"]


def main() -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    missing = [f for _, f in EPW.values() if not (DATA / f).is_file()]
    if missing:
        print(f"not found in {DATA}: {', '.join(missing)} (set SIM_SHARED_DATA)", file=sys.stderr)
        return 1
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    for label, (climate, epw) in EPW.items():
        t, pue, annual = hourly(f"{climate}-air.toml", epw, [])
        left.scatter(t, pue, s=2, alpha=0.35, label=f"{label}: annual {annual:.3f}", rasterized=True)
    left.set_title("hyperscale_air: outdoor-air economiser, towers, 18 C water")
    sterling = EPW["temperate (Sterling, VA)"][1]
    for label, (scenario_file, extra) in PLANTS.items():
        t, pue, annual = hourly(scenario_file, sterling, extra)
        right.scatter(t, pue, s=2, alpha=0.35, label=f"{label}: annual {annual:.3f}", rasterized=True)
    right.set_title("four plants, Sterling, VA (TMY3)")
    for ax in (left, right):
        ax.set_xlabel("outdoor dry bulb [C] (hourly)")
        ax.set_ylabel("PUE of the hour")
        ax.grid(alpha=0.3)
        legend = ax.legend(markerscale=5, fontsize=8, loc="upper left")
        for handle in legend.legend_handles:
            handle.set_alpha(1.0)
    fig.suptitle("Hourly PUE against outdoor temperature, one year; 1,000 H100 training at 94 % of design IT power",
                 fontsize=11)
    fig.savefig(OUT, dpi=110)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
