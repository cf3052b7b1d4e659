"""Continuous batching: queueing theory, exactness against a step-by-step engine, limits, conservation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.catalog.llm_models import ServedModel, llm_architecture
from sim.catalog.hardware import gpu_catalog
from sim.physics.roofline import ReplicaSpec, RooflineStepCost
from sim.workloads.arrivals import (
    ConstantRate,
    FixedLength,
    GeometricLength,
    RequestStreams,
    UniformLength,
    generate_requests,
)
from sim.workloads.batching import (
    DECODE,
    IDLE,
    PREFILL,
    Advance,
    ContinuousBatchingReplica,
    FixedStepCost,
    Request,
    SchedulerConfig,
)


A100_SXM_80GB = gpu_catalog()["a100-sxm4-80gb"]
H100_SXM = gpu_catalog()["h100-sxm5-80gb"]


def requests_of(trace) -> list[Request]:
    return [Request(i, float(a), int(p), int(o))
            for i, (a, p, o) in enumerate(zip(trace.arrival_s, trace.prompt_tokens, trace.output_tokens))]


def drive(replica: ContinuousBatchingReplica, requests: list[Request], extra_stops=(), watch=None):
    """The tiny pure driver a SimPy process would be: wake at each arrival and at each change the
    replica announces, never in between. Returns the Advances and the number of wake-ups."""
    advances: list[Advance] = []
    stops = sorted(extra_stops)
    wakeups = 0

    def go(t):
        nonlocal wakeups
        wakeups += 1
        advances.append(replica.advance_to(t))
        if watch:
            watch(replica)

    for request in requests:
        while True:
            nxt = min(replica.next_change_at_s(), stops[0] if stops else math.inf)
            if nxt > request.arrival_s:
                break
            if stops and stops[0] == nxt:
                stops.pop(0)
            go(nxt)
        go(request.arrival_s)
        replica.enqueue(request)
        if watch:
            watch(replica)
    while not replica.is_idle:
        go(replica.next_change_at_s())
    return advances, wakeups


def completions(advances):
    return {c.request_id: c for a in advances for c in a.completions}


def mean_wait_with_error(waits: np.ndarray, batches: int = 25) -> tuple[float, float]:
    """Mean and its standard error by batch means (waits of a queue are correlated)."""
    groups = np.array_split(waits, batches)
    means = np.array([g.mean() for g in groups])
    return float(waits.mean()), float(means.std(ddof=1) / math.sqrt(batches))


def mm1_waits(rho: float, n_requests: int, seed: int) -> np.ndarray:
    """Batch size 1, a fixed 10 ms per token and geometric output lengths of mean 100: service is
    geometric x 10 ms, the discrete twin of Exp(mean 1 s)."""
    tau, mean_tokens = 0.01, 100.0
    mu = 1.0 / (tau * mean_tokens)
    trace = generate_requests(ConstantRate(rho * mu), FixedLength(16), GeometricLength(mean_tokens),
                              0.0, n_requests / (rho * mu), RequestStreams.spawn(seed))
    replica = ContinuousBatchingReplica(FixedStepCost(prefill_s=tau, decode_step_s=tau),
                                        SchedulerConfig(max_batch_size=1, kv_capacity_tokens=10**9))
    advances, _ = drive(replica, requests_of(trace))
    done = completions(advances)
    return np.array([done[i].queueing_delay_s for i in sorted(done)])


def test_mm1_mean_wait_matches_rho_over_mu_minus_lambda():
    """M/M/1: Wq = rho / (mu - lambda) = 1 s at rho = 0.5, mu = 1/s. Pollaczek-Khinchine for the
    geometric service: lambda E[S^2] / (2 (1 - rho)) = 0.995 s."""
    waits = mm1_waits(0.5, 24_000, seed=1)
    mean, error = mean_wait_with_error(waits)
    assert abs(mean - 1.0) < 4 * error and error < 0.05
    tau, p = 0.01, 0.01
    pollaczek_khinchine = 0.5 * tau ** 2 * (2 - p) / p ** 2 / (2 * (1 - 0.5))
    assert abs(mean - pollaczek_khinchine) < 4 * error
    # the waiting-time distribution is M/M/1's too: P(W = 0) = 1 - rho
    assert np.mean(waits == 0.0) == pytest.approx(0.5, abs=0.02)


def test_latency_grows_sharply_near_capacity():
    """Wq x mu = rho / (1 - rho): 1, 4, 19 at rho = 0.5, 0.8, 0.95."""
    means = {rho: mm1_waits(rho, 8_000, seed=7).mean() for rho in (0.5, 0.8, 0.95)}
    assert means[0.5] < means[0.8] < means[0.95]
    assert means[0.8] / means[0.5] > 2.5
    assert means[0.95] / means[0.8] > 2.5


def reference_engine(cost, config: SchedulerConfig, requests: list[Request]) -> dict:
    """A plain step-by-step engine with the same rule, one loop iteration per decode step."""
    t, i, queue, running, kv, out = 0.0, 0, [], [], 0, {}
    while i < len(requests) or queue or running:
        while i < len(requests) and requests[i].arrival_s <= t:
            queue.append(requests[i])
            i += 1
        admitted, tokens = [], 0
        while (queue and len(running) + len(admitted) < config.max_batch_size
               and kv + queue[0].kv_tokens <= config.kv_capacity_tokens
               and (not admitted or config.max_prefill_tokens is None
                    or tokens + queue[0].prompt_tokens <= config.max_prefill_tokens)):
            r = queue.pop(0)
            kv, tokens = kv + r.kv_tokens, tokens + r.prompt_tokens
            admitted.append(r)
        if admitted:
            end = t + cost.prefill_cost([r.prompt_tokens for r in admitted]).time_s
            for r in admitted:
                out[r.request_id] = [t, end if r.output_tokens else math.nan, None]
                if r.output_tokens <= 1:
                    out[r.request_id][2] = end
                    kv -= r.kv_tokens
                else:
                    running.append([r, r.prompt_tokens + 1, r.output_tokens - 1])
            t = end
        elif running:
            t += cost.decode_step_law(len(running)).step(sum(x[1] for x in running)).time_s
            for x in running:
                x[1], x[2] = x[1] + 1, x[2] - 1
                if x[2] == 0:
                    out[x[0].request_id][2] = t
                    kv -= x[0].kv_tokens
            running = [x for x in running if x[2] > 0]
        else:
            t = requests[i].arrival_s
    return out


def assert_same_as_reference(done: dict, reference: dict) -> None:
    assert set(done) == set(reference)
    for rid, (admitted, first, finish) in reference.items():
        c = done[rid]
        assert c.admitted_s == pytest.approx(admitted, rel=1e-12, abs=1e-9)
        assert c.finish_s == pytest.approx(finish, rel=1e-12, abs=1e-9)
        assert (math.isnan(c.first_token_s) and math.isnan(first)) or c.first_token_s == pytest.approx(first, rel=1e-12, abs=1e-9)


def test_event_driven_replica_equals_the_step_by_step_engine():
    """Llama-2-7B on an A100 with a tight KV cache and a prefill budget: same instants for every
    request as an engine that loops over every decode step, with far fewer wake-ups."""
    replica_spec = ReplicaSpec(ServedModel(llm_architecture("llama-2-7b")), A100_SXM_80GB, 1)
    cost = RooflineStepCost(replica_spec)
    config = SchedulerConfig(max_batch_size=12, kv_capacity_tokens=9_000, max_prefill_tokens=3_000)
    trace = generate_requests(ConstantRate(4.0), UniformLength(20, 900), UniformLength(0, 400),
                              0.0, 120.0, RequestStreams.spawn(3))
    requests = requests_of(trace)
    advances, wakeups = drive(ContinuousBatchingReplica(cost, config), requests)
    assert_same_as_reference(completions(advances), reference_engine(cost, config, requests))
    decode_steps = int(trace.output_tokens.sum())
    assert wakeups <= 4 * len(requests) + 1 < decode_steps / 20


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), batch=st.integers(1, 6), capacity=st.integers(400, 3000),
       stops=st.lists(st.floats(0.0, 30.0), max_size=20))
def test_any_extra_wakeups_change_nothing(seed, batch, capacity, stops):
    """Results do not depend on when the driver looks (extra advance_to calls at random instants),
    and they equal the step-by-step engine's."""
    cost = FixedStepCost(prefill_s=0.05, decode_step_s=0.01, compute_fraction=0.3)
    config = SchedulerConfig(batch, capacity)
    trace = generate_requests(ConstantRate(2.0), UniformLength(1, 200), UniformLength(0, 150),
                              0.0, 10.0, RequestStreams.spawn(seed))
    requests = requests_of(trace)
    plain, _ = drive(ContinuousBatchingReplica(cost, config), requests)
    poked, _ = drive(ContinuousBatchingReplica(cost, config), requests, extra_stops=stops)
    a, b = completions(plain), completions(poked)
    assert_same_as_reference(a, reference_engine(cost, config, requests))
    for rid in a:
        assert b[rid].finish_s == pytest.approx(a[rid].finish_s, rel=1e-12)
        assert b[rid].busy_share_s == pytest.approx(a[rid].busy_share_s, rel=1e-9)


