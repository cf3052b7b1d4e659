"""Footprint accounting through the engine: grid signals from constants, regions and the real files; market-based
carbon; embodied carbon; water; cost. Each test states the closed form it checks."""

from __future__ import annotations

import functools
import json
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import run_cli
from sim.config.loader import validate_scenario
from sim.engine.simulation import Simulation
from sim.errors import DataFileError, ScenarioError
from sim.runner import run_to_directory
from sim.timeseries.grid import read_signal, regional_profile
from sim.timeseries.series import to_epoch_s
from sim.units import G_PER_KG, J_PER_KWH, MM2_PER_CM2, S_PER_DAY, S_PER_H, S_PER_YEAR

REL = 1e-9
UTC = timezone.utc

# DGX H100 idle draw [W]: host 2,200 + 8 x 75 (catalog); facility = that x PUE under fixed_pue.
DGX_H100_IDLE_W = 2200.0 + 8 * 75.0


def scenario(tmp_path: Path | None = None, **tables):
    """A validated scenario from tables; defaults: one DGX H100, PUE 1.25, start 2023-01-01, hourly output."""
    data = {
        "scenario": {"start": datetime(2023, 1, 1, tzinfo=UTC)},
        "cluster": {"node": "dgx-h100", "nodes": 1},
        "facility": {"pue": 1.25},
        "output": {"interval": "1h"},
    }
    for name, table in tables.items():
        if isinstance(table, dict) and isinstance(data.get(name), dict):
            data[name] = {**data[name], **table}
        else:
            data[name] = table
    return validate_scenario(data, "test.toml", tmp_path)


def run(**tables):
    result = Simulation(scenario(**tables)).run()
    return result.summary, result.timeseries.to_pandas(), result.jobs.to_pandas()


def job(name="train", gpus=8, hours=3.0, submit_at=0.0, **extra) -> dict:
    """A training job at constant power lasting `hours` on `gpus` H100s (MFU 0.4): tokens from the duration."""
    flop_per_s = gpus * 0.4 * 989e12
    parameters, batch_tokens = 1e9, 1e6
    iteration_s = 6 * parameters * batch_tokens / flop_per_s
    iterations = round(hours * S_PER_H / iteration_s)
    return {"name": name, "gpus": gpus, "parameters": parameters, "tokens": iterations * batch_tokens,
            "batch_tokens": batch_tokens, "mfu": 0.4, "submit_at": submit_at, **extra}


# ------------------------------------------------------------------------------------- real files
def test_15_min_series_integrates_exactly_against_a_constant_load(shared_data):
    # Two idle DGX H100 (constant power) over the whole DE 2020 15-min file, output every hour.
    path = shared_data / "DE_2020_15min_carbon_intensity.csv"
    series = read_signal(path)
    start_s, end_s = series.start_epoch_s, series.end_epoch_s
    summary, ts, _ = run(
        scenario={"start": datetime.fromtimestamp(start_s, UTC), "duration": end_s - start_s},
        cluster={"nodes": 2}, grid={"carbon_intensity_file": str(path)},
    )
    facility_w = 2 * DGX_H100_IDLE_W * 1.25
    instants, values = series.steps_within(start_s, end_s)
    step_s = np.diff(np.append(instants, end_s))
    assert set(step_s) == {900.0} and step_s.size == 37149
    expected_kg = math.fsum(facility_w * step_s * values) / J_PER_KWH / G_PER_KG
    assert summary["carbon_kg"] == pytest.approx(expected_kg, rel=1e-12)
    # = P x duration x the file's mean, and every hourly row holds its four quarter hours
    assert expected_kg == pytest.approx(facility_w * (end_s - start_s) / J_PER_KWH * series.mean() / G_PER_KG, rel=1e-12)
    whole_hours = values.size // 4 * 4  # the file ends at 23:15: its last row holds one quarter hour
    hourly = (facility_w * 900 / J_PER_KWH / G_PER_KG * values[:whole_hours]).reshape(-1, 4).sum(axis=1)
    np.testing.assert_allclose(ts.carbon_kg.to_numpy()[: hourly.size], hourly, rtol=1e-12)
    assert any("missing" in w and "DE_2020_15min" in w for w in summary["warnings"])


