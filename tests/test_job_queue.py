"""Queued jobs: the trace format, the generator on its own stream, and what every policy must keep."""

import math

import numpy as np
import pandas as pd
import pytest

from sim.config.queue import GeneratorSection
from sim.engine.simulation import Simulation
from sim.engine.streams import RandomStreams
from sim.errors import DataFileError, ScenarioError
from sim.workloads.job_trace import GENERATOR_STREAM, generate_jobs, read_trace

from policy_helpers import scenario

H100_PEAK = 989e12


def write(tmp_path, text, name="trace.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_trace_reads_durations_units_work_slack_and_deadlines(tmp_path):
    path = write(tmp_path, """# a comment line
name,submit,gpus,duration,flop,mfu,slack,deadline,interruptible,kind,compute_bound_fraction
etl,0,16,2h,,,6h,,true,batch,0.3
pre,30min,64,,1.0e21,0.4,,20h,no,training,0.95
now,3600,8,90,,,,,,,
""")
    jobs = {j.name: j for j in read_trace(path, H100_PEAK)}
    assert jobs["etl"].duration == 7200 and jobs["etl"].slack_s == 6 * 3600 and jobs["etl"].interruptible
    assert jobs["etl"].compute_bound_fraction == 0.3
    assert jobs["pre"].submit_at == 1800 and jobs["pre"].kind == "training"
    assert jobs["pre"].duration == pytest.approx(1.0e21 / (64 * 0.4 * H100_PEAK))
    assert jobs["pre"].deadline_s == 20 * 3600 and not jobs["pre"].interruptible
    assert jobs["now"].slack_s == 0 and jobs["now"].deadline_s == 3600 + 90


@pytest.mark.parametrize("text,expected", [
    ("name,gpus,duration,colour\na,8,1h,red\n", "unknown column(s) colour"),
    ("name,gpus,duration\na,8,1h\na,8,1h\n", "trace.csv:3: name 'a' appears twice"),
    ("name,gpus,duration\na,0,1h\n", "trace.csv:2: gpus = '0'"),
    ("name,gpus,duration\na,8,soon\n", "trace.csv:2: duration = 'soon'"),
    ("name,gpus,flop\na,8,1e20\n", "trace.csv:2: flop needs mfu"),
    ("name,gpus,duration,slack,deadline\na,8,1h,1h,5h\n", "trace.csv:2: row: Value error, give `slack` or `deadline`"),
    ("name,gpus,duration,interruptible\na,8,1h,maybe\n", "trace.csv:2: interruptible = 'maybe'"),
    ("name,gpus\na,8\n", "missing column 'duration'"),
])
def test_a_bad_trace_is_one_line_naming_file_and_line(tmp_path, text, expected):
    with pytest.raises(DataFileError) as err:
        read_trace(write(tmp_path, text), H100_PEAK)
    assert expected in str(err.value)


def test_a_trace_in_a_scenario_runs(tmp_path):
    path = write(tmp_path, "name,submit,gpus,duration\na,0,16,1h\nb,10min,8,30min\n")
    result = Simulation(scenario(extra={"queue": {"trace": str(path)}})).run()
    jobs = result.jobs.to_pandas()
    assert list(jobs["job"]) == ["a", "b"] and (jobs["status"] == "completed").all()


def test_job_names_must_be_unique_across_sources(tmp_path):
    path = write(tmp_path, "name,gpus,duration\na,8,1h\n")
    with pytest.raises(ScenarioError, match="repeated: a"):
        Simulation(scenario([{"name": "a", "gpus": 8, "duration": "1h"}], extra={"queue": {
            "trace": str(path), "jobs": [{"name": "a", "gpus": 8, "duration": "1h"}]}}))


GEN = dict(rate_per_h=6.0, span=10 * 86_400.0, gpus=[8, 16, 64], gpus_weights=[3, 2, 1], duration_median=7200.0,
           duration_sigma=0.8, deferrable_share=0.5, slack_min=3600.0, slack_max=36_000.0, interruptible_share=0.5,
           compute_bound_min=0.2, compute_bound_max=0.95, training_share=0.25)


def test_the_generator_draws_poisson_arrivals_and_the_stated_mixes():
    jobs = generate_jobs(GeneratorSection(**GEN), RandomStreams(11).generator(GENERATOR_STREAM))
    n = len(jobs)
    expected = 6.0 * 240  # rate x hours
    assert abs(n - expected) < 4 * math.sqrt(expected)
    gaps = np.diff([0.0] + [j.submit_at for j in jobs])
    assert gaps.mean() == pytest.approx(600.0, rel=0.08)
    assert gaps.std() / gaps.mean() == pytest.approx(1.0, abs=0.08)  # exponential: CV = 1, no clipping
    sizes = pd.Series([j.gpus for j in jobs]).value_counts(normalize=True)
    assert sizes[8] == pytest.approx(0.5, abs=0.05) and sizes[64] == pytest.approx(1 / 6, abs=0.04)
    durations = np.array([j.duration for j in jobs])
    assert np.median(durations) == pytest.approx(7200, rel=0.1)
    assert np.std(np.log(durations)) == pytest.approx(0.8, rel=0.08)
    deferrable = [j for j in jobs if j.slack_s > 0]
    assert len(deferrable) / n == pytest.approx(0.5, abs=0.05)
    assert all(3600 <= j.slack_s <= 36_000 for j in deferrable)
    assert all(j.slack_s > 0 for j in jobs if j.interruptible)
    assert sum(j.kind == "training" for j in jobs) / n == pytest.approx(0.25, abs=0.04)


def test_the_generator_depends_only_on_its_stream():
    a = generate_jobs(GeneratorSection(**GEN), RandomStreams(5).generator(GENERATOR_STREAM))
    streams = RandomStreams(5)
    streams.generator("forecast").normal(size=1000)  # another consumer drawing first changes nothing
    b = generate_jobs(GeneratorSection(**GEN), streams.generator(GENERATOR_STREAM))
    assert a == b
    c = generate_jobs(GeneratorSection(**GEN), RandomStreams(6).generator(GENERATOR_STREAM))
    assert a != c


# ------------------------------------------------------------------- every policy keeps the books
POLICY_SETS = [
    {},
    {"scheduling": "easy_backfill"},
    {"scheduling": "sjf"},
    {"scheduling": "easy_backfill", "shifting": "carbon_forecast", "carbon_forecast": {"forecast_error": 0.2}},
    {"shifting": "carbon_threshold"},
    {"power": "static_cap", "static_cap": {"gpu_cap_w": 350.0}},
    {"power": "power_budget", "power_budget": {"budget_w": 45_000.0}},
    {"idle": "power_down"},
    {"scheduling": "easy_backfill", "shifting": "carbon_forecast", "power": "static_cap", "idle": "power_down"},
]

DAY = dict(rate_per_h=1.5, span=86_400.0, gpus=[8, 16, 32], duration_median=5400.0, duration_sigma=0.7,
           deferrable_share=0.6, slack_min=7200.0, slack_max=43_200.0, interruptible_share=0.5,
           compute_bound_min=0.2, compute_bound_max=0.95, training_share=0.4)


def _day(policies, grid):
    sc = scenario(nodes=8, generator=DAY, policies=policies, grid=grid, duration="4d", seed=21)
    simulation = Simulation(sc, full_duration=True)
    return simulation, simulation.run()


@pytest.fixture(scope="module")
def california_grid(request):
    from conftest import shared_data_path

    path = shared_data_path() / "US-CAL-CISO_2023_hourly.csv"
    if not path.is_file():
        pytest.skip(f"real data not found at {path}")
    return {"carbon_intensity_file": str(path), "marginal_carbon_intensity_g_per_kwh": 500.0}


@pytest.fixture(scope="module")
def day_runs(california_grid):
    return [(policies, *_day(policies, california_grid)) for policies in POLICY_SETS]


def test_every_policy_finishes_all_work_loses_no_job_and_keeps_every_identity(day_runs):
    base_jobs = day_runs[0][2].jobs.to_pandas()
    for policies, simulation, result in day_runs:
        jobs = result.jobs.to_pandas()
        ts = result.timeseries.to_pandas()
        s = result.summary
        assert len(jobs) == len(base_jobs) and set(jobs["job"]) == set(base_jobs["job"]), policies
        assert (jobs["status"] == "completed").all(), policies
        assert np.allclose(jobs["iterations"], 1.0), policies
        # rows: it = gpu + host + network + storage; facility = it + cooling + losses + misc; carbon = kWh x CI
        assert np.allclose(ts["it_kwh"], ts["gpu_kwh"] + ts["host_kwh"] + ts["network_kwh"] + ts["storage_kwh"])
        assert np.allclose(ts["facility_kwh"], ts["it_kwh"] + ts["cooling_kwh"] + ts["power_loss_kwh"] + ts["misc_kwh"])
        assert np.allclose(ts["carbon_kg"], ts["facility_kwh"] * ts["carbon_intensity_g_per_kwh"] / 1000)
        # columns sum to the summary; jobs + idle pool = the whole
        assert ts["facility_kwh"].sum() == pytest.approx(s["facility_energy_kwh"], rel=1e-9)
        assert jobs["facility_kwh"].sum() + s["idle"]["facility_energy_kwh"] == pytest.approx(
            s["facility_energy_kwh"], rel=1e-9), policies
        assert jobs["carbon_kg"].sum() + s["idle"]["carbon_kg"] == pytest.approx(s["carbon_kg"], rel=1e-9)
        assert s["simulated_s"] == 4 * 86_400
        # per job: the credit's as-run carbon is the metered carbon (fixed PUE)
        assert np.allclose(jobs["carbon_as_run_kg"], jobs["carbon_kg"], rtol=1e-9, atol=1e-12)


def test_two_policies_on_the_same_seed_see_identical_arrivals(day_runs):
    base = day_runs[0][2].jobs.to_pandas()[["job", "submitted_at", "gpus", "kind", "deadline_at", "interruptible"]]
    for policies, _, result in day_runs[1:]:
        other = result.jobs.to_pandas()[base.columns]
        pd.testing.assert_frame_equal(base, other, obj=str(policies))


def test_the_policies_do_differ(day_runs):
    waits = {str(p): r.summary["queue"]["mean_wait_s"] for p, _, r in day_runs}
    assert len(set(round(w, 3) for w in waits.values())) >= 4
    energy = {str(p): r.summary["facility_energy_kwh"] for p, _, r in day_runs}
    assert energy[str({"idle": "power_down"})] < energy[str({})]
