"""The flow fidelity's model of a replica under load: its operating point at an arrival rate, from the same
roofline step costs and power model as the request-level replica, and a stated queueing approximation.

A replica of the request-level service (sim/workloads/batching.py) runs continuous batching: prefill steps for
admitted requests (they stall decoding), decode steps of its running batch, idle when empty. At a steady
arrival rate lambda [requests/s] to one replica, with the per-request means of `RequestMix`:

* Compute. The tensor-core time of a prefill is additive over prompts (per token + per attended position,
  `RooflineStepCost.prefill_cost`) and that of a decode step is affine in its batch and summed context
  (`DecodeStepLaw`), so the compute time per second is EXACT and does not depend on how requests batch:
      u_compute = lambda (E[c_prefill(P)] + E[n] c_seq + E[K] c_ctx).
* Prefill busy time: each request its own prefill step (arrivals rarely share one at these rates):
      f_p = lambda E[t_prefill(P)].
* Decode. Sequences in the decode phase overlap like an infinite-server queue (each advances one token per
  step, whoever else is in the batch): by Little's law the mean number decoding is a_d = lambda T_dec with
      T_dec = E[n] tau(b) / (1 - f_p)     (n steps of tau, stretched by the prefill steps that interrupt them),
  tau(b) the roofline decode step at batch b and summed context b E[K]/E[n]. A decode step runs whenever at
  least one sequence decodes, so the mean batch per step is b = a_d / (1 - p_0), p_0 the probability that no
  seat is busy (Erlang's M/M/c p_0 with the replica's seats as servers, sim/physics/queueing.py). b and tau are
  solved together (fixed point). Decode busy time per second: f_d = lambda E[n] tau(b) / b.
* Power follows from busy = f_p + f_d and u_compute exactly as in the request-level service (P_mem per busy
  second, TDP - P_mem per tensor-core second, replica idle otherwise): only the number of decode steps, through
  b, is approximated.
* Latency of a request with prompt P and n decode steps:
      TTFT = W_seat + W_step + t_prefill(P),    latency = TTFT + n k,    k = tau(b) / (1 - f_p),
  W_step the mean residual of the step in progress (f_d tau / 2 + f_p E[t^2] / (2 E[t])), W_seat the wait for
  a seat (max_batch, or the KV cache's seats) by Allen-Cunneen's GI/G/c approximation with the seats as servers
  and the seat time t_prefill + n k as service (pooled over replicas for join_shortest_queue and
  least_outstanding_tokens, per replica with arrival SCV 1/R for round_robin). Percentiles over requests come
  from the fixed sample of (P, n) pairs in `RequestMix`, with W_seat's distribution (0, or exponential) mixed in.

Capacity: the largest rate at which the seats and the busy time both stay below 1 (the fixed point exists).
Where it breaks down is measured by benchmarks/flow_vs_request.py and stated in the README.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from sim.physics.queueing import NO_WAIT, WaitingTime, allen_cunneen_wait
from sim.workloads.request_mix import RequestMix

POOLED_ROUTERS = ("join_shortest_queue", "least_outstanding_tokens")


@dataclass(frozen=True)
class ReplicaWork:
    """What one accepted request costs a replica, from the step cost model (roofline or measured steps).

    prefill_busy_s / prefill_compute_s: mean duration and tensor-core time of its prefill step alone;
    prefill_busy_sq_s2: mean squared duration; decode_compute_per_seq_s: tensor-core time per sequence-step;
    decode_compute_per_token_s: per token of context in a decode step. `sample_prefill_s`: prefill durations of
    the mix's sample.
    """

    mix: RequestMix
    prefill_busy_s: float
    prefill_compute_s: float
    prefill_busy_sq_s2: float
    decode_compute_per_seq_s: float
    decode_compute_per_token_s: float
    sample_prefill_s: np.ndarray
    cost: object

    def decode_step_s(self, batch: float) -> float:
        """Duration of a decode step at mean batch `batch` (linear between whole batches) [s]."""
        context = batch * self.mix.context_per_decode_step
        lo = max(int(math.floor(batch)), 1)
        w = batch - lo
        t_lo = self.cost.decode_step_law(lo).step(context).time_s
        if w <= 0.0:
            return t_lo
        return (1.0 - w) * t_lo + w * self.cost.decode_step_law(lo + 1).step(context).time_s

    @property
    def compute_per_request_s(self) -> float:
        """Tensor-core time of one request [s] (exact: additive over steps)."""
        m = self.mix
        return (self.prefill_compute_s + m.decode_steps * self.decode_compute_per_seq_s
                + m.context_steps * self.decode_compute_per_token_s)


def replica_work(mix: RequestMix, cost) -> ReplicaWork:
    """Prefill means over the prompt distribution (one step cost per prompt length), decode constants."""
    support = np.flatnonzero(mix.prompt_pmf > 0.0)
    weights = mix.prompt_pmf[support]
    steps = {int(p): cost.prefill_cost([int(p)]) for p in support}
    busy = np.array([steps[int(p)].time_s for p in support])
    compute = np.array([steps[int(p)].compute_s for p in support])
    sample_prefill = np.array([steps[int(p)].time_s if int(p) in steps else cost.prefill_cost([int(p)]).time_s
                               for p in mix.sample_prompt_tokens])
    law = cost.decode_step_law(1)
    return ReplicaWork(
        mix=mix,
        prefill_busy_s=float(np.dot(weights, busy)),
        prefill_compute_s=float(np.dot(weights, compute)),
        prefill_busy_sq_s2=float(np.dot(weights, busy * busy)),
        decode_compute_per_seq_s=law.compute_fixed_s,
        decode_compute_per_token_s=law.compute_per_token_s,
        sample_prefill_s=sample_prefill,
        cost=cost,
    )


@dataclass(frozen=True)
class OperatingPoint:
    """One replica at arrival rate `arrival_rate_per_s` [requests/s] (see the module docstring)."""

    arrival_rate_per_s: float
    busy_fraction: float          # f_p + f_d
    compute_fraction: float       # tensor-core seconds per second
    decode_batch: float           # b: mean sequences per decode step
    decode_step_s: float          # tau(b)
    per_token_s: float            # k = tau / (1 - f_p): decode time per output token seen by a request
    seats_busy: float             # a: mean seats held (prefill + decode)
    step_wait_s: float            # mean wait for the step in progress, plus prefills batched with it
    seat_wait: WaitingTime        # the wait for a seat
    saturated: bool = False

    @property
    def ttft_shift_s(self) -> float:
        """What every request's TTFT adds to its own prefill, besides the seat wait [s]."""
        return self.step_wait_s