@functools.lru_cache(maxsize=None)
def _busy_year_with_file(path: str):
    """One DGX H100 with all 8 GPUs busy for all of 2023 (a job longer than the year; the run stops at 365 days)
    under a carbon file; run once per file for the module (the tests only look)."""
    return run(scenario={"duration": "365d"}, jobs=[job(hours=9000)], grid={"carbon_intensity_file": path})


def _busy_year(grid: dict):
    return _busy_year_with_file(grid["carbon_intensity_file"])


def test_same_gpu_hours_in_france_and_germany_2023(shared_data):
    fr, fr_ts, fr_jobs = _busy_year({"carbon_intensity_file": str(shared_data / "FR_2023_hourly.csv")})
    de, de_ts, de_jobs = _busy_year({"carbon_intensity_file": str(shared_data / "DE_2023_hourly.csv")})
    assert fr_jobs.gpu_hours.iloc[0] == de_jobs.gpu_hours.iloc[0] == pytest.approx(8 * 8760, rel=1e-12)
    assert fr["facility_energy_kwh"] == pytest.approx(de["facility_energy_kwh"], rel=1e-12)

    def load_weighted_mean(ts):
        return (ts.facility_kwh * ts.carbon_intensity_g_per_kwh).sum() / ts.facility_kwh.sum()

    ratio = fr["carbon_kg"] / de["carbon_kg"]
    assert ratio == pytest.approx(load_weighted_mean(fr_ts) / load_weighted_mean(de_ts), rel=REL)
    # the load is constant, so the load-weighted means are the files' means: 49.4 / 395.1 (shared README)
    files_ratio = read_signal(shared_data / "FR_2023_hourly.csv").mean() / read_signal(shared_data / "DE_2023_hourly.csv").mean()
    assert ratio == pytest.approx(files_ratio, rel=REL)
    assert round(ratio, 3) == round(49.4 / 395.1, 3)
    # and each run's intensity (carbon / energy) is its file's annual mean
    for run_summary, zone in ((fr, "FR"), (de, "DE")):
        mean = read_signal(shared_data / f"{zone}_2023_hourly.csv").mean()
        assert run_summary["carbon_kg"] / run_summary["facility_energy_kwh"] * G_PER_KG == pytest.approx(mean, rel=REL)


def _job_at(submit_hour_utc: float, grid: dict):
    summary, ts, jobs = run(scenario={"start": datetime(2023, 6, 15, tzinfo=UTC), "duration": "1d"},
                            jobs=[job(hours=3.0, submit_at=submit_hour_utc * S_PER_H)], grid=grid)
    return jobs.iloc[0]


@pytest.mark.parametrize("source", ["file", "region"])
def test_a_job_during_californias_midday_dip_emits_less_than_at_night(shared_data, source):
    grid = ({"carbon_intensity_file": str(shared_data / "US-CAL-CISO_2023_hourly.csv")} if source == "file"
            else {"region": "us-california"})
    midday = _job_at(19.0, grid)  # 19:00-22:00 UTC = 12:00-15:00 PDT, over the 20-21 UTC dip
    night = _job_at(7.0, grid)  # 07:00-10:00 UTC = midnight-03:00 PDT
    assert midday.facility_kwh == pytest.approx(night.facility_kwh, rel=1e-12)
    assert midday.carbon_kg < 0.8 * night.carbon_kg


def test_miso_gaps_are_reported_in_the_summary(shared_data, tmp_path):
    summary, _, _ = run(scenario={"start": datetime(2022, 6, 9, tzinfo=UTC), "duration": "1d"},
                        grid={"carbon_intensity_file": str(shared_data / "MISO_NG_avgCI_2022.csv")})
    gap = [w for w in summary["warnings"] if "missing value" in w]
    assert gap and "line 3838" in gap[0] and "linear interpolation" in gap[0]
    assert any("interval-ending labels" in w for w in summary["warnings"])


