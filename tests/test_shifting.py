"""Carbon-aware temporal shifting: the forecast, the decisions, and what they do to a run."""


import numpy as np
import pandas as pd
import pytest

from sim.errors import ScenarioError
from sim.facility.carbon_view import CarbonView, window_means
from sim.facility.grid_signals import DailyProfileSource
from sim.policies.shifting.carbon_forecast import best_start_s, cheapest_stretches
from sim.policies.shifting.carbon_threshold import weighted_percentile
from sim.units import S_PER_H

from policy_helpers import CALIFORNIA, scenario

# A made-up daily profile by UTC hour (not data): high at night, a dip from 10 to 14 h.
PROFILE = tuple([400.0] * 10 + [100.0] * 4 + [400.0] * 10)


def profile_view(error=0.0, seed=0):
    source = DailyProfileSource("ci", "gCO2e/kWh", PROFILE, "test profile")
    rng = np.random.default_rng(seed) if error else None
    return CarbonView(source, 1_685_577_600.0, error, rng)  # 2023-06-01T00:00Z


# ------------------------------------------------------------------------------------------ the forecast
def test_a_perfect_forecast_is_the_signal_cut_at_hours():
    view = profile_view()
    edges, values = view.forecast_steps(9.5 * S_PER_H, 15 * S_PER_H)
    assert edges.tolist() == [s * S_PER_H for s in (9.5, 10, 11, 12, 13, 14, 15)]
    assert values.tolist() == [400, 100, 100, 100, 100, 400]
    assert view.actual_at(11 * S_PER_H) == 100
    assert view.next_change_after(11 * S_PER_H, 86_400) == 14 * S_PER_H


def test_forecast_error_has_the_stated_level_and_is_one_draw_per_hour():
    view = profile_view(error=0.2, seed=7)
    edges, forecast = view.forecast_steps(0, 3000 * S_PER_H)
    _, actual = view.actual_steps(0, 3000 * S_PER_H)
    relative = forecast / actual - 1
    assert np.std(relative) == pytest.approx(0.2, rel=0.08)
    assert abs(np.mean(relative)) < 0.02
    # asked again, or for a sub-window, the same hours get the same forecast
    edges2, again = view.forecast_steps(100 * S_PER_H, 110 * S_PER_H)
    assert np.allclose(again, forecast[100:110])


def test_forecast_is_the_same_whatever_order_hours_are_asked_in():
    a, b = profile_view(0.3, seed=5), profile_view(0.3, seed=5)
    late_first = b.forecast_steps(50 * S_PER_H, 60 * S_PER_H)[1]
    a.forecast_steps(0, 60 * S_PER_H)
    assert np.allclose(a.forecast_steps(50 * S_PER_H, 60 * S_PER_H)[1], late_first)


def test_weighted_percentile_and_window_means():
    edges = np.array([0.0, 3.0, 4.0])
    values = np.array([100.0, 300.0])
    assert weighted_percentile(edges, values, 75) == 100
    assert weighted_percentile(edges, values, 80) == 300
    means = window_means(edges, values, np.array([0.0, 2.0, 3.0]), 1.0)
    assert means.tolist() == [100, 100, 300]
    assert window_means(edges, values, np.array([2.5]), 1.0)[0] == pytest.approx(200)


def test_best_start_and_cheapest_stretches_on_the_profile():
    view = profile_view()
    edges, values = view.forecast_steps(0, 24 * S_PER_H)
    # a 2 h job submitted at 0 with a latest start of 20 h starts at the dip (10 h), not later
    assert best_start_s(edges, values, 0, 20 * S_PER_H, 2 * S_PER_H) == 10 * S_PER_H
    # a 6 h job: the best window contains the whole 4 h dip; earliest such start is 8 h
    assert best_start_s(edges, values, 0, 18 * S_PER_H, 6 * S_PER_H) == 8 * S_PER_H
    # an interruptible 5 h job: the 4 dip hours, then the earliest 400 hour
    stretches = cheapest_stretches(edges, values, 5 * S_PER_H)
    assert stretches == [[0.0, S_PER_H], [10 * S_PER_H, 14 * S_PER_H]]


# ------------------------------------------------------------------------------ through the engine
def _jobs(slack_h, interruptible=False, hours=range(0, 24, 2), duration="2h"):
    return [{"name": f"j{h:02d}", "gpus": 8, "duration": duration, "submit_at": h * S_PER_H,
             "slack": f"{slack_h}h", "interruptible": interruptible} for h in hours]


def _run_horizon(jobs, shifting, grid, horizon="3d", params=None, nodes=16):
    policies = {"shifting": shifting}
    if params:
        policies[shifting] = params
    sc = scenario(jobs, nodes=nodes, grid=grid, policies=policies, duration=horizon)
    from sim.engine.simulation import Simulation

    simulation = Simulation(sc, full_duration=True)
    return simulation, simulation.run()


CONSTANT = {"carbon_intensity_g_per_kwh": 350.0, "marginal_carbon_intensity_g_per_kwh": 600.0}


