"""Running a sweep: points.parquet equals the points run one by one; a failing point is recorded and the
others go on; a second run resumes; Dask gives the same results as the local process pool; the run
directories read back as one Hive-partitioned dataset."""

from __future__ import annotations

import glob
import json
import math

import pandas as pd
import pyarrow.dataset as ds
import pytest

from sim.config import load_scenario
from sim.engine.simulation import Simulation
from sim.errors import SimInputError
from sim.experiments.executors import DaskExecutor, ProcessExecutor, SerialExecutor
from sim.experiments.results import flatten_summary, read_runs
from sim.experiments.runner import run_sweep
from sim.experiments.spec import load_sweep
from helpers import run_cli
from sweep_fixtures import point_dirs, read_points, same_value, write_sweep

# 2 x 2 x 2 seeds = 8 points; one zip; the summary metrics differ between every point.
SWEEP = """
[sweep]
name = "small"
seeds = 2
[axes]
"cluster.node" = ["dgx-a100", "dgx-h100"]
[[zip]]
"facility.pue" = [1.1, 1.5]
"grid.carbon_intensity_g_per_kwh" = [20, 400]
"""
# Not deterministic from run to run: the wall time of the simulation itself.
UNSTABLE = {"wall_s"}


@pytest.fixture(scope="module")
def pooled(tmp_path_factory):
    """The sweep, run once on a pool of 2 worker processes."""
    folder = tmp_path_factory.mktemp("pooled")
    path = write_sweep(folder, SWEEP)
    spec = load_sweep(path)
    with ProcessExecutor(2) as executor:
        report = run_sweep(spec, folder / "out", executor, progress=False)
    return spec, folder / "out", report


def test_points_table_has_one_row_per_point_with_typed_axis_columns(pooled):
    spec, out, report = pooled
    points = read_points(out)
    assert (report.points, report.ran, report.skipped, report.failed) == (8, 8, 0, 0)
    assert list(points.columns[:6]) == ["point", "cluster.node", "facility.pue", "grid.carbon_intensity_g_per_kwh",
                                       "seed", "status"]
    assert list(points["point"]) == [p.path for p in spec.points()]
    assert points["facility.pue"].dtype == "float64"
    assert points["grid.carbon_intensity_g_per_kwh"].dtype == "int64"
    assert points["seed"].tolist() == [3, 4] * 4
    assert (points["status"] == "ok").all() and points["error"].isna().all()


def test_points_table_equals_the_summaries_of_the_same_points_run_one_by_one(pooled):
    """Each point rerun alone through the ordinary loader (--set overrides) gives the row's metrics exactly."""
    spec, out, _ = pooled
    points = read_points(out)
    for row in points.to_dict("records"):
        overrides = [f"cluster.node='{row['cluster.node']}'", f"facility.pue={row['facility.pue']!r}",
                     f"grid.carbon_intensity_g_per_kwh={row['grid.carbon_intensity_g_per_kwh']}",
                     f"scenario.seed={row['seed']}"]
        alone = flatten_summary(Simulation(load_scenario(spec.base_path, overrides)).run().summary)
        # summary.json, which the table is rebuilt from, stores a non-finite number as null (sim.output.rundir).
        alone = {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in alone.items()}
        assert set(alone) <= set(row), set(alone) - set(row)
        for name, value in alone.items():
            if name not in UNSTABLE:
                assert same_value(row[name], value), (row["point"], name, row[name], value)


def test_each_point_directory_holds_a_complete_run_and_its_record(pooled):
    spec, out, _ = pooled
    for point in spec.points():
        folder = out / "sweep=small" / point.path
        assert {p.name for p in folder.iterdir()} == {"summary.json", "timeseries.parquet", "jobs.parquet",
                                                      "scenario.json", "point.json"}
        record = json.loads((folder / "point.json").read_text())
        assert record["status"] == "ok" and record["seed"] == point.seed
        assert record["values"] == {k: v for k, v in point.settings}
        assert json.loads((folder / "scenario.json").read_text())["scenario"]["seed"] == point.seed


def test_the_run_directories_read_as_one_hive_partitioned_dataset(pooled):
    _, out, _ = pooled
    files = sorted(glob.glob(str(out / "sweep=*" / "**" / "timeseries.parquet"), recursive=True))
    table = ds.dataset(files, format="parquet", partitioning="hive", partition_base_dir=str(out)).to_table()
    for column in ("sweep", "cluster.node", "facility.pue", "grid.carbon_intensity_g_per_kwh", "seed"):
        assert column in table.column_names
    frame = table.to_pandas()
    points = read_points(out)
    total = frame.groupby(["cluster.node", "grid.carbon_intensity_g_per_kwh", "seed"])["carbon_kg"].sum()
    for row in points.to_dict("records"):
        key = (row["cluster.node"], row["grid.carbon_intensity_g_per_kwh"], row["seed"])
        assert total[key] == pytest.approx(row["carbon_kg"], rel=1e-9)
    runs = read_runs(out, "jobs.parquet")  # the helper: typed axis values from points.parquet
    assert len(runs) == 8 and runs["facility.pue"].dtype == "float64"