def test_run_outlasting_a_file_repeats_its_last_weeks_with_a_warning(shared_data):
    path = shared_data / "FR_2023_hourly.csv"
    summary, ts, _ = run(scenario={"start": datetime(2023, 12, 25, tzinfo=UTC), "duration": "14d"},
                         grid={"carbon_intensity_file": str(path)})
    assert any("are repeated" in w and "FR_2023_hourly.csv" in w for w in summary["warnings"])
    series = read_signal(path)
    ts = ts.set_index("timestamp")
    for day in (1, 5):  # 2024-01-0x holds the value of 52 weeks (364 days) earlier
        t = datetime(2024, 1, day, 13, tzinfo=UTC)
        earlier = to_epoch_s(t - timedelta(days=364))
        assert ts.carbon_intensity_g_per_kwh.loc[pd.Timestamp(t)] == pytest.approx(series.value_at(earlier), rel=1e-12)


def test_region_profile_drives_the_run_hour_by_hour():
    start = datetime(2023, 3, 1, tzinfo=UTC)
    summary, ts, _ = run(scenario={"start": start, "duration": "10d"}, grid={"region": "germany"})
    expected = regional_profile("germany", start, start + timedelta(days=10)).values
    np.testing.assert_allclose(ts.carbon_intensity_g_per_kwh, expected, rtol=1e-12)
    assert "built-in region 'germany'" in summary["grid_signals"]["carbon"]


# ----------------------------------------------------------------------------------------- market
def _contract_run(contract: dict, interval="1h", grid=None, **extra):
    # one DGX H100 idle for 1 h, then busy 20 h, then idle (a job load with steps inside hours)
    return run(scenario={"duration": "2d"}, jobs=[job(hours=20.0, submit_at=1800.0)], output={"interval": interval},
               grid={"carbon_intensity_file": None, "region": "germany", **(grid or {}), "contract": contract}, **extra)


def test_full_hourly_matching_gives_zero_market_carbon():
    # 15 kW clean supply is more than the node's facility peak at any instant (10.2 kW x 1.25 = 12.75 kW)
    summary, ts, jobs = _contract_run({"supply_mw": 0.015})
    assert summary["carbon_kg"] > 0
    assert summary["carbon_market_kg"] == 0.0
    assert (ts.carbon_market_kg == 0.0).all() and (jobs.carbon_market_kg == 0.0).all()
    assert summary["market_based"]["cfe_score_hourly"] == 1.0


SOLAR_DAY = [0.0] * 6 + [0.002, 0.006, 0.011, 0.015, 0.018, 0.02, 0.02, 0.018, 0.015, 0.011, 0.006, 0.002] + [0.0] * 6


def test_annual_contract_delivered_as_solar_credits_more_than_its_hourly_residual_allows():
    # The same solar-shaped delivery, matched hourly and annually. Hourly matching leaves the night unmatched:
    # its residual is above that of full hourly matching (zero); annual netting credits at least as much.
    hourly, ts_h, jobs_h = _contract_run({"supply_profile_mw": SOLAR_DAY})
    annual, ts_a, jobs_a = _contract_run({"matching": "annual", "supply_profile_mw": SOLAR_DAY})
    full, _, _ = _contract_run({"supply_mw": 0.015})
    mh, ma = hourly["market_based"], annual["market_based"]
    assert hourly["carbon_market_kg"] > full["carbon_market_kg"] == 0.0
    assert mh["matched_annual_kwh"] >= mh["matched_hourly_kwh"]
    assert ma["matched_annual_kwh"] == pytest.approx(mh["matched_annual_kwh"], rel=REL)
    assert 0 < mh["cfe_score_hourly"] < 1
    # the two bases computed from the same run agree with the figures of each run
    assert hourly["carbon_market_kg"] == pytest.approx(mh["carbon_hourly_kg"], rel=REL)
    assert annual["carbon_market_kg"] == pytest.approx(ma["carbon_annual_kg"], rel=REL)
    # annual: location-based x (1 - min(V, E) / E), row by row and job by job
    share = 1 - ma["matched_annual_kwh"] / ma["consumption_kwh"]
    assert annual["carbon_market_kg"] == pytest.approx(annual["carbon_kg"] * share, rel=REL)
    np.testing.assert_allclose(ts_a.carbon_market_kg, ts_a.carbon_kg * share, rtol=REL)
    np.testing.assert_allclose(jobs_a.carbon_market_kg, jobs_a.carbon_kg * share, rtol=REL)


