"""GPU power caps and budgets, and idle-node power-down, through the engine against the closed forms."""

import math

import pytest

from sim.catalog.hardware import node_catalog
from sim.engine.simulation import Simulation
from sim.physics.dvfs import activity_for_boundedness, clock_ratio_for_cap, gpu_power_at_clock_w, time_stretch
from sim.physics.power import TRAINING_ACTIVITY, host_power_w
from sim.units import J_PER_KWH, S_PER_H

from policy_helpers import run, scenario

NODE = node_catalog()["dgx-h100"]
GPU = NODE.gpu


def one_job(beta, duration="4h", gpus=8):
    return [{"name": "job", "gpus": gpus, "duration": duration, "compute_bound_fraction": beta}]


def job_row(beta, policies=None):
    _, result = run(scenario(one_job(beta), nodes=1, policies=policies))
    return result.jobs.to_pandas().iloc[0]


@pytest.mark.parametrize("beta,cap_w", [(0.2, 300.0), (0.95, 350.0), (0.6, 420.0)])
def test_a_cap_lowers_gpu_power_and_stretches_the_job_as_the_model_says(beta, cap_w):
    free = job_row(beta)
    capped = job_row(beta, {"power": "static_cap", "static_cap": {"gpu_cap_w": cap_w}})
    dyn_w = GPU.dynamic_range_w * activity_for_boundedness(beta, TRAINING_ACTIVITY)
    s = clock_ratio_for_cap(cap_w, GPU.idle_w, dyn_w)
    assert s < 1
    assert capped["mean_clock_ratio"] == pytest.approx(s)
    # duration: 4 h x (beta / s + 1 - beta)
    assert capped["duration_s"] == pytest.approx(4 * S_PER_H * time_stretch(s, beta), rel=1e-9)
    assert free["duration_s"] == pytest.approx(4 * S_PER_H)
    # GPU power: each GPU at exactly the cap (8 working GPUs, none spare)
    gpu_w = capped["gpu_kwh"] * J_PER_KWH / capped["duration_s"]
    assert gpu_w == pytest.approx(8 * cap_w, rel=1e-9)
    assert gpu_w < free["gpu_kwh"] * J_PER_KWH / free["duration_s"]
    assert gpu_power_at_clock_w(GPU.idle_w, dyn_w, s) == pytest.approx(cap_w)
    # the host draws the same power for longer
    host_w = capped["host_kwh"] * J_PER_KWH / capped["duration_s"]
    assert host_w == pytest.approx(host_power_w(NODE, activity_for_boundedness(beta, TRAINING_ACTIVITY)))


@pytest.mark.parametrize("cap_w", [380.0, 340.0, 300.0, 260.0])
def test_moderate_caps_lower_the_energy_per_job_of_memory_bound_work(cap_w):
    free = job_row(0.2)
    capped = job_row(0.2, {"power": "static_cap", "static_cap": {"gpu_cap_w": cap_w}})
    assert capped["duration_s"] > free["duration_s"]
    assert capped["facility_kwh"] < free["facility_kwh"]  # whole node, host included
    assert capped["gpu_kwh"] < free["gpu_kwh"]


def test_a_cap_above_the_draw_changes_nothing():
    free = job_row(0.9)
    capped = job_row(0.9, {"power": "static_cap", "static_cap": {"gpu_cap_w": 690.0}})
    for column in ("duration_s", "gpu_kwh", "host_kwh", "facility_kwh"):
        assert capped[column] == pytest.approx(free[column], rel=1e-12)


def test_a_power_budget_is_never_exceeded_and_all_work_is_done():
    jobs = [{"name": f"j{i}", "gpus": 16, "duration": "2h", "submit_at": 600.0 * i, "compute_bound_fraction": 0.9}
            for i in range(10)]
    budget_w = 60_000.0  # 8 DGX H100 draw ~ 8 x 6.2 kW busy; idle ~ 2.8 kW each
    sc = scenario(jobs, nodes=8, policies={"power": "power_budget", "power_budget": {"budget_w": budget_w},
                                           "scheduling": "easy_backfill"}, interval="1min")
    simulation, result = run(sc)
    ts = result.timeseries.to_pandas()
    it_w = ts["it_kwh"] * J_PER_KWH / ts["interval_s"]
    assert it_w.max() <= budget_w * (1 + 1e-9)
    unlimited = Simulation(scenario(jobs, nodes=8, policies={"scheduling": "easy_backfill"}, interval="1min")).run()
    ts_free = unlimited.timeseries.to_pandas()
    assert (ts_free["it_kwh"] * J_PER_KWH / ts_free["interval_s"]).max() > budget_w  # the budget binds
    j = result.jobs.to_pandas()
    assert (j["status"] == "completed").all() and len(j) == 10
    assert (j["mean_clock_ratio"] < 1).any()