def test_the_same_sweep_on_a_dask_local_cluster_gives_identical_results(pooled, tmp_path):
    spec, pool_out, _ = pooled
    with DaskExecutor(local_workers=2, processes=False) as executor:
        report = run_sweep(spec, tmp_path / "dask", executor, progress=False)
    assert report.ran == 8 and report.failed == 0
    on_pool, on_dask = read_points(pool_out), read_points(tmp_path / "dask")
    stable = [c for c in on_pool.columns if c not in UNSTABLE]
    pd.testing.assert_frame_equal(on_pool[stable], on_dask[stable])
    for point in spec.points():  # and byte-identical run files
        for name in ("timeseries.parquet", "jobs.parquet", "scenario.json"):
            a = (pool_out / "sweep=small" / point.path / name).read_bytes()
            b = (tmp_path / "dask" / "sweep=small" / point.path / name).read_bytes()
            assert a == b, (point.path, name)


def test_the_command_runs_the_sweep_on_a_local_dask_cluster_of_processes(pooled, tmp_path):
    spec, pool_out, _ = pooled
    result = run_cli("sweep", str(spec.path), "--out", str(tmp_path / "dask"), "--dask-local", "1")
    assert result.returncode == 0, result.stderr
    assert "on a local Dask cluster of 1 process" in result.stdout
    on_pool, on_dask = read_points(pool_out), read_points(tmp_path / "dask")
    stable = [c for c in on_pool.columns if c not in UNSTABLE]
    pd.testing.assert_frame_equal(on_pool[stable], on_dask[stable])


def test_a_second_run_skips_every_finished_point(pooled, tmp_path):
    spec, _, _ = pooled
    out = tmp_path / "out"
    run_sweep(spec, out, SerialExecutor(), progress=False)
    stamps = {p: (p / "point.json").stat().st_mtime_ns for p in point_dirs(out)}
    report = run_sweep(spec, out, SerialExecutor(), progress=False)
    assert (report.ran, report.skipped) == (0, 8)
    assert {p: (p / "point.json").stat().st_mtime_ns for p in point_dirs(out)} == stamps
    forced = run_sweep(spec, out, SerialExecutor(), force=True, progress=False)
    assert forced.ran == 8


def test_a_changed_base_is_not_mixed_with_old_results(pooled, tmp_path):
    spec, _, _ = pooled
    out = tmp_path / "out"
    run_sweep(spec, out, SerialExecutor(), progress=False)
    base = spec.base_path.read_text()
    changed = tmp_path / "base.toml"
    changed.write_text(base.replace("mfu = 0.4", "mfu = 0.5"))
    (tmp_path / "sweep.toml").write_text(spec.path.read_text())
    with pytest.raises(SimInputError, match="8 finished point.* different scenario"):
        run_sweep(load_sweep(tmp_path / "sweep.toml"), out, SerialExecutor(), progress=False)


def test_a_failing_point_is_recorded_and_the_others_complete(tmp_path):
    """A start outside the carbon file's span fails when the run is built (not when the point is validated)."""
    (tmp_path / "ci.csv").write_text("timestamp,value\n2023-06-01T00:00:00Z,300\n2023-06-03T00:00:00Z,200\n"
                                     "2023-06-05T00:00:00Z,250\n")
    write_sweep(tmp_path, "")
    base = (tmp_path / "base.toml").read_text().replace("carbon_intensity_g_per_kwh = 385",
                                                        'carbon_intensity_file = "ci.csv"')
    (tmp_path / "base.toml").write_text(base)
    path = write_sweep(tmp_path, """
[sweep]
name = "failing"
[axes]
"scenario.start" = [2023-06-01T00:00:00Z, 2024-01-01T00:00:00Z, 2023-06-02T00:00:00Z]
""")
    result = run_cli("sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "2")
    assert result.returncode == 1, result.stderr
    assert "3 points (3 ran, 0 already done, 1 failed)" in result.stdout
    points = read_points(tmp_path / "out")
    assert points["status"].tolist() == ["ok", "failed", "ok"]
    assert "ci.csv" in points["error"][1] and "2024-01-01" in points["error"][1]  # the engine's own message
    assert pd.api.types.is_datetime64_any_dtype(points["scenario.start"])
    assert points["carbon_kg"].notna().tolist() == [True, False, True]
    failed_dir = tmp_path / "out" / "sweep=failing" / points["point"][1]
    assert {p.name for p in failed_dir.iterdir()} == {"point.json", "error.txt"}
    # A rerun tries the failed point again and leaves the others alone.
    again = run_sweep(load_sweep(path), tmp_path / "out", SerialExecutor(), progress=False)
    assert (again.ran, again.skipped, again.failed) == (1, 2, 1)


def test_another_sweeps_directory_is_refused(pooled, tmp_path):
    spec, out, _ = pooled
    other = write_sweep(tmp_path, SWEEP.replace('name = "small"', 'name = "other"'))
    with pytest.raises(SimInputError, match="holds the results of sweep 'small'"):
        run_sweep(load_sweep(other), out, SerialExecutor(), progress=False)
