"""The Python API: load, override, run in memory, get DataFrames; files only when asked."""

from __future__ import annotations

import os

import pandas as pd
import pytest

import sim
from helpers import SCENARIOS, read_run, run_cli
from sim.errors import ScenarioError, SimInputError

QUICKSTART = SCENARIOS / "quickstart.toml"


@pytest.fixture(scope="module")
def in_memory():
    return sim.run(QUICKSTART)


def test_run_in_memory_returns_summary_and_dataframes(in_memory):
    run = in_memory
    assert isinstance(run.summary, dict) and run.summary["scenario"] == "quickstart"
    assert isinstance(run.timeseries, pd.DataFrame) and isinstance(run.jobs, pd.DataFrame)
    assert run.requests is None  # a training-only run serves no requests
    assert list(run.jobs["job"]) == ["llama-1b", "finetune-7b"]
    assert run.timeseries["facility_kwh"].sum() == pytest.approx(run.summary["facility_energy_kwh"], rel=1e-12)
    assert str(run.timeseries["timestamp"].dtype) == "datetime64[us, UTC]"
    assert run.scenario["cluster"]["nodes"] == 4  # the resolved scenario, as scenario.json holds it
    assert run.path is None


def test_running_in_memory_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sim.run(QUICKSTART)
    assert list(tmp_path.iterdir()) == []


def test_in_memory_results_equal_the_command_line_run(in_memory, tmp_path):
    out = tmp_path / "qs"
    assert run_cli(str(QUICKSTART), "--out", str(out)).returncode == 0
    summary, ts, jobs = read_run(out)
    pd.testing.assert_frame_equal(in_memory.timeseries, ts)
    pd.testing.assert_frame_equal(in_memory.jobs, jobs)
    for key in ("facility_energy_kwh", "carbon_kg", "gpu_hours", "end", "events"):
        assert in_memory.summary[key] == summary[key]


def test_overrides_as_a_mapping_or_as_command_line_strings_agree():
    as_mapping = sim.run(QUICKSTART, {"cluster.node": "dgx-a100", "grid.carbon_intensity_g_per_kwh": 20})
    as_strings = sim.run(QUICKSTART, ["cluster.node=dgx-a100", "grid.carbon_intensity_g_per_kwh=20"])
    assert as_mapping.summary == {**as_strings.summary, "wall_s": as_mapping.summary["wall_s"]}
    assert as_mapping.scenario["cluster"]["node"] == "dgx-a100"
    assert as_mapping.timeseries["carbon_intensity_g_per_kwh"].to_numpy() == pytest.approx(20.0, rel=1e-12)


def test_array_indices_in_override_keys():
    run = sim.run(QUICKSTART, {"jobs.1.gpus": 8})
    assert list(run.jobs["gpus"]) == [24, 8]


def test_load_then_override_a_loaded_scenario():
    scenario = sim.load(QUICKSTART)
    bigger = sim.load(scenario, {"cluster.nodes": 8})
    assert (scenario.cluster.nodes, bigger.cluster.nodes) == (4, 8)
    assert bigger.scenario.name == "quickstart"
    assert sim.run(bigger).summary["gpus"] == 64


def test_a_bad_override_is_reported_with_its_key_and_expectation():
    with pytest.raises(ScenarioError) as caught:
        sim.run(QUICKSTART, {"cluster.node": "dgx-z9"})
    (message,) = caught.value.messages
    assert message.startswith(f"{QUICKSTART}: cluster.node = 'dgx-z9': unknown node 'dgx-z9'; expected one of:")
    with pytest.raises(ScenarioError, match="jobs.7.gpus=1.*does not exist|index 7 does not exist"):
        sim.run(QUICKSTART, {"jobs.7.gpus": 1})


def test_out_writes_the_run_directory_and_returns_it(tmp_path):
    out = tmp_path / "qs"
    run = sim.run(QUICKSTART, out=out)
    assert run.path == out
    assert {p.name for p in out.iterdir()} >= {"summary.json", "timeseries.parquet", "jobs.parquet", "scenario.json"}
    assert len(run.timeseries) == run.summary["intervals"]
    with pytest.raises(SimInputError, match="already exists"):
        sim.run(QUICKSTART, out=out)
    sim.run(QUICKSTART, out=out, force=True)


def test_open_run_reads_a_run_directory_back(tmp_path):
    out = tmp_path / "qs"
    written = sim.run(QUICKSTART, out=out)
    opened = sim.open_run(out)
    assert opened.summary["carbon_kg"] == written.summary["carbon_kg"]
    assert set(opened.tables) == {"timeseries", "jobs"}
    pd.testing.assert_frame_equal(opened.jobs, written.jobs)


def test_open_run_refuses_what_is_not_a_run(tmp_path):
    with pytest.raises(SimInputError, match="no such run directory"):
        sim.open_run(tmp_path / "missing")
    with pytest.raises(SimInputError, match="not a run directory"):
        sim.open_run(tmp_path)
    (tmp_path / "summary.json").write_text("{not json")
    with pytest.raises(SimInputError, match=r"summary.json:1: not valid JSON"):
        sim.open_run(tmp_path)


def test_figures_plot_and_report_from_the_api(in_memory, tmp_path):
    figures = in_memory.figures()
    assert {"facility_power", "pue_weather", "carbon", "jobs"} <= set(figures)
    with pytest.raises(ValueError, match="in memory only"):
        in_memory.plot()
    paths = in_memory.plot(tmp_path / "figs")
    assert all(p.is_file() for p in paths)
    assert in_memory.report(tmp_path / "r.html").is_file()


def test_import_sim_stays_light():
    code = "import sys, sim; print(any(m.startswith(('pandas', 'matplotlib', 'simpy')) for m in sys.modules))"
    env = dict(os.environ, PYTHONPATH=str(SCENARIOS.parent))
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == "False"
