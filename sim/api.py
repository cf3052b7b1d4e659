"""The Python API, for notebooks and scripts: load a scenario, override keys, run it, look at the results.

    import sim
    run = sim.run("scenarios/quickstart.toml", {"cluster.node": "dgx-a100"})   # in memory, no files
    run.summary["carbon_kg"]                 # the summary, as a dict
    run.timeseries                           # pandas DataFrame, one row per output interval
    run.jobs                                 # one row per job (run.requests: per request, when served)
    sim.run("scenarios/gpt3.toml", out="outputs/gpt3-api")   # also writes the run directory
    sim.open_run("outputs/gpt3-api").figures()                # matplotlib figures of a run on disk

Nothing is written unless `out=` is given (or `Run.plot` / `Run.report` is called). Overrides are a
mapping of dotted keys to Python values (`{"jobs.0.gpus": 512}`), or the command line's
`"key=value"` strings; they are validated exactly like `--set`, with the same one-line errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Union

if TYPE_CHECKING:  # heavy imports stay out of `import sim`
    import pandas as pd

    from sim.config.schema import Scenario

Overrides = Union[Mapping[str, Any], Iterable[str], None]

# Files of a run directory that hold tables, by the name under which `Run.tables` keeps them.
TABLE_SUFFIXES = (".parquet", ".csv")


@dataclass
class Run:
    """The results of one run, or the tables of a sweep or comparison directory.

    summary: summary.json as a dict (None for a directory without one, e.g. a sweep).
    scenario: the resolved scenario as a JSON-like dict (scenario.json).
    tables: every table by name: "timeseries", "jobs", and "requests", "points", ... when present.
    path: the run directory on disk, if there is one.
    """

    summary: dict | None
    scenario: dict | None
    tables: dict[str, "pd.DataFrame"] = field(default_factory=dict)
    path: Path | None = None

    @property
    def timeseries(self) -> "pd.DataFrame | None":
        """One row per output interval (columns: docs/output-reference.md)."""
        return self.tables.get("timeseries")

    @property
    def jobs(self) -> "pd.DataFrame | None":
        """One row per job."""
        return self.tables.get("jobs")

    @property
    def requests(self) -> "pd.DataFrame | None":
        """One row per inference request, when the run served any; otherwise None."""
        return self.tables.get("requests")

    def figures(self) -> dict[str, Any]:
        """Every figure that this run's data allows, as matplotlib Figures by name (nothing written)."""
        from sim.report.figures import make_figures

        made, _ = make_figures(self)
        return {m.name: m.figure for m in made}

    def plot(self, out_dir: str | Path | None = None) -> list[Path]:
        """Write the figures as PNG files into `out_dir` (default: <run dir>/figures); returns their paths."""
        from sim.report.figures import make_figures, write_figures

        out = Path(out_dir) if out_dir is not None else _default_under(self, "figures")
        made, _ = make_figures(self)
        return write_figures(made, out)

    def report(self, path: str | Path | None = None) -> Path:
        """Write the self-contained HTML report (default: <run dir>/report.html); returns its path."""
        from sim.report.html import write_report

        target = Path(path) if path is not None else _default_under(self, "report.html")
        return write_report(self, target)


def _default_under(run: Run, name: str) -> Path:
    if run.path is None:
        raise ValueError(f"this run is in memory only; give a path for its {name}")
    return run.path / name


# ------------------------------------------------------------------------------------------- load
def _override_items(overrides: Overrides) -> list[tuple[list[str | int], Any, str]]:
    """(key path, value, text for messages) for each override, in order."""
    from sim.config.loader import parse_override
    from sim.errors import ScenarioError

    if overrides is None:
        return []
    items = []
    if isinstance(overrides, Mapping):
        for key, value in overrides.items():
            if not isinstance(key, str) or not key or any(part == "" for part in key.split(".")):
                raise ScenarioError(f"override {key!r}: expected a dotted key such as 'cluster.nodes'")
            path = [int(p) if p.isdigit() else p for p in key.split(".")]
            items.append((path, value, f"{key}={value!r}"))
        return items
    if isinstance(overrides, str):
        overrides = [overrides]
    for text in overrides:
        path, value = parse_override(text)
        items.append((path, value, text))
    return items


