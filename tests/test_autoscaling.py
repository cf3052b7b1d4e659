"""Inference autoscaling decisions: the Kubernetes HPA rule with tolerance, bounds and a scale-down window."""

import pytest

from sim.policies.autoscaling.base import ServiceLoad
from sim.policies.autoscaling.fixed import Fixed
from sim.policies.autoscaling.target_utilisation import TargetUtilisation


def test_replicas_follow_load_at_the_target_utilisation():
    policy = TargetUtilisation(0.5, min_replicas=1, max_replicas=20)
    # 4 replicas at 90% busy, target 50%: ceil(4 x 0.9 / 0.5) = 8
    assert policy.desired_replicas(0, ServiceLoad(utilisation=0.9, replicas=4, serving=4)) == 8
    # within the 10% tolerance: unchanged
    assert policy.desired_replicas(60, ServiceLoad(utilisation=0.53, replicas=8, serving=8)) == 8


def test_bounds_are_kept():
    policy = TargetUtilisation(0.5, min_replicas=2, max_replicas=5)
    assert policy.desired_replicas(0, ServiceLoad(utilisation=1.0, replicas=4, serving=4)) == 5
    policy = TargetUtilisation(0.5, min_replicas=2, max_replicas=5, scale_down_delay_s=0)
    assert policy.desired_replicas(0, ServiceLoad(utilisation=0.0, replicas=4, serving=4)) == 2


def test_scale_down_waits_for_the_highest_recommendation_of_the_window():
    policy = TargetUtilisation(0.5, min_replicas=1, scale_down_delay_s=300)
    assert policy.desired_replicas(0, ServiceLoad(0.9, 4, 4)) == 8
    # load drops at once: the window still remembers 8
    assert policy.desired_replicas(60, ServiceLoad(0.1, 8, 8)) == 8
    assert policy.desired_replicas(240, ServiceLoad(0.1, 8, 8)) == 8
    # 5 min after the last high recommendation, it may go down: ceil(8 x 0.1 / 0.5) = 2
    assert policy.desired_replicas(301, ServiceLoad(0.1, 8, 8)) == 2


def test_fixed_keeps_the_replicas():
    assert Fixed().desired_replicas(0, ServiceLoad(0.99, 3, 3)) == 3


def test_target_must_be_a_share():
    with pytest.raises(ValueError):
        TargetUtilisation(1.5)


# ------------------------------------------------------------------------------- through the engine
import numpy as np  # noqa: E402

from sim.engine.simulation import Simulation  # noqa: E402

from policy_helpers import scenario  # noqa: E402


def service(rate_per_s, **extra):
    return {"name": "chat", "model": "llama-2-7b", "replicas": 16, "max_batch": 64, "router": "join_shortest_queue",
            "arrivals": {"process": "poisson", "rate_per_s": rate_per_s},
            "prompt_tokens": {"distribution": "lognormal", "median_tokens": 400, "sigma": 0.6, "max_tokens": 2000},
            "output_tokens": {"distribution": "lognormal", "median_tokens": 200, "sigma": 0.6, "max_tokens": 800},
            "slo": {"latency_s": 60.0, "percentile": 99}, **extra}


def serve(policies, rate_per_s=0.5, services=None, jobs=None):
    sc = scenario(jobs, nodes=2, policies=policies, duration="1h",
                  extra={"services": services or [service(rate_per_s)],
                         "cluster": {"node": "dgx-a100", "nodes": 2}})
    simulation = Simulation(sc, full_duration=True)
    return simulation, simulation.run()


AUTO = {"autoscaling": "target_utilisation",
        "target_utilisation": {"target_utilisation": 0.5, "min_replicas": 2, "warm_up": "2min", "interval": "1min"}}


def test_light_load_scales_in_releases_a_node_and_serves_every_request():
    fixed_sim, fixed = serve({})
    auto_sim, auto = serve(AUTO)
    scaler = auto_sim.services[0].scaler
    s = auto.summary["services"][0]
    assert s["autoscaling"]["mean_resident_replicas"] < 8 and s["autoscaling"]["nodes_released"] == 1
    assert s["completed"] == fixed.summary["services"][0]["completed"] == s["requests"] - s["rejected"]
    assert min(n for _, n in scaler.history) >= 2
    # less energy; the released node went back to the idle pool (and its embodied carbon with it)
    assert auto.summary["facility_energy_kwh"] < fixed.summary["facility_energy_kwh"]
    assert s["embodied_carbon_kg"] < fixed.summary["services"][0]["embodied_carbon_kg"]
    # every identity still holds: the service + idle pool = the whole
    ts = auto.timeseries.to_pandas()
    assert np.allclose(ts["it_kwh"], ts["gpu_kwh"] + ts["host_kwh"] + ts["network_kwh"] + ts["storage_kwh"])
    assert s["energy_kwh"] + auto.summary["idle"]["facility_energy_kwh"] == pytest.approx(
        auto.summary["facility_energy_kwh"], rel=1e-9)
    # the requests' energies add up to the service's
    assert s["attributed_energy_kwh"] == pytest.approx(s["energy_kwh"], rel=1e-9)


def test_a_released_node_can_sleep_or_run_a_job():
    _, down = serve({**AUTO, "idle": "power_down", "power_down": {"idle_before_sleep": "5min"}})
    _, auto = serve(AUTO)
    assert down.summary["facility_energy_kwh"] < auto.summary["facility_energy_kwh"]
    jobs = [{"name": "batch", "gpus": 8, "duration": "20min", "submit_at": "10min"}]
    _, shared = serve(AUTO, jobs=jobs)
    row = shared.jobs.to_pandas().iloc[0]
    assert row["status"] == "completed"  # ran on the node the service gave back
    _, fixed = serve({}, jobs=jobs)
    assert fixed.jobs.to_pandas().iloc[0]["status"] != "completed"  # without autoscaling no node was free


def test_heavy_load_keeps_the_replicas():
    _, auto = serve(AUTO, rate_per_s=12.0)
    s = auto.summary["services"][0]
    assert s["autoscaling"]["nodes_released"] == 0
    assert s["autoscaling"]["mean_resident_replicas"] > 12


def test_concurrency_follows_light_load_where_the_busy_share_does_not():
    busy_sim, busy = serve(AUTO, rate_per_s=2.0)
    conc = {**AUTO, "target_utilisation": {**AUTO["target_utilisation"], "metric": "concurrency",
                                           "target_concurrency": 8}}
    conc_sim, by_conc = serve(conc, rate_per_s=2.0)
    b = busy.summary["services"][0]["autoscaling"]["mean_resident_replicas"]
    c = by_conc.summary["services"][0]["autoscaling"]["mean_resident_replicas"]
    assert c < b
    assert by_conc.summary["services"][0]["completed"] == busy.summary["services"][0]["completed"]