@pytest.mark.parametrize("shifting,params", [
    ("carbon_threshold", None),
    ("carbon_forecast", None),
    ("carbon_forecast", {"forecast_error": 0.3}),
    ("carbon_threshold", {"forecast_error": 0.3, "percentile": 10}),
])
def test_constant_intensity_saves_nothing_and_changes_nothing_but_waits(shifting, params):
    jobs = _jobs(12, interruptible=False) + [
        dict(j, name=j["name"] + "i", interruptible=True) for j in _jobs(12, interruptible=True)]
    _, base = _run_horizon(jobs, "run_now", CONSTANT)
    _, shifted = _run_horizon(jobs, shifting, CONSTANT, params=params)
    for key in ("facility_energy_kwh", "it_energy_kwh", "carbon_kg", "carbon_marginal_kg", "water_total_l",
                "cost_usd", "embodied_carbon_kg"):
        assert shifted.summary[key] == pytest.approx(base.summary[key], rel=1e-9), key
    a, b = base.jobs.to_pandas(), shifted.jobs.to_pandas()
    for column in ("status", "gpu_kwh", "host_kwh", "facility_kwh", "carbon_kg", "carbon_marginal_kg", "gpu_hours"):
        if not pd.api.types.is_numeric_dtype(a[column]):
            assert (a[column] == b[column]).all(), column
        else:
            assert np.allclose(a[column], b[column], rtol=1e-9), column
    assert np.allclose(b["carbon_saved_kg"], 0.0, atol=1e-9)
    assert np.allclose(b["carbon_marginal_saved_kg"], 0.0, atol=1e-9)
    assert (b["status"] == "completed").all()
    if params is None:  # a perfect forecast of a flat signal: every start ties, the earliest (now) wins
        assert (a["wait_s"] == b["wait_s"]).all()
    else:  # a noisy forecast moves jobs, and only their waits (and instants) change
        assert (b["wait_s"] >= a["wait_s"] - 1e-9).all()


def test_run_now_credits_nothing_and_as_run_equals_the_metered_carbon(shared_data):
    grid = {"carbon_intensity_file": str(shared_data / CALIFORNIA)}
    _, result = _run_horizon(_jobs(6), "run_now", grid)
    j = result.jobs.to_pandas()
    assert np.allclose(j["carbon_saved_kg"], 0.0, atol=1e-9)
    assert np.allclose(j["carbon_as_run_kg"], j["carbon_kg"], rtol=1e-9)
    assert (j["deferred_s"] == 0).all()


def _california_day(shared_data, slack_h, interruptible=False, shifting="carbon_forecast"):
    grid = {"carbon_intensity_file": str(shared_data / CALIFORNIA)}
    jobs = _jobs(slack_h, interruptible, hours=range(24))
    _, base = _run_horizon(jobs, "run_now", grid, nodes=24)
    _, shifted = _run_horizon(jobs, shifting, grid, nodes=24)
    return base, shifted


def test_california_jobs_move_into_the_midday_dip_and_save_carbon(shared_data):
    base, shifted = _california_day(shared_data, 16)
    b, s = base.jobs.to_pandas(), shifted.jobs.to_pandas()
    # CAISO's daily minimum is around 20-21 UTC (midday solar, data/README.md): most jobs now start there
    start_hours = s["started_at"].dt.hour
    assert ((start_hours >= 17) & (start_hours <= 22)).mean() >= 0.75
    assert ((b["started_at"].dt.hour >= 17) & (b["started_at"].dt.hour <= 22)).mean() <= 0.3
    assert s["carbon_kg"].sum() < 0.85 * b["carbon_kg"].sum()
    # the credit equals the change in the jobs' metered carbon (no contention: same energy, only moved)
    assert s["carbon_saved_kg"].sum() == pytest.approx(b["carbon_kg"].sum() - s["carbon_kg"].sum(), rel=1e-6)
    assert (s["deadline_met"]).all()
    assert s["gpu_kwh"].sum() == pytest.approx(b["gpu_kwh"].sum(), rel=1e-9)


@pytest.mark.parametrize("shifting", ["carbon_forecast", "carbon_threshold"])
def test_california_saving_grows_with_slack(shared_data, shifting):
    savings = []
    for slack_h in (0, 2, 4, 8, 16):
        _, shifted = _california_day(shared_data, slack_h, shifting=shifting)
        savings.append(shifted.jobs.to_pandas()["carbon_saved_kg"].sum())
    assert savings[0] == pytest.approx(0.0, abs=1e-9)
    assert all(later > earlier for earlier, later in zip(savings, savings[1:])), savings
    assert savings[-1] > 0.15 * _california_day(shared_data, 0)[0].jobs.to_pandas()["carbon_kg"].sum()