def test_kv_limit_and_batch_limit_are_respected():
    """Sequences of 1,000 KV tokens in a 3,500-token cache: never more than 3 at once, although the
    batch limit is 64, and 3 at once is reached."""
    config = SchedulerConfig(max_batch_size=64, kv_capacity_tokens=3_500)
    replica = ContinuousBatchingReplica(FixedStepCost(0.02, 0.01), config)
    seen = []

    def watch(r: ContinuousBatchingReplica):
        assert r.kv_reserved_tokens <= config.kv_capacity_tokens
        assert r.running_count <= config.max_batch_size
        seen.append(r.running_count)

    requests = [Request(i, 0.05 * i, 600, 400) for i in range(40)]
    advances, _ = drive(replica, requests, watch=watch)
    assert max(seen) == 3
    done = completions(advances)
    assert len(done) == 40 and replica.kv_reserved_tokens == 0
    # first come, first served: admissions in arrival order
    admitted = [done[i].admitted_s for i in range(40)]
    assert admitted == sorted(admitted)
    # the batch limit binds when the cache is large
    small_batch = ContinuousBatchingReplica(FixedStepCost(0.02, 0.01), SchedulerConfig(2, 10**9))
    running = []
    drive(small_batch, requests, watch=lambda r: running.append(r.running_count))
    assert max(running) == 2