def test_hourly_residual_by_hand_for_a_constant_load_and_supply():
    # Idle node all day: 3 kW x 1.25 = 3.75 kW facility; 1 kW of clean supply -> 2.75 / 3.75 of every hour unmatched
    summary, ts, _ = run(scenario={"duration": "1d"}, grid={"region": "germany", "contract": {"supply_mw": 0.001}})
    facility_w = DGX_H100_IDLE_W * 1.25
    np.testing.assert_allclose(ts.carbon_market_kg, ts.carbon_kg * (facility_w - 1000.0) / facility_w, rtol=1e-12)
    assert summary["market_based"]["matched_hourly_kwh"] == pytest.approx(24.0, rel=1e-12)


@pytest.mark.parametrize("interval", ["15min", "7min", "2h", "90min"])
def test_market_carbon_does_not_depend_on_the_output_interval(interval):
    # Matching is by UTC hour whatever the rows: shorter rows share their hour's unmatched share, longer rows
    # sum their hours; the summary is the column sum and the jobs + idle pool add up to it.
    base, base_ts, _ = _contract_run({"supply_profile_mw": SOLAR_DAY})
    other, ts, jobs = _contract_run({"supply_profile_mw": SOLAR_DAY}, interval=interval)
    assert other["carbon_market_kg"] == pytest.approx(base["carbon_market_kg"], rel=REL)
    assert other["carbon_kg"] == pytest.approx(base["carbon_kg"], rel=REL)
    assert ts.carbon_market_kg.sum() == pytest.approx(other["carbon_market_kg"], rel=REL)
    assert ts.interval_s.sum() == other["simulated_s"] and len(ts) == other["intervals"]
    assert jobs.carbon_market_kg.sum() + other["idle"]["carbon_market_kg"] == pytest.approx(other["carbon_market_kg"], rel=REL)
    np.testing.assert_allclose(ts.facility_kwh.sum(), base_ts.facility_kwh.sum(), rtol=REL)


def test_annual_volume_rescales_the_written_timeseries(tmp_path):
    data = scenario(scenario={"duration": "1d"}, grid={"carbon_intensity_g_per_kwh": 400,
                                                      "contract": {"matching": "annual", "annual_volume_mwh": 10.0}})
    written = run_to_directory(data, tmp_path / "run")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    ts = pd.read_parquet(tmp_path / "run" / "timeseries.parquet")
    volume_kwh = 10.0 * 1000 * S_PER_DAY / S_PER_YEAR  # 10 MWh a year, prorated to one day
    consumption_kwh = DGX_H100_IDLE_W * 1.25 * S_PER_DAY / J_PER_KWH
    share = 1 - volume_kwh / consumption_kwh
    assert summary["carbon_market_kg"] == pytest.approx(summary["carbon_kg"] * share, rel=REL)
    np.testing.assert_allclose(ts.carbon_market_kg, ts.carbon_kg * share, rtol=REL)
    assert written.result.summary["carbon_market_kg"] == summary["carbon_market_kg"]


