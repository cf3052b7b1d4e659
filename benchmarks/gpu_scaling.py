"""Wall time of the GPT-3 scenario at 1x and 10x the GPUs (same simulated duration), measured side by side.

The engine holds identical GPUs in the same state as one group, so the cost of a run should follow the
number of state changes, not the number of GPUs. Run:  python benchmarks/gpu_scaling.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from sim.config import load_scenario
from sim.engine.simulation import Simulation

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "gpt3.toml"


def wall_s(overrides: list[str]) -> tuple[float, dict]:
    scenario = load_scenario(SCENARIO, overrides)
    started = time.perf_counter()
    summary = Simulation(scenario).run().summary
    return time.perf_counter() - started, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    # 10x the GPUs and 10x the work keeps the simulated duration equal.
    cases = {
        "1x (10,000 GPUs)": [],
        "10x (100,000 GPUs)": ["cluster.gpus=100000", "jobs.0.gpus=100000", "jobs.0.flop=3.14e24"],
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    summaries = {}
    for _ in range(args.repeats):  # interleaved, so both cases see the same machine noise
        for name, overrides in cases.items():
            elapsed, summaries[name] = wall_s(overrides)
            times[name].append(elapsed)
    medians = {name: statistics.median(values) for name, values in times.items()}
    names = list(cases)
    print(f"{'case':<22}{'median wall s':>14}{'simulated days':>16}{'events':>8}")
    for name in names:
        print(f"{name:<22}{medians[name]:>14.3f}{summaries[name]['simulated_s'] / 86400:>16.2f}{summaries[name]['events']:>8}")
    ratio = medians[names[1]] / medians[names[0]]
    print(f"ratio 10x / 1x GPUs: {ratio:.3f} (target <= 1.2)")
    print(json.dumps({"medians_s": medians, "ratio": ratio, "repeats": args.repeats}))


if __name__ == "__main__":
    main()
