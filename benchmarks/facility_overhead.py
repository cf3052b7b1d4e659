"""Wall time of the cooling plant: a year-long run of a 1,000-GPU cluster with the plant against fixed_pue.

125 DGX H100 (1,000 GPUs) train one job for all of 2023 (compute and exposed-communication phases: a periodic
profile), with hourly output. Variants, timed side by side (construction + run, what a user waits for):

  fixed_pue            [facility] model = "fixed_pue", no weather: the reference
  plant                model = "plant" (hyperscale_air), built-in 'temperate' climate: 8,760 hourly weather steps
  plant, EPW           the same on the Sterling, VA TMY3 file (when ../shared/data or $SIM_SHARED_DATA has it)
  fixed_pue + weather  fixed_pue with the same climate, for the share of the weather signal alone
  ... + hourly grid    fixed_pue and the plant again with the built-in us-virginia carbon intensity, which changes
                       every hour: a SimPy event per hour, so no long crossing lets the meter evaluate the plant's
                       year at once (Meter._plan_draws); the plant is then evaluated once per hour

Repeats are interleaved (each round runs every variant once, in turn) and the medians are compared, so a slow
spell of the machine hits every variant alike. Wall time and the process's CPU time are both reported: on a shared
machine the CPU time is the steadier of the two.

    python benchmarks/facility_overhead.py [--repeats 9]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from sim.config.loader import validate_scenario
from sim.engine.simulation import Simulation

DATA = Path(os.environ.get("SIM_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
STERLING_EPW = DATA / "USA_VA_Sterling-Washington.Dulles.Intl.AP.724030_TMY3.epw"
TARGET_RATIO = 1.2


def scenario(facility: dict, weather: dict | None, grid: dict | None = None):
    data = {
        "scenario": {"start": datetime(2023, 1, 1, tzinfo=timezone.utc), "duration": "365d"},
        "cluster": {"node": "dgx-h100", "gpus": 1000},
        "facility": facility,
        # Llama-2-70B-like work that outlasts the year: the job runs all year.
        "jobs": [{"name": "train", "gpus": 1000, "parameters": 70e9, "tokens": 1e14, "batch_tokens": 4e6,
                  "mfu": 0.4, "exposed_communication_fraction": 0.1}],
        "output": {"interval": "1h"},
    }
    if weather is not None:
        data["weather"] = weather
    if grid is not None:
        data["grid"] = grid
    return validate_scenario(data, "facility_overhead", None)


def timed(sc) -> tuple[float, float, dict]:
    # The previous run's objects hold reference cycles (meter <-> loads, SimPy processes): collect them now, so
    # that no run pays for the garbage of the run before it (a full collection of it costs tens of ms).
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = Simulation(sc).run()
    return time.perf_counter() - wall, time.process_time() - cpu, result.summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    plant = {"model": "plant", "preset": "hyperscale_air", "design_it_power_w": 1.0e6}
    variants = {
        "fixed_pue": scenario({"model": "fixed_pue", "pue": 1.1}, None),
        "plant (built-in temperate)": scenario(plant, {"climate": "temperate"}),
        "fixed_pue + weather": scenario({"model": "fixed_pue", "pue": 1.1}, {"climate": "temperate"}),
        "fixed_pue + hourly grid": scenario({"model": "fixed_pue", "pue": 1.1}, None, {"region": "us-virginia"}),
        "plant + hourly grid": scenario(plant, {"climate": "temperate"}, {"region": "us-virginia"}),
    }
    if STERLING_EPW.is_file():
        variants["plant (Sterling EPW)"] = scenario(plant, {"file": str(STERLING_EPW)})
    else:
        print(f"skipped the EPW variant: {STERLING_EPW} not found (set SIM_SHARED_DATA)", file=sys.stderr)
    for sc in variants.values():  # warm-up: imports, the EPW parse (cached per process), numpy first calls
        timed(sc)
    wall: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    summaries = {}
    for _ in range(args.repeats):
        for name, sc in variants.items():
            wall_s, cpu_s, summaries[name] = timed(sc)
            wall[name].append(wall_s)
            cpu[name].append(cpu_s)
    ref_wall, ref_cpu = statistics.median(wall["fixed_pue"]), statistics.median(cpu["fixed_pue"])
    print(f"year-long run, 1,000 GPUs (125 DGX H100), hourly output; medians of {args.repeats} interleaved repeats")
    print("| variant | wall s (median) | vs fixed_pue | CPU s (median) | vs fixed_pue | weather steps | PUE |")
    print("|---|---|---|---|---|---|---|")
    for name in variants:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        s = summaries[name]
        steps = s["weather"]["steps"] if s["weather"] else 0
        print(f"| {name} | {w:.3f} | {w / ref_wall:.2f}x | {c:.3f} | {c / ref_cpu:.2f}x | {steps:,} | {s['pue']:.4f} |")
    plant = "plant (built-in temperate)"
    for label, variant, reference in (("plant / fixed_pue", plant, "fixed_pue"),
                                      ("plant / fixed_pue + the same weather", plant, "fixed_pue + weather"),
                                      ("with an hourly grid signal, plant / fixed_pue", "plant + hourly grid",
                                       "fixed_pue + hourly grid")):
        ratio_wall = statistics.median(wall[variant]) / statistics.median(wall[reference])
        ratio_cpu = statistics.median(cpu[variant]) / statistics.median(cpu[reference])
        verdict = "within" if max(ratio_wall, ratio_cpu) <= TARGET_RATIO else "ABOVE"
        print(f"{label}: wall {ratio_wall:.2f}x, CPU {ratio_cpu:.2f}x ({verdict} the {TARGET_RATIO}x target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
