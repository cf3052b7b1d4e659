"""The same GPU-hours in France, Germany and California, 2023: the figures of the README's footprint section.

One DGX H100 with its 8 GPUs busy for all of 2023 (constant power, PUE 1.2), under each Electricity Maps file
in ../shared/data (or $SIM_SHARED_DATA) and under each built-in region; then a 3-hour job on 2023-06-15 in
California at 19:00 UTC (noon PDT) and at 07:00 UTC (midnight PDT).

    python benchmarks/grid_regions.py
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from sim.config.loader import validate_scenario
from sim.engine.simulation import Simulation
from sim.units import G_PER_KG, S_PER_H

UTC = timezone.utc
DATA = Path(os.environ.get("SIM_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def job(hours: float, submit_at_s: float = 0.0) -> dict:
    """8 H100 at MFU 0.4 for `hours` (tokens from the duration)."""
    iteration_s = 6 * 1e9 * 1e6 / (8 * 0.4 * 989e12)
    return {"name": "job", "gpus": 8, "parameters": 1e9, "tokens": round(hours * S_PER_H / iteration_s) * 1e6,
            "batch_tokens": 1e6, "mfu": 0.4, "submit_at": submit_at_s}


def run(grid: dict, start: datetime, duration: str, jobs: list[dict]) -> dict:
    data = {"scenario": {"start": start, "duration": duration}, "cluster": {"node": "dgx-h100", "nodes": 1},
            "facility": {"pue": 1.2}, "grid": grid, "jobs": jobs}
    result = Simulation(validate_scenario(data, "grid_regions", None)).run()
    return {"summary": result.summary, "job": result.jobs.to_pylist()[0]}


def main() -> int:
    start = datetime(2023, 1, 1, tzinfo=UTC)
    rows = []
    for zone, region in (("FR", "france"), ("DE", "germany"), ("US-CAL-CISO", "us-california")):
        for label, grid in ((f"file {zone}_2023_hourly.csv", {"carbon_intensity_file": str(DATA / f"{zone}_2023_hourly.csv")}),
                            (f"region {region}", {"region": region})):
            if "carbon_intensity_file" in grid and not Path(grid["carbon_intensity_file"]).is_file():
                print(f"skipped {label}: not found (set SIM_SHARED_DATA)", file=sys.stderr)
                continue
            out = run(grid, start, "365d", [job(9000)])
            s, j = out["summary"], out["job"]
            rows.append((label, j["gpu_hours"], s["facility_energy_kwh"], s["carbon_kg"],
                         s["carbon_kg"] / s["facility_energy_kwh"] * G_PER_KG, s["carbon_kg"] / j["gpu_hours"] * G_PER_KG))
    germany = {r[0].split()[0]: r for r in rows if "DE_" in r[0] or "germany" in r[0]}  # kind ('file', 'region') -> row
    print("| source | GPU-hours | facility MWh | tCO2e | load-weighted gCO2e/kWh | gCO2e per GPU-hour | vs Germany |")
    print("|---|---|---|---|---|---|---|")
    for label, gpu_h, kwh, kg, g_per_kwh, g_per_gpu_h in rows:
        ref = germany.get(label.split()[0])
        ratio = f"{kg / ref[3]:.3f}" if ref else "-"
        print(f"| {label} | {gpu_h:,.0f} | {kwh / 1000:,.2f} | {kg / 1000:,.2f} | {g_per_kwh:,.1f} | {g_per_gpu_h:,.1f} | {ratio} |")

    print()
    print("| California, 3 h job on 2023-06-15 | source | start (UTC) | facility kWh | kgCO2e | gCO2e/kWh |")
    print("|---|---|---|---|---|---|")
    day = datetime(2023, 6, 15, tzinfo=UTC)
    for label, grid in (("file", {"carbon_intensity_file": str(DATA / "US-CAL-CISO_2023_hourly.csv")}),
                        ("region", {"region": "us-california"})):
        if "carbon_intensity_file" in grid and not Path(grid["carbon_intensity_file"]).is_file():
            continue
        for name, hour in (("midday (12:00 PDT)", 19), ("night (00:00 PDT)", 7)):
            j = run(grid, day, "1d", [job(3.0, hour * S_PER_H)])["job"]
            print(f"| {name} | {label} | {hour:02d}:00 | {j['facility_kwh']:.2f} | {j['carbon_kg']:.2f} | "
                  f"{j['carbon_kg'] / j['facility_kwh'] * G_PER_KG:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