# --------------------------------------------------------------------------------------- embodied
def test_embodied_carbon_matches_a_hand_calculation():
    # LLMCarbon by hand for a DGX H100: GPU 814 mm^2 x 1.8 kg/cm^2 + 80 GB x 0.4 = 14.652 + 32 = 46.652 kg;
    # host 2 x 1.47 (CPU) + 2,000 GB x 0.4 (DRAM) + 34,560 GB x 0.024 (SSD) = 2.94 + 800 + 829.44 = 1,632.38 kg;
    # network 100 kg per node and 50 TB of storage x 0.024 kg/GB = 1,200 kg shared by 4 nodes.
    gpu_kg = 814 / MM2_PER_CM2 * 1.8 + 80 * 0.4
    host_kg = 2 * 1.47 + 2000 * 0.4 + 34_560 * 0.024
    node_kg = 8 * gpu_kg + host_kg + 100.0 + 50_000 * 0.024 / 4
    assert gpu_kg == pytest.approx(46.652) and host_kg == pytest.approx(1632.38)
    summary, ts, jobs = run(cluster={"nodes": 4}, jobs=[job(gpus=16, hours=5.0)],
                            embodied={"network_kg_per_node": 100.0, "storage_tb": 50.0})
    lifetime_s = 5 * 365 * S_PER_DAY
    assert summary["embodied"]["per_node_kg"] == pytest.approx(node_kg, rel=1e-12)
    # per interval: all 4 installed nodes, busy or idle; per job: its 2 nodes for as long as it held them
    np.testing.assert_allclose(ts.embodied_carbon_kg, 4 * node_kg * ts.interval_s / lifetime_s, rtol=1e-12)
    held_s = jobs.duration_s.iloc[0]
    assert jobs.embodied_carbon_kg.iloc[0] == pytest.approx(2 * node_kg * held_s / lifetime_s, rel=1e-12)
    assert jobs.embodied_carbon_kg.iloc[0] + summary["idle"]["embodied_carbon_kg"] == pytest.approx(summary["embodied_carbon_kg"], rel=REL)
    # a 4-year life charges 5/4 as much
    shorter, _, _ = run(cluster={"nodes": 4}, jobs=[job(gpus=16, hours=5.0)],
                        embodied={"network_kg_per_node": 100.0, "storage_tb": 50.0, "lifetime_years": 4})
    assert shorter["embodied_carbon_kg"] == pytest.approx(summary["embodied_carbon_kg"] * 5 / 4, rel=1e-12)


def test_hardware_without_figures_is_warned_and_overridable():
    summary, _, _ = run(cluster={"node": "mi300x-8x"}, scenario={"duration": "1h"})
    assert summary["embodied_carbon_kg"] == 0.0
    assert any("embodied.gpu_kg" in w for w in summary["warnings"])
    assert any("embodied.host_kg_per_node" in w for w in summary["warnings"])
    given, _, _ = run(cluster={"node": "mi300x-8x"}, scenario={"duration": "1h"},
                      embodied={"gpu_kg": 100.0, "host_kg_per_node": 500.0})
    assert given["embodied_carbon_kg"] == pytest.approx(1300.0 * S_PER_H / (5 * S_PER_YEAR), rel=1e-12)


