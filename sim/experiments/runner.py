"""Run a sweep: resolve every point, skip the finished ones, run the rest on an executor, write each point
as it finishes, and rebuild points.parquet from disk at the end (also after Ctrl-C)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sim.config.schema import Scenario
from sim.errors import SimInputError
from sim.experiments.executors import Executor
from sim.experiments.progress import progress_bar
from sim.experiments.results import (
    POINTS_TABLE,
    SweepLayout,
    point_record,
    write_point,
    write_points_table,
)
from sim.experiments.spec import Point, SweepSpec, resolve_points, scenario_digest
from sim.experiments.worker import FAILED, OK, PointOutcome, PointTask, error_text, run_point

DEFAULT_SWEEP_ROOT = Path("outputs") / "sweeps"


@dataclass(frozen=True)
class PointRun:
    """A point to run: its identity, resolved scenario, and that scenario's digest."""

    point: Point
    scenario: Scenario
    digest: str


@dataclass(frozen=True)
class SweepReport:
    out_dir: Path
    points: int
    ran: int
    skipped: int
    failed: int
    wall_s: float
    executor: str
    table: Path


def run_points(spec: SweepSpec, layout: SweepLayout, runs: list[PointRun], executor: Executor,
               description: str, progress: bool = True, bar=None) -> dict[str, dict]:
    """Run `runs` on `executor`; write each point's directory as soon as its result arrives.

    Returns {point path: its record}. A point that fails (or whose worker dies) is recorded as failed and
    the others go on. On Ctrl-C the executor is stopped; points already written stay, none is half-written.
    `bar`: a progress bar to advance (one is made, and closed, otherwise).
    """
    tasks = [PointTask(run.point.path, run.scenario) for run in runs]
    records: dict[str, dict] = {}
    failed = 0
    own_bar = bar is None
    if own_bar:
        bar = progress_bar(len(tasks), description, enabled=progress)
    try:
        for index, outcome, executor_error in executor.map_unordered(run_point, tasks):
            run = runs[index]
            if executor_error is not None:
                outcome = PointOutcome(run.point.path, FAILED, error_text(executor_error), None, None, (), 0.0)
            record = point_record(spec, run.point, run.digest, outcome.status, outcome.error, outcome.wall_s,
                                  outcome.cpu_s)
            write_point(layout, record, run.point, outcome.files, outcome.traceback)
            records[run.point.path] = record
            if outcome.status != OK:
                failed += 1
                bar.set_postfix_str(f"{failed} failed")
            bar.update(1)
    finally:
        if own_bar:
            bar.close()
    return records


def plan_runs(spec: SweepSpec, layout: SweepLayout, points: list[Point], scenarios: list[Scenario],
              force: bool) -> tuple[list[PointRun], int]:
    """The points to run now, and how many are already done. Refuses (SimInputError) if a finished point
    was run with another scenario (the base or the sweep changed) unless `force`."""
    todo: list[PointRun] = []
    done = 0
    stale: list[str] = []
    for point, scenario in zip(points, scenarios):
        digest = scenario_digest(scenario)
        state = layout.state(point, digest)
        if state == "done" and not force:
            done += 1
        elif state == "stale" and not force:
            stale.append(point.path)
        else:
            todo.append(PointRun(point, scenario, digest))
    if stale:
        raise SimInputError(
            f"{layout.tree}: {len(stale)} finished point(s) were run with a different scenario than the sweep now "
            f"gives (first: {stale[0]}); the base scenario or the sweep file changed. Use --force to run them "
            "again, or --out DIR to keep both"
        )
    return todo, done


def run_sweep(spec: SweepSpec, out_dir: Path, executor: Executor, force: bool = False,
              progress: bool = True) -> SweepReport:
    """Run every point of `spec` not yet done under `out_dir`; write points.parquet. Resumable."""
    started = time.perf_counter()
    points = spec.points()
    scenarios = resolve_points(spec, points)  # every point validated before anything runs
    layout = SweepLayout(out_dir, spec.name)
    with layout.lock():
        layout.claim(spec)
        layout.clean_temporaries()
        todo, done = plan_runs(spec, layout, points, scenarios, force)
        records: dict[str, dict] = {}
        try:
            if todo:
                records = run_points(spec, layout, todo, executor, f"sweep {spec.name}", progress)
        finally:
            table = write_points_table(spec, layout, points, POINTS_TABLE)
    failed = sum(1 for r in records.values() if r["status"] != OK)
    return SweepReport(out_dir=Path(out_dir), points=len(points), ran=len(records), skipped=done, failed=failed,
                       wall_s=time.perf_counter() - started, executor=executor.describe(), table=table)
