"""Carbon saved by temporal shifting as a function of slack, on the real California 2023 grid file.

One job submitted at every hour of 2023-06-01 (UTC), 2 h on 8 H100 GPUs each, on a cluster large enough
that no job waits for nodes; each policy is compared with run_now over the same 3-day horizon. Prints a
Markdown table: carbon of the jobs, saving credited against the run-now baseline, and the share of job
starts in CAISO's midday dip (17-22 UTC).

    python benchmarks/carbon_shifting_slack.py [/path/to/shared/data]
"""

from __future__ import annotations

import sys
from pathlib import Path

from sim.config.loader import validate_scenario
from sim.engine.simulation import Simulation
from sim.units import S_PER_H

REPO = Path(__file__).resolve().parents[1]
CALIFORNIA = "US-CAL-CISO_2023_hourly.csv"


def day(data: Path, slack_h: float, shifting: str, interruptible: bool):
    jobs = [{"name": f"j{h:02d}", "gpus": 8, "duration": "2h", "submit_at": h * S_PER_H, "slack": f"{slack_h}h",
             "interruptible": interruptible} for h in range(24)]
    sc = validate_scenario({
        "scenario": {"name": "shifting-slack", "start": "2023-06-01T00:00:00Z", "duration": "3d"},
        "cluster": {"node": "dgx-h100", "nodes": 24},
        "facility": {"pue": 1.2},
        "grid": {"carbon_intensity_file": str(data / CALIFORNIA)},
        "queue": {"jobs": jobs},
        "policies": {"shifting": shifting},
    }, "benchmark", None)
    return Simulation(sc, full_duration=True).run().jobs.to_pandas()


def main() -> None:
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "data"
    base = day(data, 0, "run_now", False)
    base_kg = base["carbon_kg"].sum()
    print(f"run now: jobs' carbon {base_kg:.1f} kgCO2e, {((base['started_at'].dt.hour.between(17, 22)).mean()):.0%} "
          "of starts in 17-22 UTC\n")
    print("| slack | policy | jobs | jobs' carbon kg | saved kg | saved % | starts in 17-22 UTC | mean wait h |")
    print("|---|---|---|---|---|---|---|---|")
    for shifting in ("carbon_forecast", "carbon_threshold"):
        for interruptible in (False, True):
            for slack_h in (0, 2, 4, 8, 12, 16, 24):
                jobs = day(data, slack_h, shifting, interruptible)
                saved = jobs["carbon_saved_kg"].sum()
                kind = "interruptible" if interruptible else "non-interruptible"
                print(f"| {slack_h} h | {shifting} | {kind} | {jobs['carbon_kg'].sum():.1f} | {saved:.1f} | "
                      f"{100 * saved / base_kg:.1f}% | {jobs['started_at'].dt.hour.between(17, 22).mean():.0%} | "
                      f"{jobs['wait_s'].mean() / S_PER_H:.1f} |")


if __name__ == "__main__":
    main()