# ----------------------------------------------------------------------------------- water and cost
def test_water_cost_and_marginal_columns_follow_their_signals():
    summary, ts, jobs = run(scenario={"duration": "6h"}, jobs=[job(hours=2.0, submit_at=3600.0)],
                            facility={"wue_l_per_kwh": 0.4},
                            grid={"carbon_intensity_g_per_kwh": 300, "marginal_carbon_intensity_g_per_kwh": 650,
                                  "electricity_price_usd_per_mwh": 120.0, "water_intensity_l_per_kwh": 2.0},
                            cost={"hardware_usd_per_gpu_hour": 2.5})
    np.testing.assert_allclose(ts.carbon_marginal_kg, ts.facility_kwh * 650 / 1000, rtol=1e-12)
    np.testing.assert_allclose(ts.energy_cost_usd, ts.facility_kwh * 120.0 / 1000, rtol=1e-12)
    np.testing.assert_allclose(ts.water_offsite_l, ts.facility_kwh * 2.0, rtol=1e-12)
    np.testing.assert_allclose(ts.water_l, ts.it_kwh * 0.4, rtol=1e-12)  # on site: WUE x IT energy
    np.testing.assert_allclose(ts.water_total_l, ts.water_l + ts.water_offsite_l, rtol=1e-12)
    np.testing.assert_allclose(ts.hardware_cost_usd, 8 * 2.5 * ts.interval_s / S_PER_H, rtol=1e-12)
    for column in ("carbon_marginal_kg", "energy_cost_usd", "water_l", "water_offsite_l", "water_total_l", "hardware_cost_usd",
                   "embodied_carbon_kg", "carbon_market_kg"):
        assert ts[column].sum() == pytest.approx(summary[column], rel=REL), column
    j = jobs.iloc[0]
    assert j.carbon_marginal_kg == pytest.approx(j.facility_kwh * 0.650, rel=1e-12)
    assert j.energy_cost_usd == pytest.approx(j.facility_kwh * 0.120, rel=1e-12)
    assert j.hardware_cost_usd == pytest.approx(8 * 2.5 * j.duration_s / S_PER_H, rel=1e-12)  # 8 GPUs held ~2 h
    assert j.cost_usd == pytest.approx(j.energy_cost_usd + j.hardware_cost_usd, rel=1e-12)
    assert j.water_l == pytest.approx(j.it_kwh * 0.4, rel=1e-12)
    assert j.water_total_l == pytest.approx(j.water_l + j.facility_kwh * 2.0, rel=1e-12)
    assert summary["cost_usd"] == pytest.approx(summary["energy_cost_usd"] + summary["hardware_cost_usd"], rel=1e-12)


def test_defaults_and_region_water():
    summary, ts, _ = run(scenario={"duration": "1h"}, grid={"region": "us-average"})
    np.testing.assert_allclose(ts.water_intensity_l_per_kwh, 3.1, rtol=1e-12)
    np.testing.assert_allclose(ts.electricity_price_usd_per_mwh, 80.6, rtol=1e-12)
    assert "carbon_marginal_kg" not in ts.columns and summary["carbon_marginal_kg"] is None
    assert "hardware_cost_usd" not in ts.columns and summary["hardware_cost_usd"] is None
    france, _, _ = run(scenario={"duration": "1h"}, grid={"region": "france"})
    assert any("region 'france' has no cited figure" in w for w in france["warnings"])


def test_price_and_marginal_files_step_the_run(tmp_path):
    price = tmp_path / "price.csv"
    price.write_text("timestamp,value\n2023-01-01T00:00:00Z,50\n2023-01-01T01:00:00Z,-20\n2023-01-01T02:00:00Z,90\n")
    marginal = tmp_path / "marginal.csv"
    marginal.write_text("timestamp,moer\n2023-01-01T00:00:00Z,700\n2023-01-01T01:00:00Z,500\n2023-01-01T02:00:00Z,600\n")
    summary, ts, _ = run(scenario={"duration": "3h"},
                         grid={"electricity_price_file": str(price), "marginal_carbon_intensity_file": str(marginal)})
    np.testing.assert_allclose(ts.electricity_price_usd_per_mwh, [50, -20, 90])
    np.testing.assert_allclose(ts.carbon_marginal_intensity_g_per_kwh, [700, 500, 600])
    assert ts.energy_cost_usd.iloc[1] < 0  # a negative price pays


# --------------------------------------------------------------------------------- refused inputs
def _write_scenario(tmp_path: Path, grid_lines: str, start="2023-06-01T00:00:00Z") -> str:
    path = tmp_path / "s.toml"
    path.write_text(f"""
[scenario]
start = {start}
duration = "2h"
[cluster]
nodes = 1
[grid]
{grid_lines}
""")
    return str(path)


