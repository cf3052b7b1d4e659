"""Inference services at flow fidelity (`fidelity = "flow"`): counts per step instead of one object per request.

The service takes its nodes like the request-level service (sim/workloads/service.py) and advances in steps,
one per meter bin (the output interval, or the matching bin under an hourly clean-energy contract). In a step
[t0, t1):

1. Arrivals: A ~ Poisson(Lambda) with Lambda = integral of the arrival rate over the step (closed forms for a
   constant and the diurnal profile, the step integral of a rate file: exact for a non-homogeneous Poisson
   process, whose counts in disjoint windows are independent Poisson variables); a replayed trace gives its
   exact count. Prompts as long as the context window are refused: Binomial(A, 1 - accepted fraction).
2. Service: the replicas serve at most capacity x (t1 - t0) requests (capacity from `flow_model`); the rest
   waits in a queue carried to the next step, served first (FIFO).
3. Power: the replicas' busy and tensor-core fractions at the served rate (`OperatingTable`, same roofline and
   power model as the request-level replica) give the service's GPU and host power, one change of the meter
   per step (so energy, overhead and carbon per interval are exact for that power).
4. Latency: each step keeps its operating point (per-token time k, waits); the percentiles of an interval, and
   of the whole run, are those of the mixture of the steps' latency distributions, weighted by requests served
   (`LatencyDistribution`), with a backlog's mean wait added to the requests of a step that had one.

What is approximated is stated in sim/workloads/flow_model.py; how well it agrees with the request-level
service, and where it breaks down, is measured by benchmarks/flow_vs_request.py (README, "Speed and scale").
Request counts are integers; token counts are the served requests times the mean tokens per request.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np
import simpy

from sim.config.schema import ServiceSpec
from sim.engine.meter import Meter
from sim.engine.streams import RandomStreams
from sim.errors import DataFileError
from sim.facility.cluster import Cluster
from sim.units import G_PER_KG, J_PER_KWH
from sim.workloads.arrivals import EmpiricalLength, read_azure_llm_trace
from sim.workloads.flow_model import POOLED_ROUTERS, OperatingTable, replica_work
from sim.workloads.request_mix import request_mix
from sim.workloads.service import plan_service, service_power, service_rate_profile, step_cost

# Gauss-Laguerre nodes and weights: E[f(W)] for W exponential with mean m is sum_i w_i f(m x_i) (exact for
# polynomials of degree < 2 x 12 in W), the seat wait mixed into latency percentiles.
_LAGUERRE_X, _LAGUERRE_W = np.polynomial.laguerre.laggauss(12)
_K_GRID_POINTS = 64          # per-token times at which the latency sample is kept sorted
_BISECTION_STEPS = 60        # a percentile to 2^-60 of its bracket


def seats_per_replica(max_batch: int, kv_capacity_tokens: int, mean_kv_tokens: float) -> int:
    """Sequences a replica's running batch holds: max_batch, or fewer if the KV cache fills first (each
    sequence reserves its whole prompt + output at admission)."""
    kv_seats = int(kv_capacity_tokens // mean_kv_tokens) if mean_kv_tokens > 0 else max_batch
    return max(1, min(max_batch, kv_seats))


class LatencyDistribution:
    """Latencies of requests with the sample's (prefill time t_i, decode steps n_i) at a per-token time k:

        latency = shift + W + t_i + n_i k,       TTFT = shift + W + t_i,

    W the seat wait (0 with probability 1 - p, else exponential with mean m). The sample is kept sorted at a
    log-spaced grid of k; between grid points the CDFs are interpolated linearly in k.
    """

    def __init__(self, prefill_s: np.ndarray, decode_steps: np.ndarray, k_min: float, k_max: float):
        self.prefill_sorted = np.sort(prefill_s)
        k_min = max(k_min, 1e-9)
        k_max = max(k_max, k_min * 1.0001)
        self.k_grid = np.geomspace(k_min, k_max, _K_GRID_POINTS)
        self.sorted = np.sort(prefill_s[None, :] + decode_steps[None, :] * self.k_grid[:, None], axis=1)
        self.size = prefill_s.size
        self._log_k_list = np.log(self.k_grid).tolist()
        self._quantile_columns: dict[int, list[float]] = {}
        self.has_decode = decode_steps > 0
        self.decode_fraction = float(np.mean(self.has_decode))

    def quantile(self, metric: str, probability: float, k: float) -> float:
        """The `probability` quantile of t_i + n_i k ('latency') or t_i ('ttft') over the sample (the smallest
        value with at least that share of the sample at or below it), interpolated linearly in log k between
        grid points: one lookup, for an interval of one step and no seat wait."""
        rank = min(max(math.ceil(probability * self.size) - 1, 0), self.size - 1)
        if metric == "ttft":
            return float(self.prefill_sorted[rank])
        column = self._quantile_columns.get(rank)
        if column is None:
            column = self._quantile_columns[rank] = self.sorted[:, rank].tolist()
        grid = self._log_k_list
        x = math.log(max(k, 1e-300))
        g = min(max(bisect_right(grid, x) - 1, 0), len(grid) - 2)
        w = min(max((x - grid[g]) / (grid[g + 1] - grid[g]), 0.0), 1.0)
        return (1.0 - w) * column[g] + w * column[g + 1]

    def _cdf_at_grid(self, g: int, y: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.sorted[g], y, side="right") / self.size

    def _cdf_latency(self, k: np.ndarray, y: np.ndarray) -> np.ndarray:
        """P(t_i + n_i k <= y), element-wise over arrays k and y."""
        position = np.interp(np.log(np.maximum(k, 1e-300)), np.log(self.k_grid), np.arange(self.k_grid.size))
        g = np.minimum(np.floor(position).astype(np.int64), self.k_grid.size - 2)
        w = position - g
        out = np.empty(y.shape)
        for grid in np.unique(g):
            sel = g == grid
            lo = self._cdf_at_grid(grid, y[sel])
            hi = self._cdf_at_grid(grid + 1, y[sel])
            out[sel] = (1.0 - w[sel]) * lo + w[sel] * hi
        return out

    def _cdf_ttft(self, k: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.prefill_sorted, y, side="right") / self.size

    def weighted_cdf(self, metric: str, x: float, weights: np.ndarray, k: np.ndarray, shift: np.ndarray,
                     p_wait: np.ndarray, wait_mean: np.ndarray) -> float:
        """Requests (weights_j of component j: per-token time k_j, shift_j, seat wait (p_wait_j, wait_mean_j))
        whose `metric` ('latency' or 'ttft') is at most x."""
        cdf = self._cdf_latency if metric == "latency" else self._cdf_ttft
        y = x - shift
        value = (1.0 - p_wait) * cdf(k, y)
        waiting = p_wait > 0.0
        if waiting.any():
            ks, ys, ms = k[waiting], y[waiting], wait_mean[waiting]
            waited = np.zeros(ys.shape)
            for node, weight in zip(_LAGUERRE_X, _LAGUERRE_W):
                waited += weight * cdf(ks, ys - ms * node)
            value[waiting] += p_wait[waiting] * waited
        return float(np.dot(weights, value))

    def upper_bound(self, metric: str, k: np.ndarray, shift: np.ndarray, wait_mean: np.ndarray) -> float:
        """A value above most of the mixture (a start for bracketing)."""
        top = self.sorted[-1, -1] * max(1.0, float(np.max(k, initial=0.0)) / self.k_grid[-1]) \
            if metric == "latency" else self.prefill_sorted[-1]
        return float(np.max(shift, initial=0.0) + top + 50.0 * float(np.max(wait_mean, initial=0.0)))


def mixture_quantiles(metric: str, probabilities: tuple[float, ...], parts: list, extra=None) -> list[float]:
    """Percentiles (probabilities in [0, 1]) of `metric` over the requests of several components.

    parts: (LatencyDistribution, weights, k, shift, p_wait, wait_mean) per flow service, arrays over its steps;
    extra: exact values (requests of request-level services) pooled with them. Bisection on the mixture CDF.
    """
    extra = np.sort(np.asarray(extra, dtype=float)) if extra is not None and len(extra) else np.empty(0)
    if len(parts) == 1 and not extra.size and len(parts[0][1]) == 1 and parts[0][4][0] < 1e-9:
        # one step of one service with no seat wait (below 1e-9 it moves no percentile): shift + a quantile of
        # the sample (a lookup)
        dist, _, k, shift, _, _ = parts[0]
        return [float(shift[0]) + dist.quantile(metric, p, float(k[0])) for p in probabilities]
    total = sum(float(np.sum(part[1])) for part in parts) + extra.size
    if total <= 0:
        return [math.nan] * len(probabilities)

    def cdf(x: float) -> float:
        inside = sum(dist.weighted_cdf(metric, x, *arrays) for dist, *arrays in parts)
        return (inside + np.searchsorted(extra, x, side="right")) / total

    hi_start = max([dist.upper_bound(metric, k, shift, m) for dist, _, k, shift, _, m in parts] + [1e-6])
    if extra.size:
        hi_start = max(hi_start, float(extra[-1]))
    out = []
    for p in probabilities:
        lo, hi = 0.0, hi_start
        while cdf(hi) < p:
            lo, hi = hi, hi * 2.0
        for _ in range(_BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            if cdf(mid) >= p:
                hi = mid
            else:
                lo = mid
            if hi - lo <= 1e-9 * hi:
                break
        out.append(hi)
    return out


@dataclass
class _Step:
    start_s: float
    end_s: float
    served: int
    per_token_s: float
    latency_shift_s: float
    ttft_shift_s: float
    p_wait: float
    wait_mean_s: float


class FlowService:
    """One service at flow fidelity: its nodes, its operating table and the SimPy process that steps it."""

    fidelity = "flow"

    def __init__(self, env: simpy.Environment, cluster: Cluster, meter: Meter, spec: ServiceSpec,
                 streams: RandomStreams, start_epoch_s: float, window_s: float | None):
        self.env = env
        self.cluster = cluster
        self.meter = meter
        self.spec = spec
        self.name = spec.name
        self.plan = plan_service(spec, cluster.node)
        self.power = service_power(self.plan)
        self.bin_s = meter.bin_s
        self.rng = streams.generator(f"service:{spec.name}:flow_arrivals")
        length_rng = streams.generator(f"service:{spec.name}:flow_lengths")
        context = self.plan.context_tokens
        self._trace_arrivals = None
        if spec.arrivals.process == "trace":
            trace = read_azure_llm_trace(spec.arrivals.file)
            if len(trace) == 0:
                raise DataFileError(spec.arrivals.file, "the trace holds no request")
            self._trace_arrivals = trace.arrival_s - trace.arrival_s[0]
            span_s = float(self._trace_arrivals[-1])
            self.window_s = window_s if window_s is not None else spec.start_at + span_s
            prompts = EmpiricalLength.from_samples(trace.prompt_tokens)
            outputs = EmpiricalLength.from_samples(trace.output_tokens)
            self.profile = None
        else:
            self.window_s = float(window_s)
            self.profile = service_rate_profile(spec, start_epoch_s, self.window_s)
            prompts = spec.prompt_tokens.distribution_object()
            outputs = spec.output_tokens.distribution_object()
        self.mix = request_mix(prompts, outputs, context, length_rng)
        self.work = replica_work(self.mix, step_cost(self.plan))
        self.seats = seats_per_replica(spec.max_batch, self.plan.scheduler.kv_capacity_tokens, self.mix.kv_tokens)
        self.table = OperatingTable(self.work, self.seats, spec.replicas, spec.router in POOLED_ROUTERS)
        self.capacity_per_s = self.table.rates[-1] * spec.replicas
        self.latency = LatencyDistribution(self.work.sample_prefill_s, self.mix.sample_decode_steps,
                                           self.table.points[0].per_token_s, self.table.saturation.per_token_s)

        # counters and the per-step record (for interval columns and the run's percentiles: 7 floats a step)
        self.arrived = self.rejected = self.served = 0
        self.backlog = 0
        self.busy_replica_s = 0.0
        self._steps: list[_Step] = []          # steps not yet reported in an output interval
        self._record = {name: array("d") for name in ("served", "k", "lat_shift", "ttft_shift", "p", "m")}
        self.started_at_s = env.now + spec.start_at
        self.finished_at_s: float | None = None
        self.done = False
        self.group = None
        if spec.start_at == 0:          # nodes now, before any job asks (as the request-level service)
            request = cluster.request(self.plan.gpus)
            if not request.triggered:
                raise ValueError(f"service {self.name}: the cluster has no {self.plan.nodes} free nodes")
            self._take_nodes()
        self.process = env.process(self._run())

    def _take_nodes(self) -> None:
        self.group = self.cluster.take(self.plan.gpus, owner=self.name)
        self.group.set_power(self.env.now, self.power.gpu_constant_w, self.power.host_constant_w)

    # ---- the process --------------------------------------------------------------------------------
    def _arrivals(self, t0: float, t1: float) -> int:
        if self._trace_arrivals is not None:
            lo, hi = np.searchsorted(self._trace_arrivals, [t0, t1], side="left")
            return int(hi - lo)
        return int(self.rng.poisson(self.profile.expected_count(t0, t1)))

    def _run(self):
        env, bin_s, replicas = self.env, self.bin_s, self.spec.replicas
        if self.group is None:          # a service that starts later: at start_at, it waits for free nodes
            yield env.timeout(self.spec.start_at)
            yield self.cluster.request(self.plan.gpus)
            self._take_nodes()
            self.started_at_s = env.now
            if self._trace_arrivals is not None:
                self._trace_arrivals = self._trace_arrivals + env.now
        t = env.now
        while t < self.window_s or self.backlog > 0:
            boundary = (math.floor(t / bin_s) + 1.0) * bin_s
            t_end = min(boundary, self.window_s) if t < self.window_s else boundary
            if t_end <= t:
                t_end = boundary
            dt = t_end - t
            arrived = self._arrivals(t, t_end) if t < self.window_s else 0
            rejected = int(self.rng.binomial(arrived, 1.0 - self.mix.accepted_fraction)) if arrived else 0
            queue_before = self.backlog
            waiting = queue_before + arrived - rejected
            served = min(waiting, int(self.capacity_per_s * dt))
            self.backlog = waiting - served
            point = self.table.at(served / (dt * replicas))
            gpu_w, host_w = self.power.power_w(replicas * point.busy_fraction, replicas * point.compute_fraction)
            self.group.set_power(t, gpu_w, host_w)
            self.arrived += arrived
            self.rejected += rejected
            self.served += served
            self.busy_replica_s += replicas * point.busy_fraction * dt
            # Waiting for a seat. Overloaded (a backlog at the start or end of the step): the backlog's mean wait,
            # queue at the start and end of the step drained at capacity, replaces the stationary wait. Otherwise
            # the stationary (Allen-Cunneen) wait, its delayed mean capped at the step's length: close to capacity
            # it grows without bound, but a queue that forms within one step cannot hold anyone longer.
            if queue_before or self.backlog:
                backlog_wait = (queue_before + self.backlog) / 2.0 / self.capacity_per_s
                p_wait, wait_mean = 0.0, 0.0
            else:
                backlog_wait = 0.0
                p_wait, wait_mean = point.seat_wait.p_wait, min(point.seat_wait.delayed_mean_s, dt)
            step = _Step(t, t_end, served, point.per_token_s, point.step_wait_s + backlog_wait,
                         point.ttft_shift_s + backlog_wait, p_wait, wait_mean)
            self._steps.append(step)
            if served:
                for name, value in (("served", served), ("k", step.per_token_s), ("lat_shift", step.latency_shift_s),
                                    ("ttft_shift", step.ttft_shift_s), ("p", step.p_wait), ("m", step.wait_mean_s)):
                    self._record[name].append(value)
            yield env.timeout(dt)
            t = t_end
        self.finished_at_s = t
        self.done = True
        self.cluster.release(self.group)

    # ---- results ------------------------------------------------------------------------------------
    def interval_steps(self, start_s: float, end_s: float) -> list[_Step]:
        """The steps within the output interval [start_s, end_s), handed out once."""
        steps = self._steps              # in time order: the interval's steps are the ones ending by its end
        n = 0
        while n < len(steps) and steps[n].end_s <= end_s + 1e-9:
            n += 1
        taken, self._steps = steps[:n], steps[n:]
        return taken

    def return_steps(self, steps: list[_Step]) -> None:
        """Put steps taken by `interval_steps` back (they are reported by the caller's general path)."""
        self._steps[:0] = steps

    def _components(self) -> tuple[np.ndarray, ...]:
        r = self._record
        return tuple(np.frombuffer(r[name], dtype=float) if len(r[name]) else np.empty(0)
                     for name in ("served", "k", "lat_shift", "ttft_shift", "p", "m"))

    def held_s(self, end_s: float) -> float:
        """How long the service held its nodes [s] (0 if it never got them)."""
        if self.group is None:
            return 0.0
        return (self.finished_at_s if self.finished_at_s is not None else end_s) - self.started_at_s

    def held_node_s(self, end_s: float) -> float:
        """Node-seconds the service held [node x s]."""
        return self.plan.nodes * self.held_s(end_s)

    def summary(self, end_s: float) -> dict:
        """The service's section of summary.json (the request-level keys, from the flow's distributions)."""
        spec, plan, mix = self.spec, self.plan, self.mix
        served, k, lat_shift, ttft_shift, p, m = self._components()
        totals = self.meter.owner_total(self.name)
        facility_j = totals.facility_energy_j if totals is not None else 0.0
        completed = self.served
        output_total = completed * mix.output_tokens
        probabilities = (0.5, 0.9, 0.99)
        if completed:
            ttft = mixture_quantiles("ttft", probabilities, [(self.latency, served, k, ttft_shift, p, m)])
            latency = mixture_quantiles("latency", probabilities, [(self.latency, served, k, lat_shift, p, m)])
            tpot_weights = served * self.latency.decode_fraction
            order = np.argsort(k)
            cum = np.cumsum(tpot_weights[order]) / tpot_weights.sum() if tpot_weights.sum() > 0 else None
            tpot = [float(k[order][np.searchsorted(cum, q)]) if cum is not None else None for q in probabilities]
            wait_mean = float(np.dot(served, ttft_shift + p * m) / served.sum())
        else:
            ttft = latency = tpot = [None] * 3
            wait_mean = None
        simulated_s = self.held_s(end_s)
        slo = spec.slo
        q = slo.percentile
        judged = {}
        for key, target in (("ttft_s", slo.ttft_s), ("latency_s", slo.latency_s), ("tpot_s", slo.tpot_s)):
            if target is None or not completed:
                continue
            if key == "tpot_s":
                weights = served * self.latency.decode_fraction
                order = np.argsort(k)
                cum = np.cumsum(weights[order]) / weights.sum()
                at = float(k[order][min(np.searchsorted(cum, q / 100.0), len(k) - 1)])
            else:
                metric = "ttft" if key == "ttft_s" else "latency"
                shift = ttft_shift if metric == "ttft" else lat_shift
                at = mixture_quantiles(metric, (q / 100.0,), [(self.latency, served, k, shift, p, m)])[0]
            judged[key] = {"target": target, f"p{q:g}": at, "met": at <= target}
        return {
            "service": self.name,
            "fidelity": "flow",
            "model": plan.replica.model.label,
            "gpu": plan.node.gpu.name,
            "replicas": spec.replicas,
            "tensor_parallel": spec.tensor_parallel,
            "nodes": plan.nodes,
            "router": spec.router,
            "arrival_window_s": self.window_s - self.spec.start_at,
            "requests": self.arrived,
            "completed": completed,
            "unfinished": self.backlog,
            "rejected": self.rejected,
            "prompt_tokens": round(completed * mix.prompt_tokens),
            "output_tokens": round(output_total),
            "output_tokens_per_s": output_total / simulated_s if simulated_s > 0 else None,
            "replica_busy_fraction": self.busy_replica_s / (spec.replicas * simulated_s) if simulated_s > 0 else None,
            **{f"ttft_p{round(x * 100)}_s": v for x, v in zip(probabilities, ttft)},
            **{f"latency_p{round(x * 100)}_s": v for x, v in zip(probabilities, latency)},
            **{f"tpot_p{round(x * 100)}_s": v for x, v in zip(probabilities, tpot)},
            "queueing_delay_mean_s": wait_mean,
            "slo": {"percentile": q, **judged, "attainment": None},
            "energy_kwh": facility_j / J_PER_KWH,
            "attributed_energy_kwh": facility_j / J_PER_KWH,
            "energy_per_request_j": facility_j / completed if completed else None,
            "energy_per_output_token_j": facility_j / output_total if output_total else None,
            "gpu_energy_per_output_token_j": None,
            "carbon_kg": (totals.carbon_g / G_PER_KG) if totals is not None else 0.0,
            "carbon_per_request_g": totals.carbon_g / completed if completed and totals is not None else None,
            "flow": {
                "capacity_requests_per_s": self.capacity_per_s,
                "seats_per_replica": self.seats,
                "accepted_fraction": mix.accepted_fraction,
                "mean_prompt_tokens": mix.prompt_tokens,
                "mean_output_tokens": mix.output_tokens,
                "approximation": "operating point of continuous batching from the roofline step costs (Little's "
                                 "law, Poisson decoding population); seat wait by Allen-Cunneen GI/G/c; "
                                 "sim/workloads/flow_model.py",
            },
        }


# ------------------------------------------------------------------------------ per-interval columns
class ServiceColumns:
    """The per-interval request columns of timeseries.parquet over every service, request-level and flow
    (the rules of `sim.workloads.service.RequestColumns`; percentiles pool the requests of request-level
    services with the flow services' distributions, weighted by requests served)."""

    def __init__(self, services: list):
        self.services = services
        self.request_level = [s for s in services if getattr(s, "fidelity", "request") == "request"]
        self.flows = [s for s in services if getattr(s, "fidelity", "request") == "flow"]
        from sim.workloads.service import RequestColumns

        self._request_columns = RequestColumns(self.request_level)

    def __call__(self, start_s: float, end_s: float) -> dict:
        if not self.flows:
            return self._request_columns(start_s, end_s)
        ttft: list[float] = []
        latency: list[float] = []
        prompt = output = 0.0
        count = 0
        for service in self.request_level:
            batch = service.close_interval(start_s, end_s)
            output_tokens = batch["output_tokens"]
            count += output_tokens.size
            prompt += float(batch["prompt_tokens"].sum())
            output += float(output_tokens.sum())
            latency.extend((batch["finish_s"] - batch["arrival_s"]).tolist())
            ttft.extend((batch["first_token_s"] - batch["arrival_s"])[output_tokens >= 1].tolist())
        values = {"ttft": (math.nan, math.nan), "latency": (math.nan, math.nan)}
        if not ttft and not latency and len(self.flows) == 1:
            # the common case, one flow service: one step per interval and no seat wait is a lookup
            service = self.flows[0]
            steps = [s for s in service.interval_steps(start_s, end_s) if s.served]
            if len(steps) == 1 and steps[0].p_wait < 1e-9:
                step, dist, mix = steps[0], service.latency, service.mix
                return {"requests": float(step.served), "prompt_tokens": step.served * mix.prompt_tokens,
                        "output_tokens": step.served * mix.output_tokens,
                        "ttft_p50_s": step.ttft_shift_s + dist.quantile("ttft", 0.5, step.per_token_s),
                        "ttft_p99_s": step.ttft_shift_s + dist.quantile("ttft", 0.99, step.per_token_s),
                        "latency_p50_s": step.latency_shift_s + dist.quantile("latency", 0.5, step.per_token_s),
                        "latency_p99_s": step.latency_shift_s + dist.quantile("latency", 0.99, step.per_token_s)}
            service.return_steps(steps)
        parts = []
        for service in self.flows:
            steps = [s for s in service.interval_steps(start_s, end_s) if s.served]
            served = sum(s.served for s in steps)
            count += served
            prompt += served * service.mix.prompt_tokens
            output += served * service.mix.output_tokens
            if steps:
                parts.append((service, steps))
        for metric, exact in (("ttft", ttft), ("latency", latency)):
            if not parts and not exact:
                continue
            shift_field = "latency_shift_s" if metric == "latency" else "ttft_shift_s"
            components = [(service.latency, *(np.array([getattr(s, f) for s in steps], dtype=float) for f in
                                              ("served", "per_token_s", shift_field, "p_wait", "wait_mean_s")))
                          for service, steps in parts]
            values[metric] = tuple(mixture_quantiles(metric, (0.5, 0.99), components, extra=exact))
        return {"requests": float(count), "prompt_tokens": float(prompt), "output_tokens": float(output),
                "ttft_p50_s": values["ttft"][0], "ttft_p99_s": values["ttft"][1],
                "latency_p50_s": values["latency"][0], "latency_p99_s": values["latency"][1]}