def test_time_and_energy_shares_are_conserved():
    """Segments tile the elapsed time; per-request busy and compute shares add up to the replica's."""
    replica_spec = ReplicaSpec(ServedModel(llm_architecture("llama-2-70b")), H100_SXM, 4)
    cost = RooflineStepCost(replica_spec)
    config = SchedulerConfig(64, replica_spec.kv_capacity_tokens, 8192)
    trace = generate_requests(ConstantRate(3.0), UniformLength(50, 2000), GeometricLength(300.0),
                              100.0, 400.0, RequestStreams.spawn(8))
    replica = ContinuousBatchingReplica(cost, config, start_s=100.0)
    advances, _ = drive(replica, requests_of(trace))
    segments = [s for a in advances for s in a.segments]
    assert segments[0].start_s == 100.0
    for before, after in zip(segments, segments[1:]):
        assert after.start_s == before.end_s
    assert sum(s.duration_s for s in segments) == pytest.approx(replica.now_s - 100.0, rel=1e-12)
    busy = sum(s.duration_s for s in segments if s.phase != IDLE)
    compute = sum(s.compute_s for s in segments)
    done = completions(advances)
    assert sum(c.busy_share_s for c in done.values()) == pytest.approx(busy, rel=1e-9)
    assert sum(c.compute_share_s for c in done.values()) == pytest.approx(compute, rel=1e-9)
    assert all(s.compute_s <= s.duration_s * (1 + 1e-12) for s in segments)
    assert {s.phase for s in segments} == {PREFILL, DECODE, IDLE}


def test_single_request_latencies_are_the_step_times():
    cost = FixedStepCost(prefill_s=0.2, decode_step_s=0.03)
    replica = ContinuousBatchingReplica(cost, SchedulerConfig(8, 10_000))
    replica.enqueue(Request(7, 0.0, 100, 11))
    run = replica.run_until_idle()
    (c,) = run.completions
    assert c.time_to_first_token_s == pytest.approx(0.2)
    assert c.time_per_output_token_s == pytest.approx(0.03)
    assert c.end_to_end_latency_s == pytest.approx(0.2 + 10 * 0.03)
    assert c.queueing_delay_s == 0.0
    assert run.first_tokens[0].at_s == pytest.approx(0.2)


def test_arrival_cuts_a_decode_run_at_the_next_step_boundary():
    """Prefill stalls decode: a request arriving mid-step waits for that step, then is prefilled
    while the running sequence waits."""
    cost = FixedStepCost(prefill_s=0.5, decode_step_s=0.1)
    replica = ContinuousBatchingReplica(cost, SchedulerConfig(8, 10_000))
    replica.enqueue(Request(0, 0.0, 10, 21))          # prefill to 0.5, then 20 steps
    replica.advance_to(0.73)                           # inside decode step 3 (0.7 - 0.8)
    replica.enqueue(Request(1, 0.73, 10, 1))
    assert replica.next_change_at_s() == pytest.approx(0.8)
    done = completions([replica.run_until_idle()])
    assert done[1].admitted_s == pytest.approx(0.8)
    assert done[1].first_token_s == done[1].finish_s == pytest.approx(1.3)
    assert done[0].finish_s == pytest.approx(0.5 + 20 * 0.1 + 0.5)


def test_zero_output_request_ends_with_its_prefill():
    replica = ContinuousBatchingReplica(FixedStepCost(0.1, 0.01), SchedulerConfig(4, 1000))
    replica.enqueue(Request(0, 0.0, 50, 0))
    run = replica.run_until_idle()
    (c,) = run.completions
    assert c.finish_s == pytest.approx(0.1) and math.isnan(c.first_token_s) and not run.first_tokens


def test_refusals():
    replica = ContinuousBatchingReplica(FixedStepCost(0.1, 0.01), SchedulerConfig(4, 1000), start_s=5.0)
    with pytest.raises(ValueError, match="holds 1000"):
        replica.enqueue(Request(0, 5.0, 900, 200))
    with pytest.raises(ValueError, match="advance to the arrival"):
        replica.enqueue(Request(1, 6.0, 10, 10))
    with pytest.raises(ValueError, match="go back"):
        replica.advance_to(4.0)
    with pytest.raises(ValueError, match="prompt token"):
        replica.enqueue(Request(2, 5.0, 0, 10))
    with pytest.raises(ValueError):
        SchedulerConfig(0, 100)