BAD_CSV = "timestamp,value\n2023-06-01T00:00:00Z,300\n2023-06-01T01:00:00Z,oops\n2023-06-01T02:00:00Z,280\n"


@pytest.mark.parametrize("grid_of", [
    lambda f: {"carbon_intensity_file": f},
    lambda f: {"marginal_carbon_intensity_file": f},
    lambda f: {"electricity_price_file": f},
    lambda f: {"contract": {"supply_file": f}},
], ids=["carbon", "marginal", "price", "supply"])
def test_bad_signal_file_names_file_and_line(tmp_path, grid_of):
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_CSV)
    with pytest.raises(DataFileError) as err:
        Simulation(scenario(tmp_path, scenario={"start": datetime(2023, 6, 1, tzinfo=UTC)}, grid=grid_of(str(bad))))
    assert str(err.value).startswith(f"{bad}:3: ") and "'oops'" in str(err.value)


def test_bad_signal_file_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_CSV)
    result = run_cli(_write_scenario(tmp_path, f"electricity_price_file = '{bad}'"), "--out", str(tmp_path / "run"))
    assert result.returncode == 2
    assert f"{bad}:3" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "run").exists()


def test_a_start_outside_the_files_span_is_refused_with_the_span(shared_data, tmp_path):
    path = shared_data / "FR_2023_hourly.csv"
    result = run_cli(_write_scenario(tmp_path, f"carbon_intensity_file = '{path}'", start="2022-12-31T12:00:00Z"),
                     "--out", str(tmp_path / "run"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "FR_2023_hourly.csv" in result.stderr
    assert "spans 2023-01-01T00:00:00Z to 2024-01-01T00:00:00Z" in result.stderr


@pytest.mark.parametrize(
    "grid, fragment",
    [
        ({"region": "mars"}, "grid.region = 'mars': unknown grid region 'mars'; expected one of: france, germany"),
        ({"region": "france", "carbon_intensity_g_per_kwh": 50}, "grid: give one carbon intensity source"),
        ({"contract": {"supply_mw": 1, "annual_volume_mwh": 5}}, "grid.contract: `annual_volume_mwh` is for matching = 'annual'"),
        ({"contract": {"matching": "annual"}}, "grid.contract: annual matching: give exactly one of annual_volume_mwh"),
        ({"contract": {"supply_profile_mw": [1.0] * 23}}, "grid.contract.supply_profile_mw"),
        ({"water_intensity_l_per_kwh": -1}, "grid.water_intensity_l_per_kwh = -1"),
        ({"electricity_price_usd_per_mwh": 50, "electricity_price_file": "x.csv"}, "grid.electricity_price_file"),
    ],
)
def test_grid_keys_are_validated_with_their_toml_path(grid, fragment, tmp_path):
    with pytest.raises(ScenarioError) as err:
        scenario(tmp_path, grid=grid)
    assert any(fragment in m for m in err.value.messages), err.value.messages


def test_hourly_contract_needs_whole_seconds(tmp_path):
    with pytest.raises(ScenarioError, match=r"output.interval = 1.5: expected whole seconds"):
        scenario(tmp_path, grid={"contract": {"supply_mw": 1}}, output={"interval": 1.5})


def test_a_queued_job_has_an_empty_footprint_and_the_idle_pool_the_rest():
    summary, _, jobs = run(scenario={"duration": "2h"}, jobs=[job("first", hours=5.0), job("second", hours=1.0)],
                           grid={"contract": {"supply_mw": 0.001}})
    second = jobs.set_index("job").loc["second"]
    assert second.status == "queued"
    assert second.carbon_kg == second.carbon_market_kg == second.embodied_carbon_kg == second.energy_cost_usd == 0.0
    first = jobs.set_index("job").loc["first"]
    for key in ("carbon_kg", "carbon_market_kg", "embodied_carbon_kg", "water_offsite_l", "energy_cost_usd"):
        assert first[key] + summary["idle"][key] == pytest.approx(summary[key], rel=REL), key
