"""Wall time of training at scale: the Llama 3 405B scenario (16,384 H100) with and without failures, and
the same run at 1,024, 16,384 and 131,072 GPUs, measured side by side (medians of interleaved repeats).

The engine's cost should follow state changes (failures, network changes, output intervals), never the
GPU count, iterations or checkpoints: checkpoints are folded into each stretch's power profile.

    python benchmarks/training_scale.py [--repeats 11]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from pathlib import Path

from sim.config.loader import apply_override, parse_override, read_toml, validate_scenario
from sim.engine.simulation import Simulation

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "llama3-405b.toml"
NO_FAILURES = ["jobs.0.failures.enabled=false"]
# Llama 3 per-GPU MTBF: 16,384 GPUs x 54 days / 419 interruptions (Dubey et al. 2024, Table 5).
LLAMA3_GPU_MTBF_S = 16_384 * 54 * 86_400 / 419
# failures.enabled = false draws no failure but keeps the checkpoints the failure rate plans (the same run
# without its failures); this one also stops checkpointing.
NO_FAILURES_NO_CHECKPOINTS = NO_FAILURES + ["jobs.0.checkpoint.interval='none'"]


def scaled(gpus: int, failures: str) -> list[str]:
    """The scenario at ``gpus`` GPUs with the work scaled alike (same simulated duration). ``failures``:
    'per-gpu' keeps the Llama 3 per-GPU MTBF (failures grow with the GPUs), 'per-job' scales the per-GPU
    MTBF with the GPU count (the job fails as often as the 16,384-GPU one, and checkpoints as often),
    'none' switches failures and checkpoints off."""
    factor = gpus / 16_384
    # enough spares for the failures in repair: 32 at the published rate, scaled with it when it grows
    spares = max(32, round(32 * factor)) if failures == "per-gpu" else 32
    overrides = [
        f"cluster.gpus={gpus + 8 * spares}", f"jobs.0.gpus={gpus}", f"jobs.0.tokens={15.6e12 * factor}",
        f"jobs.0.batch_tokens={16e6 * factor}", f"jobs.0.failures.spare_nodes={spares}",
    ]
    if failures == "none":
        overrides += NO_FAILURES_NO_CHECKPOINTS
    elif failures == "per-job":
        overrides += [f"jobs.0.failures.gpu_mtbf={LLAMA3_GPU_MTBF_S * factor}"]
    return overrides


def run(overrides: list[str]) -> tuple[float, dict]:
    data = read_toml(SCENARIO)
    for text in overrides:
        apply_override(data, *parse_override(text), text)
    if "gpu_mtbf" in data["jobs"][0]["failures"]:
        del data["jobs"][0]["failures"]["calibration"]  # an explicit MTBF replaces the calibration
    scenario = validate_scenario(data, str(SCENARIO), SCENARIO.parent, name=SCENARIO.stem)
    # The previous run's objects hold reference cycles (meter <-> loads, SimPy processes): collect them now, so
    # that no run pays for the garbage of the run before it.
    gc.collect()
    started = time.perf_counter()
    summary = Simulation(scenario).run().summary
    return time.perf_counter() - started, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=11)
    args = parser.parse_args()
    cases = {
        "16,384 GPUs, failures": [],
        "16,384 GPUs, no failures": NO_FAILURES,
        "16,384 GPUs, no failures, no checkpoints": NO_FAILURES_NO_CHECKPOINTS,
        "1,024 GPUs, no failures, no checkpoints": scaled(1_024, "none"),
        "131,072 GPUs, no failures, no checkpoints": scaled(131_072, "none"),
        "1,024 GPUs, failures per job fixed": scaled(1_024, "per-job"),
        "16,384 GPUs, failures per job fixed": scaled(16_384, "per-job"),
        "131,072 GPUs, failures per job fixed": scaled(131_072, "per-job"),
        "1,024 GPUs, Llama 3 MTBF per GPU": scaled(1_024, "per-gpu"),
        "131,072 GPUs, Llama 3 MTBF per GPU": scaled(131_072, "per-gpu"),
    }
    run([])  # imports and catalogs loaded once, outside the measurement
    times: dict[str, list[float]] = {name: [] for name in cases}
    summaries: dict[str, dict] = {}
    for _ in range(args.repeats):  # interleaved: every case sees the same machine noise
        for name, overrides in cases.items():
            elapsed, summaries[name] = run(overrides)
            times[name].append(elapsed)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"{'case':<44}{'median wall s':>14}{'days':>8}{'failures':>10}{'effective':>10}{'events':>8}")
    for name in cases:
        s = summaries[name]
        ratio = s["jobs"][0]["effective_training_time_ratio"]
        print(f"{name:<44}{medians[name]:>14.3f}{s['simulated_s'] / 86400:>8.1f}{s['failures']:>10}"
              f"{ratio:>10.1%}{s['events']:>8}")
    ratios = {
        "failures / no failures (16,384 GPUs)": medians["16,384 GPUs, failures"] / medians["16,384 GPUs, no failures"],
        "failures / no failures and no checkpoints (16,384 GPUs)": (
            medians["16,384 GPUs, failures"] / medians["16,384 GPUs, no failures, no checkpoints"]
        ),
        "131,072 / 1,024 GPUs, no failures or checkpoints": (
            medians["131,072 GPUs, no failures, no checkpoints"] / medians["1,024 GPUs, no failures, no checkpoints"]
        ),
        "16,384 / 1,024 GPUs, failures per job fixed": (
            medians["16,384 GPUs, failures per job fixed"] / medians["1,024 GPUs, failures per job fixed"]
        ),
        "131,072 / 1,024 GPUs, failures per job fixed": (
            medians["131,072 GPUs, failures per job fixed"] / medians["1,024 GPUs, failures per job fixed"]
        ),
    }
    for name, ratio in ratios.items():
        print(f"ratio {name}: {ratio:.2f}")
    print(json.dumps({"medians_s": medians, "ratios": ratios, "repeats": args.repeats}))


if __name__ == "__main__":
    main()