def load(scenario: "str | Path | Scenario", overrides: Overrides = None) -> "Scenario":
    """A validated scenario from a TOML file (or an already loaded Scenario), with `overrides` applied.

    Raises sim.errors.ScenarioError, whose `messages` name each bad key, its value and what was expected.
    """
    from sim.config.loader import apply_override, read_toml, validate_scenario
    from sim.config.schema import Scenario

    if isinstance(scenario, Scenario):
        if not overrides:
            return scenario
        # What the user set, as the TOML had it, so that overrides behave as `--set` does on the file.
        data = scenario.model_dump(exclude_unset=True)
        where, base_dir, name = f"scenario {scenario.scenario.name!r}", None, scenario.scenario.name
    else:
        path = Path(scenario)
        data = read_toml(path)
        where, base_dir, name = str(path), path.parent, path.stem
    for key_path, value, text in _override_items(overrides):
        apply_override(data, key_path, value, text)
    return validate_scenario(data, where, base_dir, name=name)


def run(
    scenario: "str | Path | Scenario",
    overrides: Overrides = None,
    *,
    out: str | Path | None = None,
    force: bool = False,
    progress: bool = False,
) -> Run:
    """Simulate a scenario (a TOML path or a loaded Scenario) and return its results.

    out: also write the run directory there (as `python -m sim SCENARIO --out DIR` does); by default
    nothing is written. force: replace an existing run directory. progress: show the progress bar on
    a terminal's stderr (off by default: notebooks have their own output).
    """
    from sim.engine.simulation import Simulation, resolved_scenario_json
    from sim.progress import run_progress

    loaded = load(scenario, overrides)
    resolved = json.loads(resolved_scenario_json(loaded))
    with run_progress(loaded, quiet=not progress) as bar:
        if out is not None:
            from sim.runner import run_to_directory

            written = run_to_directory(loaded, Path(out), force=force, progress=bar)
            on_disk = open_run(written.out_dir)
            on_disk.summary = written.result.summary
            return on_disk
        simulation = Simulation(loaded)
        bar.attach(simulation)
        result = simulation.run()
    return Run(summary=result.summary, scenario=resolved, tables=_result_tables(result))


def _result_tables(result) -> dict[str, "pd.DataFrame"]:
    """Every Arrow table a RunResult holds (timeseries, jobs, and requests... as capabilities add them)."""
    import pyarrow as pa

    tables = {}
    for name, value in vars(result).items():
        if isinstance(value, pa.Table):
            tables[name] = value.to_pandas()
    return tables


def open_run(path: str | Path) -> Run:
    """A run (or sweep, or comparison) directory on disk: summary, scenario and every table in it."""
    import pandas as pd

    from sim.errors import SimInputError

    directory = Path(path)
    if not directory.is_dir():
        raise SimInputError(f"{directory}: no such run directory")
    summary = _read_json(directory / "summary.json")
    scenario = _read_json(directory / "scenario.json")
    tables: dict[str, pd.DataFrame] = {}
    for file in sorted(directory.iterdir()):
        if not file.is_file() or file.suffix not in TABLE_SUFFIXES or file.name.startswith("."):
            continue
        if file.stem in tables:  # a Parquet file wins over a CSV of the same name
            continue
        try:
            tables[file.stem] = pd.read_parquet(file) if file.suffix == ".parquet" else pd.read_csv(file)
        except Exception as exc:  # noqa: BLE001 - any reader failure is the file's fault, said in one line
            raise SimInputError(f"{file}: cannot be read as a table ({type(exc).__name__}: {exc})") from None
    if summary is None and scenario is None and not tables:
        raise SimInputError(
            f"{directory}: not a run directory (no summary.json, scenario.json, *.parquet or *.csv in it)"
        )
    return Run(summary=summary, scenario=scenario, tables=tables, path=directory)


def _read_json(path: Path) -> dict | None:
    from sim.errors import DataFileError

    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataFileError(path, f"not valid JSON ({exc.msg})", exc.lineno) from None