def test_interruptible_jobs_are_suspended_and_resumed_and_do_all_their_work(shared_data):
    grid = {"carbon_intensity_file": str(shared_data / CALIFORNIA)}
    jobs = [{"name": "long", "gpus": 16, "duration": "10h", "submit_at": 0, "slack": "30h", "interruptible": True}]
    _, base = _run_horizon(jobs, "run_now", grid)
    simulation, shifted = _run_horizon(jobs, "carbon_forecast", grid)
    row = shifted.jobs.to_pandas().iloc[0]
    assert row["suspensions"] >= 1 and row["suspended_s"] > 0
    assert row["status"] == "completed" and row["deadline_met"]
    assert row["iterations"] == pytest.approx(1.0)
    assert row["gpu_kwh"] == pytest.approx(base.jobs.to_pandas().iloc[0]["gpu_kwh"], rel=1e-9)
    assert row["carbon_saved_kg"] > 0
    # it ran only in the planned stretches: as many running stretches as suspensions + 1
    from sim.engine.shift_credit import running_stretches

    stretches = running_stretches(simulation.cluster.traces["long"], shifted.summary["simulated_s"])
    assert len(stretches) == row["suspensions"] + 1
    assert sum(s.end_s - s.start_s for s in stretches) == pytest.approx(10 * S_PER_H)


def test_the_deadline_overrides_the_policy():
    # an absolute threshold no hour meets: the job waits exactly until its latest start, and makes it
    jobs = [{"name": "j", "gpus": 8, "duration": "2h", "submit_at": 0, "slack": "5h"}]
    simulation, result = _run_horizon(jobs, "carbon_threshold", CONSTANT, params={"threshold_g_per_kwh": 1.0})
    row = result.jobs.to_pandas().iloc[0]
    assert row["deferred_s"] == pytest.approx(5 * S_PER_H)
    assert row["deadline_met"]


def test_a_marginal_policy_needs_a_marginal_signal():
    with pytest.raises(ScenarioError, match="marginal"):
        _run_horizon(_jobs(4), "carbon_forecast", {"carbon_intensity_g_per_kwh": 300.0},
                     params={"signal": "marginal"})


def test_a_detailed_training_job_with_slack_is_deferred_into_the_dip(shared_data):
    grid = {"carbon_intensity_file": str(shared_data / CALIFORNIA)}
    training = [{"name": "ft", "gpus": 16, "parameters": 1e9, "tokens": 3e9, "batch_tokens": 1e6, "mfu": 0.4,
                 "submit_at": "2h", "slack": "20h"}]
    runs = {}
    for shifting in ("run_now", "carbon_forecast"):
        sc = scenario(nodes=4, grid=grid, policies={"shifting": shifting}, duration="2d", extra={"jobs": training})
        from sim.engine.simulation import Simulation

        runs[shifting] = Simulation(sc, full_duration=True).run().jobs.to_pandas().iloc[0]
    now, shifted = runs["run_now"], runs["carbon_forecast"]
    assert now["deferred_s"] == 0 and now["carbon_saved_kg"] == pytest.approx(0, abs=1e-9)
    assert shifted["deferred_s"] > 0 and 17 <= shifted["started_at"].hour <= 22
    assert shifted["carbon_kg"] < now["carbon_kg"]
    assert shifted["carbon_saved_kg"] == pytest.approx(now["carbon_kg"] - shifted["carbon_kg"], rel=1e-3)
    assert shifted["gpu_kwh"] == pytest.approx(now["gpu_kwh"], rel=1e-9)


def test_an_interruptible_training_job_is_suspended_with_a_checkpoint_and_resumed(shared_data):
    grid = {"carbon_intensity_file": str(shared_data / CALIFORNIA)}
    training = [{"name": "pt", "gpus": 16, "parameters": 1e9, "tokens": 12e9, "batch_tokens": 1e6, "mfu": 0.4,
                 "submit_at": "1h", "slack": "30h", "interruptible": True,
                 "checkpoint": {"interval": "30min"}}]
    from sim.engine.simulation import Simulation

    rows = {}
    for shifting in ("run_now", "carbon_forecast"):
        sc = scenario(nodes=4, grid=grid, policies={"shifting": shifting}, duration="3d",
                      extra={"jobs": training, "storage": {}})
        simulation = Simulation(sc, full_duration=True)
        rows[shifting] = (simulation, simulation.run().jobs.to_pandas().iloc[0])
    _, now = rows["run_now"]
    simulation, shifted = rows["carbon_forecast"]
    assert shifted["suspensions"] >= 1 and shifted["suspended_s"] > 0
    assert shifted["status"] == "completed" and shifted["deadline_met"]
    assert shifted["iterations"] == now["iterations"]
    # no work lost: a checkpoint is written (to the storage tier) at each suspension, and read back
    assert shifted["lost_work_s"] == 0 and shifted["productive_s"] == pytest.approx(now["productive_s"], rel=1e-9)
    assert shifted["carbon_kg"] < now["carbon_kg"] and shifted["carbon_saved_kg"] > 0
    job = simulation.jobs[0]
    assert not job.running and job.finished and job.done.triggered
