"""One job on one DGX H100 under GPU power caps: clock, duration and energy per job, through the engine.

A 4 h job (at full clock) on 8 H100 GPUs, memory-bound (beta = 0.2), mixed (0.6) or compute-bound (0.95);
each cap is compared with the uncapped run. Prints a Markdown table.

    python benchmarks/power_cap_table.py
"""

from __future__ import annotations

from sim.config.loader import validate_scenario
from sim.engine.simulation import Simulation
from sim.units import J_PER_KWH, S_PER_H


def job(beta: float, cap_w: float | None):
    policies = {"power": "static_cap", "static_cap": {"gpu_cap_w": cap_w}} if cap_w else {}
    sc = validate_scenario({
        "scenario": {"name": "power-cap"},
        "cluster": {"node": "dgx-h100", "nodes": 1},
        "facility": {"pue": 1.2},
        "queue": {"jobs": [{"name": "job", "gpus": 8, "duration": "4h", "compute_bound_fraction": beta}]},
        "policies": policies,
    }, "benchmark", None)
    return Simulation(sc).run().jobs.to_pandas().iloc[0]


def main() -> None:
    print("| work | GPU cap W | clock | GPU W (per GPU) | duration h | node energy kWh | vs uncapped |")
    print("|---|---|---|---|---|---|---|")
    for beta, label in ((0.2, "memory-bound (beta 0.2)"), (0.6, "mixed (beta 0.6)"), (0.95, "compute-bound (beta 0.95)")):
        free = job(beta, None)
        for cap in (None, 450.0, 400.0, 350.0, 300.0):
            row = job(beta, cap) if cap else free
            gpu_w = row["gpu_kwh"] * J_PER_KWH / row["duration_s"] / 8
            change = 100 * (row["it_kwh"] / free["it_kwh"] - 1)
            print(f"| {label} | {cap or 'none'} | {row['mean_clock_ratio']:.3f} | {gpu_w:.0f} | "
                  f"{row['duration_s'] / S_PER_H:.3f} | {row['it_kwh']:.2f} | {change:+.1f}% |")


if __name__ == "__main__":
    main()
