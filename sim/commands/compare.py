"""Run one scenario under several policies, same seed, and compare them side by side.

Each row is a policy name (or names joined by '+', one per kind) from the registry, or a label of the
scenario's [compare.variants]; the first row is the baseline. Every row runs the same scenario with the
same seed: the workload (queued jobs, inference arrivals) is drawn on streams no policy touches, so all
rows see the same jobs at the same instants (common random numbers), and over the same horizon (the
scenario's duration, or else the longest time any row needs to finish its work), so that totals compare. The table (compare.parquet and
compare.csv, with each metric's difference from the baseline, absolute and in per cent) and the jobs of
every row (jobs.parquet, with a `policy` column) are written atomically into the output directory, which
is never overwritten without --force. Rows run side by side on local worker processes (--workers, default
one per core); the results do not depend on how many.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXAMPLE = ("python -m sim compare scenarios/policies_day.toml --policy fifo --policy easy_backfill "
           "--policy easy_backfill+carbon_forecast")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", type=Path, help="scenario TOML file")
    parser.add_argument("--policy", dest="policies", action="append", default=[], metavar="NAME[+NAME...]",
                        help="a row: policy names (one per kind) or a [compare.variants] label; repeat for more rows "
                             "(default: the scenario's [compare] policies)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a scenario key for every row (repeatable)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output directory (default: outputs/<scenario file stem>-compare/)")
    parser.add_argument("--force", action="store_true", help="replace an existing output directory")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="rows run at once on local processes (default: one per core; 1 runs in this process)")


def row_overrides(scenario, label: str) -> list[str]:
    """The overrides that make row `label`: a [compare.variants] entry, or policy names joined by '+'."""
    from sim.errors import ScenarioError
    from sim.policies.registry import policy_overrides

    variants = scenario.compare.variants if scenario.compare is not None else {}
    try:
        if label in variants:
            variant = variants[label]
            return policy_overrides(variant.policies) + list(variant.set)
        return policy_overrides(label)
    except ValueError as exc:
        known = f" (or a [compare.variants] label: {', '.join(variants)})" if variants else ""
        raise ScenarioError(f"--policy {label}: {exc}{known}") from None


def _time_to_finish_s(scenario) -> float:
    """How long the scenario runs until its work is done [s] (a worker's task: module level, so it pickles)."""
    from sim.engine.simulation import Simulation

    return Simulation(scenario).run().summary["simulated_s"]


def _run_row(task):
    """(metrics row, jobs table with a policy column) of one row over the common horizon (a worker's task)."""
    import pyarrow as pa

    from sim.engine.simulation import Simulation
    from sim.output.comparison import inference_metrics, row_from_summary

    label, scenario = task
    result = Simulation(scenario, full_duration=True).run()
    table = result.jobs.replace_schema_metadata(None)
    return (row_from_summary(label, result.summary, inference_metrics(result)),
            table.add_column(0, "policy", pa.array([label] * table.num_rows, type=pa.string())))


def _map_in_order(executor, fn, tasks: list) -> list:
    """fn over tasks on the executor, results in the order of the tasks; the first error stops the comparison."""
    results = [None] * len(tasks)
    for index, result, error in executor.map_unordered(fn, tasks):
        if error is not None:
            raise error
        results[index] = result
    return results


def compare_runs(path: Path, labels: list[str], overrides: list[str], workers: int | None = 1):
    """Run every row in memory over one common horizon; returns (rows of metrics, jobs tables with a policy
    column, horizon [s]). Rows run on `workers` local processes (None: one per core; 1: in this process).

    The horizon is the scenario's duration when it has one; otherwise each row is run until its work is
    done, and then every row is run again for the longest of those times, so that each total (energy,
    carbon, water, cost) covers the same stretch of time, idle hours included.
    """
    from sim.config import load_scenario
    from sim.experiments.executors import available_cores, make_executor

    base = load_scenario(path, overrides)
    row_sets = {label: [*overrides, *row_overrides(base, label)] for label in labels}
    horizon_s = base.scenario.duration
    with make_executor(min(workers or available_cores(), len(labels))) as executor:
        if horizon_s is None:
            horizon_s = max(_map_in_order(executor, _time_to_finish_s,
                                          [load_scenario(path, sets) for sets in row_sets.values()]))
        tasks = [(label, load_scenario(path, [*sets, f"scenario.duration={horizon_s!r}"]))
                 for label, sets in row_sets.items()]
        results = _map_in_order(executor, _run_row, tasks)
    return [row for row, _ in results], [jobs for _, jobs in results], horizon_s


def run(args: argparse.Namespace) -> int:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from sim.config import load_scenario
    from sim.engine.simulation import parquet_metadata
    from sim.errors import ScenarioError
    from sim.output.comparison import comparison_table, format_table
    from sim.output.rundir import RunDirectory
    from sim.runner import DEFAULT_OUTPUT_ROOT

    base = load_scenario(args.scenario, args.overrides)
    labels = list(args.policies) or (list(base.compare.policies) if base.compare is not None else [])
    if not labels:
        raise ScenarioError(f"{args.scenario}: nothing to compare: give --policy NAME (twice or more) or a "
                            "[compare] table with policies = [...]")
    if len(set(labels)) != len(labels):
        raise ScenarioError(f"--policy: a row is named twice: {', '.join(labels)}")
    out_dir = args.out if args.out is not None else DEFAULT_OUTPUT_ROOT / f"{args.scenario.stem}-compare"
    rundir = RunDirectory(out_dir, force=args.force)
    rundir.check()
    if args.workers is not None and args.workers < 1:
        raise ScenarioError(f"--workers {args.workers}: expected at least 1")
    rows, jobs, horizon_s = compare_runs(args.scenario, labels, args.overrides, args.workers)
    metadata = parquet_metadata(base)
    table = comparison_table(rows, metadata)
    with rundir as tmp:
        pq.write_table(table, tmp / "compare.parquet", compression="zstd")
        pacsv.write_csv(table.replace_schema_metadata(None), tmp / "compare.csv")
        pq.write_table(pa.concat_tables(jobs).replace_schema_metadata(metadata),
                       tmp / "jobs.parquet", compression="zstd")
    name = base.scenario.name or args.scenario.stem
    print(f"sim compare: {name} (seed {base.scenario.seed}), {len(rows)} policies over the same "
          f"{horizon_s / 3600:,.2f} h, baseline {labels[0]}")
    print(format_table(rows))
    print(f"  wrote {out_dir}/ (compare.parquet, compare.csv, jobs.parquet)", file=sys.stdout)
    return 0