def test_a_budget_too_small_for_a_job_holds_it_back():
    jobs = [{"name": "a", "gpus": 32, "duration": "1h"}, {"name": "b", "gpus": 32, "duration": "1h", "submit_at": 60.0}]
    # 8 nodes: idle 8 x 2.8 kW; one 4-node job at the lowest clock adds about 4 x 2.9 kW: the second would not fit
    budget_w = 8 * NODE.idle_power_w + 4 * 3_500.0
    simulation, result = run(scenario(jobs, nodes=8, policies={"power": "power_budget",
                                                                 "power_budget": {"budget_w": budget_w}}))
    j = result.jobs.to_pandas().set_index("job")
    assert j.loc["b", "started_at"] >= j.loc["a", "finished_at"]
    assert (j["status"] == "completed").all()


# ------------------------------------------------------------------------------------------ power-down
def test_an_idle_cluster_that_powers_down_draws_sleep_power_after_the_grace_time():
    nodes = 4
    sc = scenario(nodes=nodes, policies={"idle": "power_down", "power_down": {"idle_before_sleep": "10min"}},
                  duration="1d")
    _, result = run(sc)
    sleep_w = 0.05 * NODE.idle_power_w
    expected_j = nodes * (NODE.idle_power_w * 600 + sleep_w * (86_400 - 600))
    assert result.summary["it_energy_kwh"] * J_PER_KWH == pytest.approx(expected_j, rel=1e-9)


def test_a_job_on_sleeping_nodes_waits_for_the_wake_up_and_the_wake_energy_is_counted():
    jobs = [{"name": "late", "gpus": 8, "duration": "1h", "submit_at": "2h"}]
    policies = {"idle": "power_down", "power_down": {"idle_before_sleep": "10min", "wake": "90s",
                                                      "sleep_power_w_per_node": 100.0}}
    result = Simulation(scenario(jobs, nodes=1, policies=policies, duration="4h"), full_duration=True).run()
    row = result.jobs.to_pandas().iloc[0]
    assert row["wait_s"] == pytest.approx(90.0)
    # node: idle 10 min, asleep until 2 h, waking 90 s at idle power, the job 1 h, idle 10 min, asleep
    busy_j = row["it_kwh"] * J_PER_KWH
    idle_j = NODE.idle_power_w * (600 + 90 + 600) + 100.0 * ((7200 - 600) + (4 * 3600 - 7290 - 3600 - 600))
    assert result.summary["it_energy_kwh"] * J_PER_KWH == pytest.approx(busy_j + idle_j, rel=1e-9)


def test_power_down_saves_energy_on_a_lightly_loaded_cluster():
    jobs = [{"name": f"j{i}", "gpus": 8, "duration": "1h", "submit_at": i * 4 * S_PER_H} for i in range(6)]
    always = run(scenario(jobs, nodes=4, duration="1d"))[1]
    down = run(scenario(jobs, nodes=4, duration="1d", policies={"idle": "power_down"}))[1]
    assert down.summary["facility_energy_kwh"] < 0.5 * always.summary["facility_energy_kwh"]
    assert math.isclose(down.jobs.to_pandas()["gpu_kwh"].sum(), always.jobs.to_pandas()["gpu_kwh"].sum(),
                        rel_tol=1e-9)


def test_a_detailed_training_job_follows_the_cap_in_its_compute_phase_only():
    training = [{"name": "t", "gpus": 16, "parameters": 1e9, "tokens": 2e9, "batch_tokens": 1e6, "mfu": 0.4,
                 "exposed_communication_fraction": 0.1}]
    free = run(scenario(nodes=2, extra={"jobs": training}))[1].jobs.to_pandas().iloc[0]
    capped = run(scenario(nodes=2, extra={"jobs": training},
                          policies={"power": "static_cap", "static_cap": {"gpu_cap_w": 400.0}}))[1].jobs.to_pandas().iloc[0]
    s = clock_ratio_for_cap(400.0, GPU.idle_w, GPU.dynamic_range_w * TRAINING_ACTIVITY)
    assert capped["mean_clock_ratio"] == pytest.approx(s)
    # compute (90% of each iteration) stretches by 1 / s, exposed communication (10%) does not
    assert capped["duration_s"] == pytest.approx(free["duration_s"] * (0.9 / s + 0.1), rel=1e-9)
    assert capped["gpu_kwh"] < free["gpu_kwh"]
    # a measured-power reproduction has nothing for a cap to act on
    measured = [dict(training[0], measured_power_w_per_gpu=600.0)]
    a = run(scenario(nodes=2, extra={"jobs": measured}))[1].jobs.to_pandas().iloc[0]
    b = run(scenario(nodes=2, extra={"jobs": measured},
                     policies={"power": "static_cap", "static_cap": {"gpu_cap_w": 400.0}}))[1].jobs.to_pandas().iloc[0]
    assert a["duration_s"] == b["duration_s"] and a["gpu_kwh"] == b["gpu_kwh"]
