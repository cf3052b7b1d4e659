"""Find the smallest (or largest) value of an integer key that meets a target on a summary metric, by bisection.

The input is a sweep file (the search runs for each combination of its other axes; a [capacity] table gives
defaults for every option) or a scenario file. The answer's energy, carbon, water and cost are reported, and
written to DIR/capacity.parquet and capacity.json; every run goes into the sweep's Hive layout and is reused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.commands.sweep import add_executor_arguments, sigterm_as_interrupt

EXAMPLE = ("python -m sim capacity scenarios/sweeps/gpu_type_count.toml --key cluster.gpus "
           "--metric jobs.train-7b.duration_s --target 3d --direction le")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, metavar="SWEEP_OR_SCENARIO", help="sweep or scenario TOML file")
    parser.add_argument("--key", default=None, help="integer scenario key to search, e.g. cluster.gpus")
    parser.add_argument("--metric", default=None,
                        help="summary metric (a points.parquet column), e.g. jobs.<job>.duration_s or carbon_kg")
    parser.add_argument("--target", default=None, help="target value; durations such as 3d for metrics in seconds")
    parser.add_argument("--direction", choices=("le", "ge"), default=None,
                        help="le: metric <= target; ge: metric >= target")
    parser.add_argument("--find", choices=("smallest", "largest"), default=None,
                        help="the smallest value meeting the target (default) or the largest")
    parser.add_argument("--low", type=int, default=None, help="lowest value to consider (default: the key's axis)")
    parser.add_argument("--high", type=int, default=None, help="highest value to consider (default: the key's axis)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a key of every run, e.g. --set scenario.duration=30d (repeatable)")
    parser.add_argument("--follow", action="append", default=[], metavar="TARGET=SOURCE",
                        help="set a key to another key's value in every run, e.g. --follow jobs.0.gpus=cluster.gpus")
    parser.add_argument("--out", type=Path, default=None, help="results directory (default: outputs/sweeps/<name>/)")
    add_executor_arguments(parser)
    parser.add_argument("--force", action="store_true", help="run probed points again, replacing finished ones")


def _number(value: float | None, name: str = "") -> str:
    if value is None:
        return "-"
    if name.endswith("_s") and abs(value) >= 3600:
        return f"{value:,.0f} s ({value / 86400:,.2f} d)"
    return f"{value:,.6g}"


def run(args: argparse.Namespace) -> int:
    from sim.commands.run import format_carbon, format_energy
    from sim.experiments.capacity import build_goal, run_capacity
    from sim.experiments.executors import make_executor
    from sim.experiments.runner import DEFAULT_SWEEP_ROOT
    from sim.experiments.spec import load_spec, with_overrides

    spec = with_overrides(load_spec(args.input), args.overrides, args.follow)
    goal = build_goal(spec, args.key, args.metric, args.target, args.direction, args.find, args.low, args.high)
    out_dir = args.out if args.out is not None else DEFAULT_SWEEP_ROOT / spec.name
    with sigterm_as_interrupt(), make_executor(args.workers, args.scheduler, args.dask_local) as executor:
        report = run_capacity(spec, goal, out_dir, executor, force=args.force)
    seeds = f" (every one of {len(spec.seeds)} seeds)" if len(spec.seeds) > 1 else ""
    target = _number(goal.target, goal.metric)
    lines = [f"capacity: {goal.describe(target)}{seeds}; {sum(r.runs for r in report.results)} values run in "
             f"{report.wall_s:.1f} s on {report.executor}"]
    for result in report.results:
        where = ", ".join(f"{k}={v}" for k, v in result.settings) or spec.name
        if result.status == "found":
            at = result.at_answer
            parts = [f"{goal.key} = {result.answer}", f"{goal.metric} = {_number(result.metric_value, goal.metric)}"]
            if "facility_energy_kwh" in at:
                parts.append(f"facility {format_energy(at['facility_energy_kwh'])}")
            if "carbon_kg" in at:
                parts.append(format_carbon(at["carbon_kg"]))
            if "cost_usd" in at:
                cost = at["cost_usd"]
                parts.append(f"{cost:,.0f} USD" if abs(cost) >= 100 else f"{cost:.3g} USD")
            text = "; ".join(parts)
        elif result.status == "not met":
            far = goal.high if goal.find == "smallest" else goal.low
            text = f"target not met even at {goal.key} = {far}"
        else:
            text = f"failed: {result.error}"
        warn = "" if result.monotone else "  (warning: not monotone among the values run; the answer is a boundary)"
        lines.append(f"  {where}: {text} [{result.runs} runs]{warn}")
    lines.append(f"  wrote     {out_dir}/capacity.parquet, capacity.json, capacity_points.parquet")
    print("\n".join(lines))
    failed = any(r.status == "failed" for r in report.results)
    if failed:
        print("error: a search stopped on a failed run (see above)", file=sys.stderr)
    return 1 if failed else 0