def _root(f, lo: float, hi: float, f_lo: float, f_hi: float, rel_tol: float = 1e-12) -> float:
    """A root of f in [lo, hi] where f changes sign (Illinois false position: bracketed, superlinear)."""
    side = 0
    for _ in range(200):
        x = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
        fx = f(x)
        if fx == 0.0 or hi - lo <= rel_tol * max(abs(hi), 1e-300):
            return x
        if (fx > 0.0) == (f_hi > 0.0):
            hi, f_hi = x, fx
            if side == 1:
                f_lo /= 2.0
            side = 1
        else:
            lo, f_lo = x, fx
            if side == -1:
                f_hi /= 2.0
            side = -1
        if abs(hi - lo) <= rel_tol * max(abs(x), 1e-300):
            return x
    return 0.5 * (lo + hi)


def empty_probability(decoding_per_replica: float, replicas: int, pooled: bool) -> float:
    """Probability that a replica has no sequence to decode [-], the sequences decoding as an infinite-server
    population (each leaves after its own decode time, whoever else is in the batch).

    Routed at random or round robin, each replica on its own: M/G/infinity, p_0 = exp(-a) with a the mean
    number decoding. Routed to the least loaded replica (join_shortest_queue, least_outstanding_tokens), an
    empty replica is chosen by the next arrival to any replica: a mean-field birth-death chain with arrival
    rate lambda_0 = R lambda / (1 + (R - 1) p_0) when empty (the arrivals shared by the empty replicas) and
    lambda' when not (the rest, so that the mean rate stays lambda), departures n mu:
        p_0 = 1 / (1 + (lambda_0 / lambda') (exp(lambda' / mu) - 1)),
    solved for p_0 (for R = 1 it is exp(-a)). Measured against the request-level service in
    benchmarks/flow_vs_request.py.
    """
    a = decoding_per_replica
    if a <= 0.0:
        return 1.0
    if not pooled or replicas == 1:
        return math.exp(-a)
    # in units of mu (mu = 1): lambda = a

    def gap(p0: float) -> float:
        """implied p_0 - p_0 (decreasing in p_0)."""
        rate_empty = replicas * a / (1.0 + (replicas - 1) * p0)
        rate_busy = (a - p0 * rate_empty) / (1.0 - p0)
        if rate_busy <= 0.0:
            return -1.0
        return 1.0 / (1.0 + (rate_empty / rate_busy) * math.expm1(rate_busy)) - p0

    hi = math.exp(-a)                # pooling can only shorten idle periods
    g_hi = gap(hi)
    if g_hi >= 0.0:
        return hi
    return _root(gap, 0.0, hi, gap(0.0), g_hi)


