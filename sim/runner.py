"""Run a scenario end to end: load, simulate, write the run directory of the output contract."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim.config.schema import Scenario
from sim.engine.simulation import RunResult, Simulation, resolved_scenario_json
from sim.output.rundir import RunDirectory, write_json

DEFAULT_OUTPUT_ROOT = Path("outputs")


@dataclass
class WrittenRun:
    result: RunResult
    out_dir: Path
    files: tuple[str, ...]


def run_to_directory(scenario: Scenario, out_dir: Path, force: bool = False, progress=None) -> WrittenRun:
    """Simulate `scenario` and write summary.json, timeseries.parquet, jobs.parquet, scenario.json
    (and requests.parquet when it has inference services).

    `progress`: a `sim.progress.RunProgress` to advance as simulated time goes (None: no bar).
    """
    rundir = RunDirectory(out_dir, force=force)
    rundir.check()  # refuse before spending time on the simulation
    simulation = Simulation(scenario)
    if progress is not None:
        progress.attach(simulation)
    with rundir as tmp:
        result = simulation.run(timeseries_path=tmp / "timeseries.parquet", requests_path=tmp / "requests.parquet",
                                jobs_path=tmp / "jobs.parquet")
        (tmp / "scenario.json").write_text(resolved_scenario_json(scenario) + "\n", encoding="utf-8")
        write_json(tmp / "summary.json", result.summary)
    files = ("summary.json", "timeseries.parquet", "jobs.parquet", "scenario.json")
    if (out_dir / "requests.parquet").exists():
        files += ("requests.parquet",)
    return WrittenRun(result=result, out_dir=out_dir, files=files)
