"""The compiled replicas (sim/workloads/batching_kernel.py) against the Python classes they reproduce
(sim/workloads/batching.py driven by the service's run-ahead): the same requests, time series and
summary, bit for bit, over random services: every router, tensor parallelism, a mixture-of-experts
model, measured step times, prefill budgets, small batches, prompts past the context window (rejected),
outputs of 0 and 1 token, runs cut before the queues drain, and arrival windows split into chunks."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim.workloads.service as service_module
from sim.config import validate_scenario
from sim.engine.simulation import Simulation
from sim.workloads import batching_kernel
from sim.workloads.batching import ContinuousBatchingReplica, Request, SchedulerConfig
from sim.physics.roofline import DecodeStepLaw


@contextlib.contextmanager
def replicas(compiled: bool):
    before = service_module.COMPILED_REPLICAS
    service_module.COMPILED_REPLICAS = compiled
    try:
        yield
    finally:
        service_module.COMPILED_REPLICAS = before


def run(data: dict, compiled: bool):
    with replicas(compiled):
        simulation = Simulation(validate_scenario(data, "test", None))
        assert all((s._compiled is not None) == compiled for s in simulation.services)
        return simulation.run()


def without_timings(summary):
    if isinstance(summary, dict):
        return {k: without_timings(v) for k, v in summary.items() if not k.endswith(("wall_s", "cpu_s"))}
    if isinstance(summary, list):
        return [without_timings(v) for v in summary]
    return summary


def assert_same_run(data: dict, some_requests: bool = True):
    python, compiled = run(data, False), run(data, True)
    assert python.requests.num_rows > 0 or not some_requests
    assert python.requests.to_pandas().equals(compiled.requests.to_pandas())
    assert python.timeseries.to_pandas().equals(compiled.timeseries.to_pandas())
    assert without_timings(python.summary) == without_timings(compiled.summary)
    return compiled


def service_scenario(*, model="llama-2-7b", node="dgx-a100", tensor_parallel=1, replicas=2, max_batch=16,
                     router="round_robin", rate_per_s=4.0, duration_s=600.0, run_s=None, prompt=None, output=None,
                     max_prefill_tokens=None, step_times=None, interval="5min", seed=3) -> dict:
    svc = {
        "name": "svc", "model": model, "tensor_parallel": tensor_parallel, "replicas": replicas,
        "max_batch": max_batch, "router": router, "duration": duration_s,
        "arrivals": {"process": "poisson", "rate_per_s": rate_per_s},
        "prompt_tokens": prompt or {"distribution": "lognormal", "median_tokens": 400, "sigma": 0.8, "max_tokens": 3000},
        "output_tokens": output or {"distribution": "lognormal", "median_tokens": 200, "sigma": 0.9, "max_tokens": 1500},
    }
    if max_prefill_tokens is not None:
        svc["max_prefill_tokens"] = max_prefill_tokens
    if step_times is not None:
        svc["step_times"] = step_times
    return {
        "scenario": {"name": "kernel", "seed": seed, "duration": run_s if run_s is not None else 2.0 * duration_s},
        "cluster": {"node": node, "nodes": 1},
        "services": [svc],
        "output": {"interval": interval},
    }


@pytest.mark.parametrize("router", ["round_robin", "join_shortest_queue", "least_outstanding_tokens"])
def test_a_busy_service_is_the_same_compiled(router):
    assert_same_run(service_scenario(replicas=3, max_batch=32, router=router, rate_per_s=6.0))


def test_tensor_parallel_70b_on_h100_with_a_prefill_budget_is_the_same_compiled():
    assert_same_run(service_scenario(model="llama-2-70b", node="dgx-h100", tensor_parallel=4, replicas=2,
                                     max_batch=64, rate_per_s=5.0, max_prefill_tokens=2048,
                                     router="join_shortest_queue"))


def test_a_mixture_of_experts_model_is_the_same_compiled():
    assert_same_run(service_scenario(model="mixtral-8x7b", node="dgx-h100", tensor_parallel=2, replicas=2,
                                     max_batch=24, rate_per_s=5.0))


def test_measured_step_times_are_the_same_compiled():
    assert_same_run(service_scenario(step_times={"prefill_s": 0.05, "decode_step_s": 0.02, "compute_fraction": 0.3},
                                     replicas=2, max_batch=4, rate_per_s=1.5))


def test_rejected_prompts_and_outputs_of_zero_and_one_token_are_the_same_compiled():
    # Llama-2's window is 4,096 tokens: some prompts are rejected, some outputs cut at the window
    data = service_scenario(prompt={"distribution": "uniform", "low": 1, "high": 5000},
                            output={"distribution": "uniform", "low": 0, "high": 3}, rate_per_s=8.0, max_batch=8)
    assert_same_run(data)
    statuses = set(run(data, True).requests.column("status").to_pylist())
    assert {"completed", "rejected"} <= statuses


def test_a_run_cut_before_the_queues_drain_lists_the_same_unfinished_requests():
    data = service_scenario(replicas=1, max_batch=4, rate_per_s=20.0, duration_s=300.0, run_s=200.0)
    assert_same_run(data)
    assert "unfinished" in set(run(data, True).requests.column("status").to_pylist())


def test_more_requests_than_a_chunk_and_the_first_slots_are_the_same_compiled(monkeypatch):
    # arrival windows of at most 500 requests, and 1,024 slots to begin with (a queue of thousands grows them)
    monkeypatch.setattr(service_module.ArrivalFeed, "MAX_PER_WINDOW", 500)
    data = service_scenario(replicas=1, max_batch=8, rate_per_s=30.0, duration_s=300.0, run_s=2000.0, interval="1h")
    assert_same_run(data)
    simulation = Simulation(validate_scenario(data, "test", None))
    simulation.run()
    service = simulation.services[0]
    assert service._compiled.si.shape[0] > batching_kernel.CompiledReplicas._SLOTS   # the slots grew
    assert service._chunk_base > 0                                                  # more than one chunk


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    model=st.sampled_from([("llama-2-7b", "dgx-a100", 1), ("llama-2-13b", "dgx-a100", 2),
                           ("llama-3-70b", "dgx-h100", 8), ("mixtral-8x7b", "dgx-h100", 4)]),
    replicas=st.integers(1, 2),
    max_batch=st.integers(1, 48),
    router=st.sampled_from(sorted(batching_kernel.ROUTERS)),
    rate_per_s=st.floats(0.2, 12.0),
    duration_s=st.floats(20.0, 400.0),
    run_factor=st.sampled_from([0.5, 1.0, 3.0]),
    median_prompt=st.integers(1, 2000),
    median_output=st.integers(1, 800),
    max_prefill_tokens=st.one_of(st.none(), st.integers(1, 8192)),
    interval=st.sampled_from(["1min", "15min"]),
    seed=st.integers(0, 10_000),
)
def test_random_services_are_the_same_compiled(model, replicas, max_batch, router, rate_per_s, duration_s, run_factor,
                                               median_prompt, median_output, max_prefill_tokens, interval, seed):
    name, node, tensor_parallel = model
    replicas = min(replicas, 8 // tensor_parallel)
    assert_same_run(service_scenario(
        model=name, node=node, tensor_parallel=tensor_parallel, replicas=replicas, max_batch=max_batch, router=router,
        rate_per_s=rate_per_s, duration_s=duration_s, run_s=duration_s * run_factor,
        prompt={"distribution": "lognormal", "median_tokens": median_prompt, "sigma": 1.0, "max_tokens": 6000},
        output={"distribution": "lognormal", "median_tokens": median_output, "sigma": 1.0, "max_tokens": 3000},
        max_prefill_tokens=max_prefill_tokens, interval=interval, seed=seed), some_requests=False)


def autoscaled(router: str, metric: str, seed: int) -> dict:
    """16 replicas on 2 DGX A100 under target_utilisation, 6 hours from the trough of a diurnal load to its peak
    (so it scales in, drains, parks, releases a node, then takes it back and warms replicas up), and a batch job
    on a released node."""
    policy = {"target_utilisation": 0.5, "min_replicas": 2, "warm_up": "2min", "interval": "1min"}
    if metric == "concurrency":
        policy = {"metric": "concurrency", "target_concurrency": 1, "min_replicas": 2, "warm_up": "2min",
                  "interval": "1min"}
    return {
        "scenario": {"name": "kernel-autoscaling", "seed": seed, "start": "2023-06-01T00:00:00Z", "duration": "7h"},
        "cluster": {"node": "dgx-a100", "nodes": 2},
        "facility": {"pue": 1.2},
        "grid": {"carbon_intensity_g_per_kwh": 300.0},
        "output": {"interval": "15min"},
        "queue": {"jobs": [{"name": "batch", "gpus": 8, "duration": "20min", "submit_at": "1h"}]},
        "policies": {"autoscaling": "target_utilisation", "target_utilisation": policy},
        "services": [{
            "name": "chat", "model": "llama-2-7b", "replicas": 16, "max_batch": 32, "router": router,
            "duration": "6h",
            "arrivals": {"process": "diurnal", "rate_per_s": 1.0, "daily_amplitude": 0.9, "peak_hour_local": 6, "utc_offset_h": 0},
            "prompt_tokens": {"distribution": "lognormal", "median_tokens": 400, "sigma": 0.6, "max_tokens": 2000},
            "output_tokens": {"distribution": "lognormal", "median_tokens": 200, "sigma": 0.6, "max_tokens": 800},
        }],
    }


@pytest.mark.parametrize("router, metric", [("join_shortest_queue", "busy"), ("round_robin", "concurrency"),
                                            ("least_outstanding_tokens", "busy")])
def test_an_autoscaled_service_is_the_same_compiled(router, metric):
    autoscaling = assert_same_run(autoscaled(router, metric, seed=4)).summary["services"][0]["autoscaling"]
    assert autoscaling["scale_ins"] > 0 and autoscaling["scale_outs"] > 0 and autoscaling["nodes_released"] > 0


def test_the_decode_law_sums_are_the_python_ones_bit_for_bit():
    """run_time_s, steps_within, compute_by_s of the kernel against DecodeStepLaw, on laws that cross
    (compute-bound first or memory-bound first) and laws that do not."""
    rng = np.random.default_rng(5)
    for _ in range(300):
        cf, ct, mf, mt = rng.uniform(1e-4, 2e-2), rng.uniform(0, 2e-6), rng.uniform(1e-4, 2e-2), rng.uniform(0, 2e-6)
        comm = float(rng.choice([0.0, rng.uniform(0, 1e-3)]))
        law = DecodeStepLaw(cf, ct, mf, mt, comm)
        table = np.array([[0.0] * 5, [cf, ct, mf, mt, comm]])
        context, size, n = int(rng.integers(1, 200_000)), int(rng.integers(1, 256)), int(rng.integers(0, 3000))
        assert batching_kernel.run_time_s(table, 1, context, size, n) == law.run_time_s(context, size, n)
        assert batching_kernel.run_compute_s(table, 1, context, size, n) == law.run_compute_s(context, size, n)
        elapsed = float(rng.uniform(0, 1.2) * law.run_time_s(context, size, n))
        assert batching_kernel.steps_within(table, 1, context, size, elapsed, n) == \
            law.steps_within(context, size, elapsed, n)
        assert batching_kernel.compute_by_s(table, 1, context, size, elapsed, n) == \
            law.compute_by_s(context, size, elapsed, n)


def test_the_replica_state_reads_back_as_the_python_replica_does():
    """Requests left in a replica come back in the Python replica's order: prefilling, decoding (by id), waiting."""
    from sim.workloads.batching import FixedStepCost

    cost = FixedStepCost(prefill_s=1.0, decode_step_s=0.1)
    config = SchedulerConfig(max_batch_size=2, kv_capacity_tokens=10_000)
    compiled = batching_kernel.CompiledReplicas(cost, config, 1, "round_robin", 0.0)
    python = ContinuousBatchingReplica(cost, config)
    arrivals = np.array([0.0, 0.5, 1.2, 1.3, 2.5])
    prompts = np.array([10, 20, 30, 40, 50], dtype=np.int64)
    outputs = np.array([50, 40, 30, 20, 10], dtype=np.int64)
    status, i, _ = compiled.run_ahead(2.65, 0.0, 0, 0, True, 100.0, arrivals, prompts, outputs,
                                      np.zeros(5, dtype=bool))
    assert (status, i) == (batching_kernel.STOPPED, 5)
    for k, t in enumerate(arrivals):
        python.advance_to(t)
        python.enqueue(Request(k, t, int(prompts[k]), int(outputs[k])))
    python.advance_to(2.65)
    assert compiled.outstanding(0) == [tuple(q) for q in python.outstanding()]
    assert compiled.busy_compute_s(2.65) == python.busy_compute_s(2.65)


def test_the_command_can_tell_when_the_replicas_will_be_compiled(tmp_path, monkeypatch):
    """needs_compiling reads numba's cache index of run_ahead: present and newer than the source, no compiling."""
    import os

    batching_kernel.warm_up()                       # compiled or loaded: the index is there now
    index_mtime = os.stat(batching_kernel.run_ahead._cache._cache_file._index_path).st_mtime
    source = tmp_path / "batching_kernel.py"
    source.write_text("")
    monkeypatch.setattr(batching_kernel, "__file__", str(source))
    os.utime(source, (index_mtime - 60, index_mtime - 60))
    assert not batching_kernel.needs_compiling()
    os.utime(source, (index_mtime + 60, index_mtime + 60))   # the source changed after the cache was written
    assert batching_kernel.needs_compiling()