def solve_operating_point(work: ReplicaWork, rate_per_s: float, seats: int, replicas: int = 1,
                          pooled: bool = True, with_wait: bool = True) -> OperatingPoint | None:
    """The operating point of one replica at `rate_per_s`, or None beyond capacity (no fixed point with the
    seats held below the seats there are)."""
    m = work.mix
    lam = rate_per_s
    if lam <= 0.0:
        tau = work.decode_step_s(1.0)
        return OperatingPoint(0.0, 0.0, 0.0, 1.0, tau, tau, 0.0, 0.0, NO_WAIT)
    f_p = lam * work.prefill_busy_s
    if f_p >= 1.0:
        return None

    def batch_gap(b: float) -> float:
        """F(b) - b: the batch the decoding population implies at batch b, minus b."""
        a_d = lam * m.decode_steps * work.decode_step_s(b) / (1.0 - f_p)
        p0 = empty_probability(a_d, replicas, pooled)
        return (max(a_d / (1.0 - p0), 1.0) if a_d > 0 else 1.0) - b

    if m.decode_steps <= 0:
        b = 1.0
    else:
        lo, hi = 1.0, float(seats)
        g_hi = batch_gap(hi)
        if g_hi > 0.0:
            return None                    # even a full batch would not keep up
        g_lo = batch_gap(lo)               # >= 0: the batch is at least 1
        b = lo if g_lo <= 0.0 else _root(batch_gap, lo, hi, g_lo, g_hi)
    tau = work.decode_step_s(b)
    k = tau / (1.0 - f_p)
    seat_s = work.prefill_busy_s + m.decode_steps * k
    a = lam * seat_s
    if a >= seats:
        return None
    f_d = lam * m.decode_steps * tau / b if m.decode_steps > 0 else 0.0
    busy = min(f_p + f_d, 1.0)
    compute = lam * work.compute_per_request_s
    residual = f_d * tau / 2.0 + (f_p * work.prefill_busy_sq_s2 / (2.0 * work.prefill_busy_s) if f_p > 0 else 0.0)
    step_wait = residual + lam * residual * work.prefill_busy_s     # prefills of requests that arrived meanwhile
    if not with_wait:
        return OperatingPoint(lam, busy, compute, b, tau, k, a, step_wait, NO_WAIT)
    seat_times = work.sample_prefill_s + m.sample_decode_steps * k
    scv = float(seat_times.var() / seat_times.mean() ** 2) if seat_times.mean() > 0 else 0.0
    if pooled:
        wait = allen_cunneen_wait(seats * replicas, lam * replicas, seat_s, 1.0, scv)
    else:
        wait = allen_cunneen_wait(seats, lam, seat_s, 1.0 / replicas, scv)
    return OperatingPoint(lam, busy, compute, b, tau, k, a, step_wait, wait)


def capacity_per_replica(work: ReplicaWork, seats: int, replicas: int = 1, pooled: bool = True) -> float:
    """The largest arrival rate [requests/s] one replica sustains (bisection on where the fixed point exists)."""
    lo, hi = 0.0, 1.0 / work.prefill_busy_s if work.prefill_busy_s > 0 else 1e9
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if solve_operating_point(work, mid, seats, replicas, pooled, with_wait=False) is None:
            hi = mid
        else:
            lo = mid
        if hi - lo <= 1e-12 * hi:
            break
    return lo


class OperatingTable:
    """Operating points on a grid of arrival rates, linearly interpolated: a step of the flow service costs a
    lookup, not a fixed-point solve (the grid is fine enough that interpolation moves no figure by 1e-4)."""

    GRID_POINTS = 512

    def __init__(self, work: ReplicaWork, seats: int, replicas: int, pooled: bool):
        self.work = work
        self.seats = seats
        self.capacity_per_s = capacity_per_replica(work, seats, replicas, pooled)
        top = self.capacity_per_s * (1.0 - 1e-6)
        rates = np.linspace(0.0, top, self.GRID_POINTS)
        points = [solve_operating_point(work, float(r), seats, replicas, pooled) for r in rates]
        points = [p for p in points if p is not None]
        self.points = points
        self.rates = [p.arrival_rate_per_s for p in points]
        self.saturation = points[-1]
        self._columns = {name: np.array([getattr(p, name) for p in points]) for name in
                         ("busy_fraction", "compute_fraction", "decode_batch", "decode_step_s", "per_token_s",
                          "seats_busy", "step_wait_s")}
        self._p_wait = np.array([p.seat_wait.p_wait for p in points])
        self._wait_mean = np.array([p.seat_wait.delayed_mean_s for p in points])

    def at(self, rate_per_s: float) -> OperatingPoint:
        """The operating point at `rate_per_s` (the saturation point beyond capacity)."""
        if rate_per_s >= self.rates[-1]:
            return self.saturation
        if rate_per_s <= 0.0:
            return self.points[0]
        i = bisect_right(self.rates, rate_per_s) - 1
        r0, r1 = self.rates[i], self.rates[i + 1]
        w = (rate_per_s - r0) / (r1 - r0)
        c = self._columns

        def mix(name: str) -> float:
            return float(c[name][i] * (1.0 - w) + c[name][i + 1] * w)

        wait = WaitingTime(float(self._p_wait[i] * (1 - w) + self._p_wait[i + 1] * w),
                           float(self._wait_mean[i] * (1 - w) + self._wait_mean[i + 1] * w))
        return OperatingPoint(rate_per_s, mix("busy_fraction"), rate_per_s * self.work.compute_per_request_s,
                              mix("decode_batch"), mix("decode_step_s"), mix("per_token_s"), mix("seats_busy"),
                              mix("step_wait_s"), wait)
