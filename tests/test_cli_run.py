"""End to end: `python -m sim SCENARIO` writes the run directory of the output contract, and keeps its invariants."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from helpers import SCENARIOS, read_run, run_cli

QUICKSTART = str(SCENARIOS / "quickstart.toml")
REL = 1e-9


@pytest.fixture(scope="module")
def quickstart_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "qs"
    result = run_cli(QUICKSTART, "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out, result


def test_prints_a_readable_summary(quickstart_run):
    out, result = quickstart_run
    for fragment in ("simulated", "GPU-hours", "IT energy", "facility", "PUE", "carbon", "CO2e", str(out)):
        assert fragment in result.stdout


def test_writes_the_contract_files(quickstart_run):
    out, _ = quickstart_run
    assert {p.name for p in out.iterdir()} == {"summary.json", "timeseries.parquet", "jobs.parquet", "scenario.json"}
    summary, ts, jobs = read_run(out)
    for key in ("scenario", "seed", "sim_version", "start", "end", "simulated_s", "it_energy_kwh", "cooling_energy_kwh",
                "power_loss_energy_kwh", "facility_energy_kwh", "pue", "carbon_kg", "gpu_hours", "wall_s", "events"):
        assert key in summary
    for column in ("timestamp", "interval_s", "gpu_kwh", "host_kwh", "network_kwh", "storage_kwh", "it_kwh",
                   "cooling_kwh", "power_loss_kwh", "facility_kwh", "pue", "ambient_c",
                   "carbon_intensity_g_per_kwh", "carbon_kg"):
        assert column in ts.columns
    assert list(jobs.job) == ["llama-1b", "finetune-7b"]
    assert (jobs.status == "completed").all()


def test_per_row_energy_identities(quickstart_run):
    _, ts, _ = read_run(quickstart_run[0])
    np.testing.assert_allclose(ts.it_kwh, ts.gpu_kwh + ts.host_kwh + ts.network_kwh + ts.storage_kwh, rtol=REL)
    np.testing.assert_allclose(ts.facility_kwh, ts.it_kwh + ts.cooling_kwh + ts.power_loss_kwh + ts.misc_kwh, rtol=REL)
    np.testing.assert_allclose(ts.carbon_kg, ts.facility_kwh * ts.carbon_intensity_g_per_kwh / 1000, rtol=REL)
    assert (ts.pue >= 1).all()


def test_column_sums_equal_the_summary(quickstart_run):
    summary, ts, jobs = read_run(quickstart_run[0])
    pairs = {"it_kwh": "it_energy_kwh", "facility_kwh": "facility_energy_kwh", "cooling_kwh": "cooling_energy_kwh",
             "power_loss_kwh": "power_loss_energy_kwh", "gpu_kwh": "gpu_energy_kwh", "host_kwh": "host_energy_kwh",
             "carbon_kg": "carbon_kg", "interval_s": "simulated_s"}
    for column, key in pairs.items():
        assert ts[column].sum() == pytest.approx(summary[key], rel=REL)
    assert summary["gpu_hours"] == pytest.approx(jobs.gpu_hours.sum(), rel=REL)


def test_job_energy_plus_idle_energy_is_the_facility_energy(quickstart_run):
    summary, _, jobs = read_run(quickstart_run[0])
    # jobs hold all but the idle pool's share; the idle pool is never negative
    assert jobs.facility_kwh.sum() <= summary["facility_energy_kwh"] * (1 + REL)
    assert (jobs.facility_kwh > jobs.it_kwh).all()


def test_parquet_files_carry_the_resolved_scenario(quickstart_run):
    out, _ = quickstart_run
    for name in ("timeseries.parquet", "jobs.parquet"):
        metadata = pq.read_schema(out / name).metadata
        scenario = json.loads(metadata[b"sim.scenario"])
        assert scenario["cluster"]["nodes"] == 4
        assert metadata[b"sim.seed"] == b"1"
        assert b"sim.version" in metadata


def test_same_scenario_and_seed_give_byte_identical_parquet(quickstart_run, tmp_path):
    out, _ = quickstart_run
    again = tmp_path / "again"
    assert run_cli(QUICKSTART, "--out", str(again)).returncode == 0
    for name in ("timeseries.parquet", "jobs.parquet", "scenario.json"):
        assert (out / name).read_bytes() == (again / name).read_bytes(), name


def test_existing_run_is_not_overwritten_without_force(tmp_path):
    out = tmp_path / "run"
    assert run_cli(QUICKSTART, "--out", str(out)).returncode == 0
    before = (out / "summary.json").read_bytes()
    refused = run_cli(QUICKSTART, "--out", str(out), "--set", "facility.pue=1.5")
    assert refused.returncode == 2
    assert "--force" in refused.stderr and "Traceback" not in refused.stderr
    assert (out / "summary.json").read_bytes() == before
    forced = run_cli(QUICKSTART, "--out", str(out), "--set", "facility.pue=1.5", "--force")
    assert forced.returncode == 0
    assert json.loads((out / "summary.json").read_text())["pue"] == pytest.approx(1.5)
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no temporary leftovers


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("cluster.colour=1", "cluster.colour: unknown key"),
        ("cluster.nodes='many'", "cluster.nodes = 'many'"),
        ("cluster.nodes=-3", "cluster.nodes = -3"),
        ("facility.pue=0.8", "facility.pue = 0.8"),
        ("grid.carbon_intensity_file='nowhere.csv'", "grid.carbon_intensity_file"),
    ],
)
def test_bad_input_gets_a_one_line_error_exit_2_and_writes_nothing(override, fragment, tmp_path):
    out = tmp_path / "run"
    result = run_cli(QUICKSTART, "--out", str(out), "--set", override)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_default_output_directory_is_outputs_slash_stem(tmp_path):
    scenario = tmp_path / "mine.toml"
    scenario.write_text((SCENARIOS / "quickstart.toml").read_text())
    result = run_cli(str(scenario), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "outputs" / "mine" / "summary.json").is_file()


def quickstart_with_grid_file(tmp_path, csv_path) -> str:
    """The quickstart scenario with its constant intensity replaced by a file."""
    text = (SCENARIOS / "quickstart.toml").read_text()
    text = text.replace("carbon_intensity_g_per_kwh = 385", f"carbon_intensity_file = '{csv_path}'")
    path = tmp_path / "quickstart_file.toml"
    path.write_text(text)
    return str(path)


def test_malformed_carbon_intensity_csv_names_file_and_line(tmp_path):
    csv = tmp_path / "ci.csv"
    csv.write_text("timestamp,value\n2023-06-01T00:00:00Z,300\n2023-06-01T01:00:00Z,lots\n2023-06-01T02:00:00Z,280\n")
    out = tmp_path / "run"
    result = run_cli(quickstart_with_grid_file(tmp_path, csv), "--out", str(out))
    assert result.returncode == 2
    assert "ci.csv:3" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ci.csv", "quickstart_file.toml"]


def test_hourly_carbon_file_wakes_the_run_at_its_steps(shared_data, tmp_path):
    out = tmp_path / "run"
    result = run_cli(quickstart_with_grid_file(tmp_path, shared_data / "US-CAL-CISO_2023_hourly.csv"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    summary, ts, _ = read_run(out)
    # hourly intensities are all different: the 15-min rows of each hour share one value, hours differ
    hourly = ts.set_index("timestamp").carbon_intensity_g_per_kwh.resample("1h").first()
    assert hourly.nunique() > 5
    np.testing.assert_allclose(ts.carbon_kg, ts.facility_kwh * ts.carbon_intensity_g_per_kwh / 1000, rtol=REL)
    assert ts.carbon_kg.sum() == pytest.approx(summary["carbon_kg"], rel=REL)
