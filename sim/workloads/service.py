"""Inference services as SimPy processes: requests, replicas, routing, energy and latency per request.

A service (`[[services]]`) serves one model on `replicas` replicas of `tensor_parallel` GPUs each.

Nodes. A replica lives inside one node (tensor_parallel divides the node's gpus_per_node). At the start
of the run the service takes ceil(replicas x tensor_parallel / gpus_per_node) whole nodes from the
cluster's idle pool (`Cluster.request`/`take`, before any job asks), so the idle pool is charged only
for the nodes nobody holds; the service gives them back (`Cluster.release`) when its arrival window has
closed and its last request is done. GPUs of the service's nodes that no replica uses stay idle
(activity 0) and are charged to the service.

Requests. Arrival instants and token counts are drawn up front from the service's own named streams
(`service:<name>:arrivals`, `...:prompt_tokens`, `...:output_tokens`), so two runs with the same seed,
whatever their policies, see the same requests. A prompt as long as the model's context window or
longer is rejected (vLLM refuses it); an output is cut where prompt + output reaches the window
(generation stops at max_model_len).

One process per service. It keeps a heap of the replicas' next changes (end of a prefill step, end of
a run of decode steps: a first token or a completion, or the step boundary at which an arrival is
admitted) and the next arrival. Between two of these instants nothing changes, so the process handles
one instant at a time: never one event per decode step. It goes further: nothing outside the service
depends on its internal instants, so it handles every instant up to the next moment at which anything
else in the simulation can happen (`env.peek()`: a job, a grid signal, the end of the run) or the next
output-interval boundary, without a SimPy event for each; then it hands the meter the exact energy of
that stretch as a constant power over it (`ConstantPower` between wake-ups). The meter's state
(other loads, carbon intensity, weather) is constant over such a stretch by construction, so every
output interval, the carbon of each interval and the service's totals are exact; only the timing of
the service's power inside a stretch is averaged, which no output resolves. The replicas and the router
run compiled (sim/workloads/batching_kernel.py: the same arithmetic on arrays, bit for bit, 12x faster a run)
for the routers and step-cost models it knows, autoscaled or not; the Python classes of
sim/workloads/batching.py remain the reference, and serve any other.

Power (sim/physics/inference_power.py): each replica's GPUs draw idle + (tdp - idle) x activity, with
activity a_mem + (1 - a_mem) u during a step (u: tensor-core share of the step) and 0.078 between
steps (model resident); the hosts of the service's nodes follow the same activity (their share per
GPU), spare GPUs and their host share idle. The energy of a stretch follows from two numbers per
replica, its busy and tensor-core time (`ContinuousBatchingReplica.busy_compute_s`).

Autoscaling (policies.autoscaling = "target_utilisation", sim/policies/autoscaling/): `replicas` is then
the most the service may run (and what it starts with). Every `interval` the policy sees the busy share
of the serving replicas and recommends a count. Scaling in, the service stops routing to the replicas it
retires (draining); once a draining replica is empty it is parked (model unloaded: its GPUs idle), and a
node whose replicas are all parked goes back to the cluster, where jobs may use it or the idle policy
put it to sleep. Scaling out, it takes draining replicas back at once, then parked ones: on a node it
still holds, or on a node it asks the cluster for again (before any job, but it waits for one to free);
a replica serves only after `warm_up` (weights loading, at the replica-idle draw). Changes happen only at
the autoscaler's instants, which are outside events for the service's run-ahead, so every stretch keeps
one power and the accounting stays exact.

Attribution (`requests.parquet`, energy_j and carbon_g): a request's direct energy is its share of the
GPU energy of the steps it was in (prefill shared by prompt tokens, decode steps equally per sequence).
In each output interval, the service's facility energy (its GPUs busy and idle, spare GPUs, hosts, and
its share of cooling, power losses and misc, as the meter attributes them) and the carbon of that
energy are shared among the requests that completed in the interval, in proportion to their direct
energy. An interval in which no request completes passes its energy and carbon on to the next one in
which one does; after the last completion they go back to the last interval with completions. So the
per-request energies add up to the service's facility energy, and carbon to its carbon, exactly.
Requests still queued or running when the run ends are listed as unfinished with no energy.
"""

from __future__ import annotations

import heapq
import math
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import simpy

from sim.catalog.hardware import NodeSpec
from sim.catalog.llm_models import ServedModel, precision
from sim.config.schema import ServiceSpec
from sim.engine.meter import Meter
from sim.engine.streams import RandomStreams
from sim.errors import DataFileError
from sim.facility.cluster import Cluster, NodeGroup
from sim.output.request_log import RequestLog
from sim.physics.inference_power import (
    MEMORY_BOUND_ACTIVITY,
    REPLICA_IDLE_ACTIVITY,
    memory_bound_power_w,
    replica_idle_power_w,
)
from sim.physics.power import gpu_power_w
from sim.physics.roofline import ReplicaSpec, RooflineStepCost, ServingEfficiency
from sim.policies.routing import make_router
from sim.units import G_PER_KG, J_PER_KWH
from sim.workloads.arrivals import (
    ConstantRate,
    DiurnalWeeklyRate,
    RequestStreams,
    RequestTrace,
    ShiftedRate,
    StepRate,
    generate_requests,
    read_azure_llm_trace,
)
from sim.workloads.batching import (
    CompletedRequest,
    ContinuousBatchingReplica,
    FixedStepCost,
    Request,
    SchedulerConfig,
)

# Run the replicas compiled (sim/workloads/batching_kernel.py) where it reproduces them: the same numbers, a run of
# requests 12x faster. Tests set it False to run the Python classes, the reference, side by side.
COMPILED_REPLICAS = True

COMPLETED = "completed"
UNFINISHED = "unfinished"
REJECTED = "rejected"

# Per-interval columns added to timeseries.parquet when the scenario has services (all services pooled).
TIMESERIES_REQUEST_COLUMNS = ("requests", "prompt_tokens", "output_tokens", "ttft_p50_s", "ttft_p99_s",
                              "latency_p50_s", "latency_p99_s")


# ------------------------------------------------------------------------------------------ planning
@dataclass(frozen=True)
class ServicePlan:
    """A service resolved against the cluster's node: what it runs on and how its power is computed."""

    spec: ServiceSpec
    node: NodeSpec
    replica: ReplicaSpec
    nodes: int
    gpus: int               # GPUs of the service's nodes (replicas x tensor_parallel + spare)
    spare_gpus: int
    scheduler: SchedulerConfig

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def context_tokens(self) -> int:
        return self.replica.architecture.max_context_tokens


def plan_service(spec: ServiceSpec, node: NodeSpec) -> ServicePlan:
    """Resolve `spec` on `node` (raises ValueError with a plain message when it cannot run)."""
    model = ServedModel(spec.architecture(), precision(spec.weights_precision), precision(spec.kv_cache_precision))
    efficiency = ServingEfficiency(spec.efficiency.compute, spec.efficiency.memory_bandwidth,
                                   spec.efficiency.hbm_usable_fraction)
    replica = ReplicaSpec(model, node.gpu, spec.tensor_parallel, efficiency)
    replica.require_fit()
    used = spec.replicas * spec.tensor_parallel
    nodes = -(-used // node.gpus_per_node)
    scheduler = SchedulerConfig(
        max_batch_size=spec.max_batch,
        kv_capacity_tokens=replica.kv_capacity_tokens,
        max_prefill_tokens=spec.max_prefill_tokens or replica.architecture.max_context_tokens,
    )
    return ServicePlan(spec, node, replica, nodes, nodes * node.gpus_per_node,
                       nodes * node.gpus_per_node - used, scheduler)


def step_cost(plan: ServicePlan):
    """The replica's step costs: measured step times when the scenario gives them, else the roofline."""
    times = plan.spec.step_times
    if times is not None:
        return FixedStepCost(times.prefill_s, times.decode_step_s, times.compute_fraction)
    return RooflineStepCost(plan.replica)


@dataclass(frozen=True)
class ServicePower:
    """The service's GPU and host power [W] = constant + per_busy x (busy replica-seconds per second)
    + per_compute x (tensor-core replica-seconds per second) (sim/physics/inference_power.py: each replica's
    GPUs draw idle + (tdp - idle) x activity, activity a_mem + (1 - a_mem) u in a step and the resident-model
    activity between steps; hosts follow their GPUs' activity; spare GPUs idle). direct_per_busy_w: a replica's
    GPUs per busy second (a request's direct energy)."""

    gpu_constant_w: float
    gpu_per_busy_w: float
    gpu_per_compute_w: float
    host_constant_w: float
    host_per_busy_w: float
    host_per_compute_w: float
    direct_per_busy_w: float

    def power_w(self, busy_replicas: float, compute_replicas: float) -> tuple[float, float]:
        """(GPU, host) power [W] with `busy_replicas` busy and `compute_replicas` tensor-core replica-seconds
        per second."""
        return (self.gpu_constant_w + self.gpu_per_busy_w * busy_replicas + self.gpu_per_compute_w * compute_replicas,
                self.host_constant_w + self.host_per_busy_w * busy_replicas
                + self.host_per_compute_w * compute_replicas)


def service_power(plan: ServicePlan) -> ServicePower:
    spec = plan.spec
    tp, gpn = spec.tensor_parallel, plan.node.gpus_per_node
    gpu = plan.node.gpu
    p_mem, p_ridle = memory_bound_power_w(gpu), replica_idle_power_w(gpu)
    host_range_w = plan.node.host_max_w - plan.node.host_idle_w
    host_share = tp / gpn
    return ServicePower(
        gpu_constant_w=spec.replicas * tp * p_ridle + plan.spare_gpus * gpu_power_w(gpu, 0.0),
        gpu_per_busy_w=tp * (p_mem - p_ridle),
        gpu_per_compute_w=tp * (gpu.tdp_w - p_mem),
        host_constant_w=(plan.nodes * plan.node.host_idle_w
                         + spec.replicas * host_share * host_range_w * REPLICA_IDLE_ACTIVITY),
        host_per_busy_w=host_share * host_range_w * (MEMORY_BOUND_ACTIVITY - REPLICA_IDLE_ACTIVITY),
        host_per_compute_w=host_share * host_range_w * (1.0 - MEMORY_BOUND_ACTIVITY),
        direct_per_busy_w=tp * p_mem,
    )


def service_cross_checks(scenario, where: str) -> list[str]:
    """Checks of [[services]] against the cluster, each with the TOML path of the key to change."""
    problems: list[str] = []
    node = scenario.cluster.node_spec()
    free_nodes = scenario.cluster.node_count
    for i, spec in enumerate(scenario.services):
        at = f"{where}: services.{i}"
        tp = spec.tensor_parallel
        if node.gpus_per_node % tp:
            problems.append(f"{at}.tensor_parallel = {tp}: must divide the node's {node.gpus_per_node} GPUs "
                            f"(a replica lives in one {node.name}; tensor parallelism across nodes is not modelled)")
            continue
        if tp > 1 and node.gpu.link_bandwidth_bytes_per_s is None:
            problems.append(f"{at}.tensor_parallel = {tp}: {node.gpu.name} has no chip-to-chip link bandwidth "
                            "(link_bandwidth_bytes_per_s); serve on one GPU per replica or define the GPU inline")
            continue
        try:
            plan = plan_service(spec, node)
        except ValueError as exc:
            shown = f" = {spec.model!r}" if isinstance(spec.model, str) else ""
            problems.append(f"{at}.model{shown}: {exc}; raise tensor_parallel or lower the precision")
            continue
        if spec.start_at > 0:        # it waits for free nodes when it starts: it needs no more than there are
            if plan.nodes > scenario.cluster.node_count:
                problems.append(f"{at}.replicas = {spec.replicas}: needs {plan.nodes} nodes of {node.gpus_per_node} "
                                f"GPUs; the cluster has {scenario.cluster.node_count}")
        else:
            if plan.nodes > free_nodes:
                problems.append(f"{at}.replicas = {spec.replicas}: needs {plan.nodes} nodes of {node.gpus_per_node} "
                                f"GPUs; the cluster has {free_nodes} left after the services before it")
            free_nodes -= plan.nodes
        if spec.duration is None and scenario.scenario.duration is None and spec.arrivals.process != "trace":
            problems.append(f"{at}.duration: required key is missing (or give scenario.duration): "
                            "the arrival window must end")
        context = plan.context_tokens
        if spec.prompt_tokens is not None and spec.prompt_tokens.distribution == "fixed" \
                and spec.prompt_tokens.tokens >= context:
            problems.append(f"{at}.prompt_tokens = {spec.prompt_tokens.tokens}: every prompt would be refused; "
                            f"the model's context window is {context} tokens")
    return problems


# -------------------------------------------------------------------------------------------- requests
def service_streams(streams: RandomStreams, name: str) -> RequestStreams:
    """The service's three named streams: arrivals, prompt lengths, output lengths."""
    return RequestStreams(
        arrivals=streams.generator(f"service:{name}:arrivals"),
        prompts=streams.generator(f"service:{name}:prompt_tokens"),
        outputs=streams.generator(f"service:{name}:output_tokens"),
    )


def service_requests(spec: ServiceSpec, streams: RandomStreams, start_epoch_s: float,
                     window_s: float | None) -> RequestTrace:
    """The service's requests on [0, window_s) of simulated time (seconds from the run's start)."""
    arrivals = spec.arrivals
    if arrivals.process == "trace":
        trace = read_azure_llm_trace(arrivals.file)
        if len(trace) == 0:
            raise DataFileError(arrivals.file, "the trace holds no request")
        shifted = trace.shifted(-float(trace.arrival_s[0]))
        if window_s is None:
            return shifted
        return shifted.window(0.0, window_s)
    profile = service_rate_profile(spec, start_epoch_s, window_s)
    return generate_requests(profile, spec.prompt_tokens.distribution_object(),
                             spec.output_tokens.distribution_object(), 0.0, window_s,
                             service_streams(streams, spec.name))


def service_rate_profile(spec: ServiceSpec, start_epoch_s: float, window_s: float):
    """The arrival rate of a generated (not replayed) service on seconds from the run's start."""
    arrivals = spec.arrivals
    if arrivals.process == "poisson":
        profile = ConstantRate(arrivals.rate_per_s)
    elif arrivals.process == "diurnal":
        profile = ShiftedRate(DiurnalWeeklyRate(
            mean_rate_per_s=arrivals.rate_per_s,
            daily_amplitude=0.5 if arrivals.daily_amplitude is None else arrivals.daily_amplitude,
            peak_hour_local=14.0 if arrivals.peak_hour_local is None else arrivals.peak_hour_local,
            weekend_factor=1.0 if arrivals.weekend_factor is None else arrivals.weekend_factor,
            utc_offset_h=0.0 if arrivals.utc_offset_h is None else arrivals.utc_offset_h,
        ), start_epoch_s)
    else:
        from sim.timeseries.grid import read_signal

        series = read_signal(arrivals.file, format=arrivals.format, column=arrivals.column,
                             name="request_rate_per_s", unit="requests/s")
        if series.start_epoch_s > start_epoch_s or series.end_epoch_s < start_epoch_s + window_s:
            raise DataFileError(arrivals.file, "the rate series must cover the arrival window "
                                f"[{_iso(start_epoch_s)}, {_iso(start_epoch_s + window_s)}); it spans "
                                f"[{_iso(series.start_epoch_s)}, {_iso(series.end_epoch_s)})")
        profile = ShiftedRate(StepRate(series), start_epoch_s)
    return profile


class ArrivalFeed:
    """A service's requests in arrival order, drawn one window at a time as the run reaches them.

    Generated arrivals: each window [a, b) gets N ~ Poisson(integral of the rate over [a, b)) requests (by
    `generate_requests`: exact, since a Poisson process's counts in disjoint windows are independent), their
    lengths drawn from the service's length streams in turn. Windows are the meter bins, split further so that
    a window expects at most `MAX_PER_WINDOW` requests: memory holds one window's requests, not the run's. A
    replayed trace is read whole (it is the input) and handed out in slices of the same size.
    """

    MAX_PER_WINDOW = 16_384

    def __init__(self, spec: ServiceSpec, streams: RandomStreams, start_epoch_s: float, window_s: float | None,
                 bin_s: float):
        self.bin_s = bin_s
        self._trace = None
        if spec.arrivals.process == "trace":
            self._trace = service_requests(spec, streams, start_epoch_s, window_s)
            self._position = 0
            self.window_s = window_s if window_s is not None else (
                float(self._trace.arrival_s[-1]) if len(self._trace) else 0.0)
            return
        self.window_s = float(window_s)
        self.profile = service_rate_profile(spec, start_epoch_s, self.window_s)
        self.prompts = spec.prompt_tokens.distribution_object()
        self.outputs = spec.output_tokens.distribution_object()
        self.streams = service_streams(streams, spec.name)
        self._next_s = 0.0

    def next_chunk(self) -> RequestTrace | None:
        """The next window's requests (possibly none), or None once the arrival window is exhausted."""
        if self._trace is not None:
            if self._position >= len(self._trace):
                return None
            a, self._position = self._position, min(self._position + self.MAX_PER_WINDOW, len(self._trace))
            t = self._trace
            return RequestTrace(t.arrival_s[a:self._position], t.prompt_tokens[a:self._position],
                                t.output_tokens[a:self._position], t.source)
        start = self._next_s
        if start >= self.window_s:
            return None
        end = min((math.floor(start / self.bin_s) + 1.0) * self.bin_s, self.window_s)
        expected = self.profile.expected_count(start, end)
        if expected > self.MAX_PER_WINDOW:
            end = start + (end - start) * self.MAX_PER_WINDOW / expected
        self._next_s = end
        return generate_requests(self.profile, self.prompts, self.outputs, start, end, self.streams)


def _iso(epoch_s: float) -> str:
    from sim.timeseries.series import from_epoch_s

    return from_epoch_s(epoch_s).isoformat().replace("+00:00", "Z")


# --------------------------------------------------------------------------------------------- service
class Completions:
    """Completed requests as columns (88 bytes a request, against some 600 for a list of records), in completion
    order: what a service holds between a completion and the output interval that makes its row final."""

    INTS = ("request_id", "replica", "prompt_tokens", "output_tokens")
    FLOATS = ("arrival_s", "admitted_s", "first_token_s", "finish_s", "busy_share_s", "compute_share_s")

    def __init__(self) -> None:
        self.columns = {**{name: array("q") for name in self.INTS}, **{name: array("d") for name in self.FLOATS}}

    def __len__(self) -> int:
        return len(self.columns["request_id"])

    def extend(self, ints: np.ndarray, floats: np.ndarray) -> None:
        """Completions as rows of the compiled replicas' buffers (columns as `batching_kernel.C_*`)."""
        cols = self.columns
        for j, name in enumerate(self.INTS):        # the kernel's C_* columns are in this order
            cols[name].frombytes(np.ascontiguousarray(ints[:, j], dtype=np.int64).tobytes())
        for j, name in enumerate(self.FLOATS):
            cols[name].frombytes(np.ascontiguousarray(floats[:, j], dtype=np.float64).tobytes())

    def append(self, c: CompletedRequest, replica: int) -> None:
        cols = self.columns
        cols["request_id"].append(c.request_id)
        cols["replica"].append(replica)
        cols["prompt_tokens"].append(c.prompt_tokens)
        cols["output_tokens"].append(c.output_tokens)
        cols["arrival_s"].append(c.arrival_s)
        cols["admitted_s"].append(c.admitted_s)
        cols["first_token_s"].append(c.first_token_s)
        cols["finish_s"].append(c.finish_s)
        cols["busy_share_s"].append(c.busy_share_s)
        cols["compute_share_s"].append(c.compute_share_s)

    def count_before(self, end_s: float, inclusive: bool) -> int:
        """How many completions finish before end_s (or at it, if inclusive): they are in time order."""
        finish = self.columns["finish_s"]
        return (bisect_right if inclusive else bisect_left)(finish, end_s)

    def take(self, n: int) -> dict[str, np.ndarray]:
        """The first n completions as numpy columns, removed from here."""
        out = {}
        for name, values in self.columns.items():
            out[name] = np.array(values[:n], dtype=np.int64 if name in self.INTS else float)
            del values[:n]
        return out


def _concat(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: np.concatenate((a[name], b[name])) for name in a}


class InferenceService:
    """One service: its nodes, replicas, router and the SimPy process that drives them."""

    def __init__(self, env: simpy.Environment, cluster: Cluster, meter: Meter, spec: ServiceSpec,
                 streams: RandomStreams, start_epoch_s: float, window_s: float | None,
                 log: RequestLog | None = None):
        self.env = env
        self.cluster = cluster
        self.meter = meter
        self.spec = spec
        self.name = spec.name
        self.plan = plan_service(spec, cluster.node)
        self.bin_s = meter.bin_s
        # requests are drawn one window at a time, as the run reaches them (memory: one window's requests)
        self._feed = ArrivalFeed(spec, streams, start_epoch_s, window_s, self.bin_s)
        self.window_s = self._feed.window_s
        self._context = self.plan.context_tokens
        self._chunk_arrival: list[float] = []
        self._chunk_prompt: list[int] = []
        self._chunk_output: list[int] = []
        self._chunk_rejected: list[bool] = []
        self._chunk_arrays = (np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
                              np.zeros(0, dtype=bool))
        self._no_more_chunks = False
        self._chunk_base = 0                 # request id of the chunk's first request
        self.n_requests = 0                  # requests that have arrived (rejected ones included)
        self.replica_changes = 0             # a prefill step or a run of decode steps ended (an event, with arrivals)

        # replicas and their power constants
        plan = self.plan
        cost = step_cost(plan)
        self.replicas = [ContinuousBatchingReplica(cost, plan.scheduler, start_s=env.now)
                         for _ in range(spec.replicas)]
        power = service_power(plan)
        self.gpu_constant_w, self.gpu_per_busy_w, self.gpu_per_compute_w = (
            power.gpu_constant_w, power.gpu_per_busy_w, power.gpu_per_compute_w)
        self.host_constant_w, self.host_per_busy_w, self.host_per_compute_w = (
            power.host_constant_w, power.host_per_busy_w, power.host_per_compute_w)
        # a request's direct energy: its share of the GPU energy of its steps
        self.direct_per_busy_w = power.direct_per_busy_w
        self.direct_per_compute_w = power.gpu_per_compute_w

        # router and the counters it reads
        self.router = make_router(spec.router, spec.replicas)
        self.outstanding_requests = [0] * spec.replicas
        self.outstanding_tokens = [0] * spec.replicas

        # results
        self._next_arrival = 0               # index in the current chunk
        self._outstanding = 0
        self._heap: list[tuple[float, int]] = []
        self.started_at_s = env.now
        self.finished_at_s: float | None = None
        self.done = False
        self.busy_s = 0.0
        self.compute_s = 0.0

        # attribution, interval by interval (see module docstring); rows go to the request log once final
        self.log = log if log is not None else RequestLog(datetime.fromtimestamp(start_epoch_s, timezone.utc),
                                                          service_order=(spec.name,))
        self._pending = Completions()        # completions not yet in an output interval
        self._held = None                    # the last interval with completions: (rows, direct J, J/J, g/J)
        self._totals_seen = (0.0, 0.0)      # the service's facility energy [J] and carbon [g] at the last close
        self._carry = (0.0, 0.0)
        self._rejected_rows: list[tuple[int, float, int, int]] = []
        self._any_interval = False
        self.stats = RequestStats()
        # the service's facility energy [J] and carbon [g] so far, at each sync instant (every meter bin
        # boundary while it runs): rows may be emitted after their end (hourly matching emits an hour's rows
        # together), so each row reads the totals at its own end
        self._totals_at: dict[float, tuple[float, float]] = {}

        # nodes, now: the service asks before any job does
        request = cluster.request(plan.gpus)
        if not request.triggered:
            raise ValueError(f"service {self.name}: the cluster has no {plan.nodes} free nodes")
        self.group = cluster.take(plan.gpus, owner=self.name)
        self.group.set_power(env.now, self.gpu_constant_w, self.host_constant_w)
        self._node_s_closed = 0.0            # node-seconds held, up to _nodes_since_s
        self._nodes_since_s = env.now
        policies = getattr(cluster, "policies", None)
        autoscaling = policies is not None and policies.names.get("autoscaling", "fixed") != "fixed"
        self._compiled = None
        if COMPILED_REPLICAS:
            try:
                from sim.workloads import batching_kernel
            except ImportError:   # numba missing (an install without the dependency): the Python classes
                batching_kernel = None
            if batching_kernel is not None and batching_kernel.supports(cost, spec.router):
                self._compiled = batching_kernel.CompiledReplicas(cost, plan.scheduler, spec.replicas, spec.router,
                                                                  env.now, autoscaling)
                # the routers' counters are the compiled replicas' arrays (ReplicaScaler reads them)
                self.outstanding_requests = self._compiled.oreq
                self.outstanding_tokens = self._compiled.otok
        self.scaler = None
        if autoscaling:
            self.scaler = ReplicaScaler(self, policies.autoscaling, policies.autoscale_interval_s,
                                        policies.autoscale_warm_up_s)
        self.process = env.process(self._run())

    # ---- the process ------------------------------------------------------------------------------
    def _run(self):
        env, bin_s = self.env, self.bin_s
        t_now = env.now
        busy_prev = compute_prev = 0.0
        while True:
            t_stop = min(env.peek(), (math.floor(t_now / bin_s) + 1.0) * bin_s)
            if t_stop <= t_now:
                yield env.timeout(0.0)      # someone else acts at this instant: let them first
                continue
            done_at = (self._run_ahead(t_now, t_stop) if self._compiled is None
                       else self._run_ahead_compiled(t_now, t_stop))
            t_end = t_stop if done_at is None else done_at
            if t_end > t_now:
                busy, compute = self._busy_compute_s(t_end)
                dt = t_end - t_now
                d_busy, d_compute = busy - busy_prev, compute - compute_prev
                self.group.set_power(
                    t_now,
                    self.gpu_constant_w + (self.gpu_per_busy_w * d_busy + self.gpu_per_compute_w * d_compute) / dt,
                    self.host_constant_w + (self.host_per_busy_w * d_busy + self.host_per_compute_w * d_compute) / dt,
                )
                self._snapshot(t_now)
                busy_prev, compute_prev = busy, compute
                yield env.timeout(dt)
                t_now = t_end
            if done_at is not None:
                break
        self.busy_s, self.compute_s = busy_prev, compute_prev
        self.finished_at_s = t_now
        self.done = True
        self.cluster.release(self.group)
        self._snapshot(t_now)

    def _snapshot(self, t_s: float) -> None:
        """Record the service's totals at t_s (the meter has just integrated up to t_s)."""
        totals = self.meter.owner_total(self.name)
        if totals is not None:
            self._totals_at[t_s] = (totals.facility_energy_j, totals.carbon_g)

    def _totals_until(self, end_s: float) -> tuple[float, float]:
        """The service's facility energy [J] and carbon [g] from the start to end_s."""
        at = self._totals_at.get(end_s)
        if at is None and self.finished_at_s is not None and end_s >= self.finished_at_s:
            at = self._totals_at.get(self.finished_at_s)
        if at is not None:
            return at
        totals = self.meter.owner_total(self.name)   # the row is emitted as it closes
        return (totals.facility_energy_j, totals.carbon_g) if totals is not None else (0.0, 0.0)

    def replica_busy_s(self, r: int, t_s: float) -> float:
        """Busy seconds of replica r from its start to t_s."""
        if self._compiled is not None:
            return self._compiled.busy_compute_s(t_s, r)[0]
        return self.replicas[r].busy_compute_s(t_s)[0]

    def replica_idle(self, r: int) -> bool:
        """Nothing running or queued on replica r."""
        return self._compiled.is_idle(r) if self._compiled is not None else self.replicas[r].is_idle

    def _busy_compute_s(self, t_s: float) -> tuple[float, float]:
        if self._compiled is not None:
            return self._compiled.busy_compute_s(t_s)
        busy = compute = 0.0
        for replica in self.replicas:
            b, c = replica.busy_compute_s(t_s)
            busy += b
            compute += c
        return busy, compute

    def _load_chunk(self) -> bool:
        """The next window of requests (skipping empty ones); False when the arrival window is exhausted."""
        while True:
            trace = self._feed.next_chunk()
            if trace is None:
                return False
            if len(trace) == 0:
                continue
            prompts = trace.prompt_tokens
            context = self._context
            # generation stops at the context window (vLLM max_model_len); longer prompts are refused
            rejected = prompts >= context
            cut = np.minimum(trace.output_tokens, np.maximum(context - prompts, 0))
            self._chunk_base += len(self._chunk_arrays[0])
            output = np.where(rejected, trace.output_tokens, cut)
            self._chunk_arrays = (np.asarray(trace.arrival_s, dtype=float), prompts.astype(np.int64),
                                  output.astype(np.int64), rejected)
            if self._compiled is None:
                self._chunk_arrival = trace.arrival_s.tolist()
                self._chunk_prompt = prompts.tolist()
                self._chunk_output = output.tolist()
                self._chunk_rejected = rejected.tolist()
            self._next_arrival = 0
            return True

    def _run_ahead(self, t_now: float, t_stop: float) -> float | None:
        """Handle every arrival and replica change in [t_now, t_stop), in time order (changes first at
        equal instants). Returns the instant at which the service finished, if it did: its arrival
        window closed and its last request done."""
        heap, replicas = self._heap, self.replicas
        arrivals = self._chunk_arrival
        n = len(arrivals)
        i = self._next_arrival
        heappop, heappush = heapq.heappop, heapq.heappush
        t_last = t_now
        while True:
            if i == n:
                self._next_arrival = i
                if self._load_chunk():
                    arrivals, i = self._chunk_arrival, 0
                    n = len(arrivals)
                    continue
                if self._outstanding == 0:
                    done_at = max(t_last, self.window_s)
                    return done_at if done_at < t_stop else None
            while heap:
                t_rep, r = heap[0]
                if t_rep == replicas[r].next_change_at_s():
                    break
                heappop(heap)             # stale: that replica's plan changed since
            t_rep = heap[0][0] if heap else math.inf
            t_arr = arrivals[i] if i < n else math.inf
            if t_rep <= t_arr:
                if t_rep >= t_stop:
                    break
                r = heappop(heap)[1]
                replica = replicas[r]
                for c in replica.process_change():
                    self._complete(c, r)
                self.replica_changes += 1
                nxt = replica.next_change_at_s()
                if nxt != math.inf:
                    heappush(heap, (nxt, r))
                t_last = t_rep
            else:
                if t_arr >= t_stop:
                    break
                self._arrive(i, t_arr)
                i += 1
                t_last = t_arr
        self._next_arrival = i
        return None

    def _run_ahead_compiled(self, t_now: float, t_stop: float) -> float | None:
        """`_run_ahead` by the compiled replicas; the completions and rejections go where `_complete` and
        `_arrive` put them."""
        from sim.workloads import batching_kernel as kernel

        compiled = self._compiled
        t_last = t_now
        while True:
            before = self._next_arrival
            status, i, t = compiled.run_ahead(t_stop, t_last, before, self._chunk_base, self._no_more_chunks,
                                              self.window_s, *self._chunk_arrays)
            self.n_requests += i - before
            self._next_arrival = i
            self._outstanding = compiled.outstanding_count
            self.replica_changes = compiled.changes
            ints, floats = compiled.take_completions()
            if len(ints):
                self._pending.extend(ints, floats)
            self._rejected_rows += compiled.take_rejected()
            if status == kernel.STOPPED:
                return None
            if status == kernel.DONE:
                return t
            t_last = t
            if status == kernel.NEED_CHUNK:
                self._no_more_chunks = not self._load_chunk()
            elif status == kernel.NEED_SLOTS:
                compiled.grow_slots()
            elif status == kernel.NO_REPLICA:
                raise RuntimeError(f"service {self.name}: no replica serves")
            elif status in (kernel.BAD_REQUEST, kernel.KV_TOO_BIG):
                _, prompt, output, _ = (a[i] for a in self._chunk_arrays)
                k = self._chunk_base + i
                if status == kernel.BAD_REQUEST:
                    raise ValueError(f"request {k}: need >= 1 prompt token and >= 0 output tokens")
                raise ValueError(f"request {k} needs {prompt + output} KV tokens; the replica holds "
                                 f"{self.plan.scheduler.kv_capacity_tokens}")

    def _arrive(self, i: int, t_s: float) -> None:
        k = self._chunk_base + i
        self.n_requests += 1
        prompt, output = self._chunk_prompt[i], self._chunk_output[i]
        if self._chunk_rejected[i]:
            self._rejected_rows.append((k, t_s, prompt, output))
            return
        r = self.router.choose(self, prompt, output) if self.scaler is None else self.scaler.choose(prompt, output)
        replica = self.replicas[r]
        before = replica.next_change_at_s()
        replica.arrive(Request(k, t_s, prompt, output))
        after = replica.next_change_at_s()
        if after != before:
            heapq.heappush(self._heap, (after, r))
        self.outstanding_requests[r] += 1
        self.outstanding_tokens[r] += prompt + output
        if self.scaler is not None:
            self.scaler.count_in_flight(t_s, self._outstanding)
        self._outstanding += 1

    def _complete(self, c: CompletedRequest, r: int) -> None:
        self._pending.append(c, r)
        self.outstanding_requests[r] -= 1
        self.outstanding_tokens[r] -= c.prompt_tokens + c.output_tokens
        if self.scaler is not None:
            self.scaler.count_in_flight(c.finish_s, self._outstanding)
        self._outstanding -= 1

    # ---- intervals: attribution and per-interval statistics -------------------------------------------
    def close_interval(self, start_s: float, end_s: float) -> dict[str, np.ndarray]:
        """Called as the meter closes the output interval [start_s, end_s): share the service's energy
        and carbon of the interval among the requests completed in it; returns their columns
        (`Completions`). The rows of the previous interval with completions are final now: to the log."""
        # the service's last completions fall on the end of the run
        batch = self._pending.take(self._pending.count_before(end_s, inclusive=self.done))
        energy_j, carbon_g = self._totals_until(end_s)
        for t in [t for t in self._totals_at if t < end_s]:
            del self._totals_at[t]
        seen_e, seen_c = self._totals_seen
        self._totals_seen = (energy_j, carbon_g)
        carry_e, carry_c = self._carry
        energy_j, carbon_g = energy_j - seen_e + carry_e, carbon_g - seen_c + carry_c
        direct = self._direct_j(batch)
        direct_total = math.fsum(direct)
        if direct_total > 0.0:
            self._write_held()
            self._held = (batch, direct, energy_j / direct_total, carbon_g / direct_total)
            self._carry = (0.0, 0.0)
        else:
            self._carry = (energy_j, carbon_g)
            if direct.size:  # completions with no direct energy (cannot happen with steps > 0)
                self._write(batch, direct, 0.0, 0.0)
        self._write_rejected()
        return batch

    def _direct_j(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        return self.direct_per_busy_w * batch["busy_share_s"] + self.direct_per_compute_w * batch["compute_share_s"]

    def _write_held(self) -> None:
        if self._held is not None:
            self._write(*self._held)
            self._held = None

    def finish_log(self) -> None:
        """At the end of the run: completions after the last interval and energy no completion took go to the
        last interval with completions; requests still queued or running are listed as unfinished."""
        tail = self._pending.take(len(self._pending))
        tail_direct = self._direct_j(tail)
        carry_e, carry_c = self._carry
        if self._held is not None:
            batch, direct, per_e, per_c = self._held
            held_direct = math.fsum(direct)
            span = held_direct + math.fsum(tail_direct)
            total_e, total_c = per_e * held_direct + carry_e, per_c * held_direct + carry_c
            self._write(_concat(batch, tail), np.concatenate((direct, tail_direct)), total_e / span, total_c / span)
            self._held = None
            self._carry = (0.0, 0.0)
        elif tail_direct.size:
            span = math.fsum(tail_direct)
            if span > 0:
                self._write(tail, tail_direct, carry_e / span, carry_c / span)
                self._carry = (0.0, 0.0)
            else:
                self._write(tail, tail_direct, 0.0, 0.0)
        self._write_rejected()
        if self._compiled is None:
            unfinished = [(request, r) for r, replica in enumerate(self.replicas) for request in replica.outstanding()]
        else:
            unfinished = [(Request(*request), r) for r in range(len(self.replicas))
                          for request in self._compiled.outstanding(r)]
        self.stats.unfinished += len(unfinished)
        if unfinished:
            n = len(unfinished)
            nan = np.full(n, np.nan)
            self.log.add(self._columns(
                ids=[q.request_id for q, _ in unfinished], replica=[r for _, r in unfinished], status="unfinished",
                arrival=np.array([q.arrival_s for q, _ in unfinished]), admitted=nan, first=nan, finish=nan,
                prompt=[q.prompt_tokens for q, _ in unfinished], output=[q.output_tokens for q, _ in unfinished],
                direct=np.zeros(n), energy=np.zeros(n), carbon=np.zeros(n)))

    def _write_rejected(self) -> None:
        rows = self._rejected_rows
        if not rows:
            return
        self._rejected_rows = []
        n = len(rows)
        nan = np.full(n, np.nan)
        self.stats.rejected += n
        self.log.add(self._columns(ids=[k for k, *_ in rows], replica=[-1] * n, status="rejected",
                                   arrival=np.array([t for _, t, _, _ in rows]), admitted=nan, first=nan, finish=nan,
                                   prompt=[p for *_, p, _ in rows], output=[o for *_, o in rows],
                                   direct=np.zeros(n), energy=np.zeros(n), carbon=np.zeros(n)))

    def _write(self, batch: dict[str, np.ndarray], direct: np.ndarray, per_e: float, per_c: float) -> None:
        """The rows of completed requests, with their energy and carbon, to the log; the summary's sums."""
        if not direct.size:
            return
        columns = self._columns(ids=batch["request_id"], replica=batch["replica"], status="completed",
                                arrival=batch["arrival_s"], admitted=batch["admitted_s"], first=batch["first_token_s"],
                                finish=batch["finish_s"], prompt=batch["prompt_tokens"], output=batch["output_tokens"],
                                direct=direct, energy=direct * per_e, carbon=direct * per_c)
        self.stats.add(columns, self.spec.slo)
        self.log.add(columns)

    def _columns(self, *, ids, replica, status, arrival, admitted, first, finish, prompt, output, direct, energy,
                 carbon) -> dict:
        n = len(ids)
        output = np.asarray(output, dtype=np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            tpot = np.where(output - 1 >= 1, (finish - first) / np.maximum(output - 1, 1), np.nan)
        return {
            "service": [self.name] * n,
            "request_id": ids,
            "replica": replica,
            "status": [status] * n,
            "arrival_s": arrival,
            "queueing_delay_s": admitted - arrival,
            "ttft_s": first - arrival,
            "tpot_s": tpot,
            "latency_s": finish - arrival,
            "prompt_tokens": prompt,
            "output_tokens": output,
            "gpu_energy_j": direct,
            "energy_j": energy,
            "carbon_g": carbon,
        }

    @property
    def unattributed_energy_j(self) -> float:
        """Service energy no request took (only when no request completed at all)."""
        return self._carry[0] if self.stats.completed == 0 else 0.0

    def held_s(self, end_s: float) -> float:
        """How long the service held its nodes [s]."""
        return (self.finished_at_s if self.finished_at_s is not None else end_s) - self.started_at_s

    def held_node_s(self, end_s: float) -> float:
        """Node-seconds the service held [node x s] (its node count changes under autoscaling)."""
        until = self.finished_at_s if self.finished_at_s is not None else end_s
        return self._node_s_closed + self.group.nodes * max(until - self._nodes_since_s, 0.0)

    def _nodes_changing(self, now_s: float) -> None:
        self._node_s_closed += self.group.nodes * (now_s - self._nodes_since_s)
        self._nodes_since_s = now_s

    def summary(self, end_s: float) -> dict:
        """The service's section of summary.json (after `finish_log` and the log's close)."""
        spec, plan, st = self.spec, self.plan, self.stats
        totals = self.meter.owner_total(self.name)
        facility_j = totals.facility_energy_j if totals is not None else 0.0
        completed = st.completed
        output_total = st.output_tokens
        slo = spec.slo
        q = slo.percentile
        percents = (50.0, 90.0, 99.0) + ((q,) if q not in (50.0, 90.0, 99.0) else ())
        at = {key: dict(zip(percents, self.log.percentiles(self.name, key, percents)))
              for key in ("ttft_s", "latency_s", "tpot_s")}
        judged = {}
        for key, target in (("ttft_s", slo.ttft_s), ("latency_s", slo.latency_s), ("tpot_s", slo.tpot_s)):
            if target is None:
                continue
            value = at[key][q]
            judged[key] = {"target": target, f"p{q:g}": value, "met": value is not None and value <= target}
        simulated_s = self.held_s(end_s)
        busy_s = self.busy_s if self.done else self._busy_compute_s(end_s)[0]
        return {
            "service": self.name,
            "fidelity": "request",
            "model": plan.replica.model.label,
            "gpu": plan.node.gpu.name,
            "replicas": spec.replicas,
            "tensor_parallel": spec.tensor_parallel,
            "nodes": plan.nodes,
            "router": spec.router,
            "arrival_window_s": self.window_s,
            "requests": self.n_requests,
            # with the arrivals, the events of the service's discrete-event simulation (handled in its run-ahead,
            # not as SimPy events)
            "replica_changes": self.replica_changes,
            "completed": completed,
            "unfinished": st.unfinished,
            "rejected": st.rejected,
            "prompt_tokens": st.prompt_tokens,
            "output_tokens": output_total,
            "output_tokens_per_s": output_total / simulated_s if simulated_s > 0 else None,
            "replica_busy_fraction": busy_s / (spec.replicas * simulated_s) if simulated_s > 0 else None,
            "autoscaling": self.scaler.summary(end_s) if self.scaler is not None else None,
            **{f"ttft_p{p:g}_s": at["ttft_s"][p] for p in (50.0, 90.0, 99.0)},
            **{f"latency_p{p:g}_s": at["latency_s"][p] for p in (50.0, 90.0, 99.0)},
            **{f"tpot_p{p:g}_s": at["tpot_s"][p] for p in (50.0, 90.0, 99.0)},
            "queueing_delay_mean_s": st.queueing_delay_s / completed if completed else None,
            "slo": {"percentile": q, **judged,
                    "attainment": st.slo_met / completed if completed and judged else None},
            "energy_kwh": facility_j / J_PER_KWH,
            "attributed_energy_kwh": st.energy_j / J_PER_KWH,
            "energy_per_request_j": st.energy_j / completed if completed else None,
            "energy_per_output_token_j": st.energy_j / output_total if output_total else None,
            "gpu_energy_per_output_token_j": st.gpu_energy_j / output_total if output_total else None,
            "carbon_kg": (totals.carbon_g / G_PER_KG) if totals is not None else 0.0,
            "carbon_per_request_g": st.carbon_g / completed if completed else None,
        }


class RequestStats:
    """Sums over a service's completed requests, kept as their rows are written (the summary needs no rows)."""

    def __init__(self) -> None:
        self.completed = self.prompt_tokens = self.output_tokens = 0
        self.unfinished = self.rejected = 0
        self.slo_met = 0
        self.queueing_delay_s = self.energy_j = self.gpu_energy_j = self.carbon_g = 0.0

    def add(self, columns: dict, slo) -> None:
        self.completed += len(columns["request_id"])
        self.prompt_tokens += int(np.sum(columns["prompt_tokens"]))
        self.output_tokens += int(np.sum(columns["output_tokens"]))
        self.queueing_delay_s += math.fsum(columns["queueing_delay_s"])
        self.energy_j += math.fsum(columns["energy_j"])
        self.gpu_energy_j += math.fsum(columns["gpu_energy_j"])
        self.carbon_g += math.fsum(columns["carbon_g"])
        met = np.ones(len(columns["request_id"]), dtype=bool)
        for key, target in (("ttft_s", slo.ttft_s), ("latency_s", slo.latency_s), ("tpot_s", slo.tpot_s)):
            if target is not None:
                met &= ~(np.asarray(columns[key]) > target)   # a request with no second token has no TPOT to miss
        self.slo_met += int(met.sum())


# ---------------------------------------------------------------------------------------- autoscaling
ACTIVE, WARMING, DRAINING, PARKED = "active", "warming", "draining", "parked"


class _Loads:
    """The router's view of the serving replicas only (index i of the view = replica active[i])."""

    __slots__ = ("outstanding_requests", "outstanding_tokens")

    def __init__(self, requests: list[int], tokens: list[int]):
        self.outstanding_requests = requests
        self.outstanding_tokens = tokens


class ReplicaScaler:
    """Drives a service's replicas from an autoscaling policy (rules in the module docstring)."""

    def __init__(self, service: "InferenceService", policy, interval_s: float, warm_up_s: float):
        from sim.policies.autoscaling import ServiceLoad

        self.service = service
        self.policy = policy
        self.interval_s = interval_s
        self.warm_up_s = warm_up_s
        self._load_type = ServiceLoad
        spec = service.spec
        self.per_node = service.plan.node.gpus_per_node // spec.tensor_parallel
        self.state = [ACTIVE] * spec.replicas
        self.node_held = [True] * service.plan.nodes
        self.router_name = spec.router
        self.active: list[int] = []
        self.router = None
        self._refresh_router()
        self._busy_seen = [0.0] * spec.replicas
        self.metric = getattr(policy, "metric", "busy")
        self._in_flight_integral = 0.0     # requests in flight x s, up to _in_flight_t (compiled: in its arrays)
        self._in_flight_t = service.env.now
        self._in_flight_seen = 0.0
        self._resident_s = 0.0          # replica-seconds resident (active, warming, draining)
        self._resident_since_s = service.env.now
        self.scale_outs = self.scale_ins = 0
        self.nodes_released = self.nodes_taken = 0
        self.history: list[tuple[float, int]] = [(service.env.now, spec.replicas)]
        service.env.process(self._run())

    # ---- routing -----------------------------------------------------------------------------------
    def _refresh_router(self) -> None:
        self.active = [r for r, st in enumerate(self.state) if st == ACTIVE]
        if self.active:
            self.router = make_router(self.router_name, len(self.active))
        if self.service._compiled is not None:
            self.service._compiled.set_serving(self.active)

    def choose(self, prompt: int, output: int) -> int:
        s, active = self.service, self.active
        if not active:  # cannot happen: min_replicas >= 1 keeps one serving (0: the first warming serves)
            raise RuntimeError(f"service {s.name}: no replica serves")
        loads = _Loads([s.outstanding_requests[r] for r in active], [s.outstanding_tokens[r] for r in active])
        return active[self.router.choose(loads, prompt, output)]

    def count_in_flight(self, t_s: float, in_flight: int) -> None:
        """The service's requests in flight were `in_flight` since the last change, until `t_s`."""
        if self.service._compiled is not None:   # it counts arrivals and completions itself
            self.service._compiled.count_in_flight(t_s, in_flight)
            return
        self._in_flight_integral += in_flight * (t_s - self._in_flight_t)
        self._in_flight_t = t_s

    @property
    def in_flight_integral(self) -> float:
        """Requests in flight x s, from the start to the last count."""
        compiled = self.service._compiled
        return compiled.in_flight_integral if compiled is not None else self._in_flight_integral

    # ---- power -------------------------------------------------------------------------------------
    def resident(self) -> int:
        return sum(1 for st in self.state if st != PARKED)

    def _reprice(self) -> None:
        """The service's constant draw from the replicas resident and the nodes held (as in __init__)."""
        s = self.service
        plan, spec = s.plan, s.spec
        tp, gpn, gpu = spec.tensor_parallel, plan.node.gpus_per_node, plan.node.gpu
        resident, nodes = self.resident(), s.group.nodes
        s.gpu_constant_w = resident * tp * replica_idle_power_w(gpu) + (nodes * gpn - resident * tp) * gpu_power_w(gpu, 0.0)
        host_range_w = plan.node.host_max_w - plan.node.host_idle_w
        s.host_constant_w = nodes * plan.node.host_idle_w + resident * (tp / gpn) * host_range_w * REPLICA_IDLE_ACTIVITY

    def _resident_changing(self, now_s: float) -> None:
        self._resident_s += self.resident() * (now_s - self._resident_since_s)
        self._resident_since_s = now_s

    # ---- the process -------------------------------------------------------------------------------
    def _run(self):
        s, env = self.service, self.service.env
        last_s = env.now
        while not s.done:
            yield env.timeout(self.interval_s)
            if s.done:
                return
            now = env.now
            serving = [r for r, st in enumerate(self.state) if st in (ACTIVE, DRAINING)]
            busy_now = [s.replica_busy_s(r, now) for r in range(len(self.state))]
            used = sum(busy_now[r] - self._busy_seen[r] for r in serving)
            self._busy_seen = busy_now
            if self.metric == "concurrency":  # mean requests in flight per serving replica
                self.count_in_flight(now, s._outstanding)
                in_flight = self.in_flight_integral - self._in_flight_seen
                self._in_flight_seen = self.in_flight_integral
                utilisation = in_flight / (len(serving) * (now - last_s)) if serving else 0.0
            else:                              # busy share of the serving replicas
                utilisation = min(used / (len(serving) * (now - last_s)), 1.0) if serving else 0.0
            last_s = now
            current = sum(1 for st in self.state if st in (ACTIVE, WARMING))
            load = self._load_type(utilisation=utilisation, replicas=current,
                                   serving=sum(1 for st in self.state if st == ACTIVE))
            wanted = min(max(self.policy.desired_replicas(now, load), 1), len(self.state))
            self._resident_changing(now)
            if wanted > current:
                self._scale_out(wanted - current)
            elif wanted < current:
                self._scale_in(current - wanted)
            self._park_drained()
            self._release_empty_nodes()
            self._refresh_router()
            self._reprice()
            self.history.append((now, sum(1 for st in self.state if st in (ACTIVE, WARMING))))

    def _scale_out(self, k: int) -> None:
        self.scale_outs += 1
        for r, st in enumerate(self.state):  # draining replicas still hold their model: back at once
            if k and st == DRAINING:
                self.state[r] = ACTIVE
                k -= 1
        for prefer_held in (True, False):
            for r, st in enumerate(self.state):
                if k and st == PARKED and self.node_held[r // self.per_node] == prefer_held:
                    self.state[r] = WARMING
                    k -= 1
                    self.service.env.process(self._warm(r))

    def _warm(self, r: int):
        s, env = self.service, self.service.env
        node = r // self.per_node
        if not self.node_held[node]:
            self.node_held[node] = True    # claimed now, so that no other replica asks for it again
            yield s.cluster.request(s.plan.node.gpus_per_node)
            s.cluster.take(s.plan.node.gpus_per_node, owner=s.name)  # its loads stay at zero: the service group draws
            s._nodes_changing(env.now)
            s.group.nodes += 1
            self.nodes_taken += 1
            self._resident_changing(env.now)
            self._reprice()
        yield env.timeout(self.warm_up_s)
        if self.state[r] == WARMING:
            self.state[r] = ACTIVE
            self._refresh_router()

    def _scale_in(self, k: int) -> None:
        self.scale_ins += 1
        s = self.service
        warming = [r for r, st in enumerate(self.state) if st == WARMING]
        for r in reversed(warming):   # not serving yet: parked again at once
            if k:
                self.state[r] = PARKED
                k -= 1
        # retire the least loaded first, from the last nodes first (so that whole nodes empty); one stays
        active = sorted((r for r, st in enumerate(self.state) if st == ACTIVE),
                        key=lambda r: (s.outstanding_requests[r], -r))
        for r in active[:min(k, len(active) - 1)]:
            self.state[r] = DRAINING

    def _park_drained(self) -> None:
        s = self.service
        for r, st in enumerate(self.state):
            if st == DRAINING and s.outstanding_requests[r] == 0 and s.replica_idle(r):
                self.state[r] = PARKED

    def _release_empty_nodes(self) -> None:
        s, env = self.service, self.service.env
        for node, held in enumerate(self.node_held):
            replicas = range(node * self.per_node, min((node + 1) * self.per_node, len(self.state)))
            if held and all(self.state[r] == PARKED for r in replicas):
                self.node_held[node] = False
                s._nodes_changing(env.now)
                s.group.nodes -= 1
                part = NodeGroup(s.meter, s.plan.node, 1, 0, s.name)
                s.cluster.release(part)
                self.nodes_released += 1

    def summary(self, end_s: float) -> dict:
        resident_s = self._resident_s + self.resident() * (end_s - self._resident_since_s)
        span_s = end_s - self.service.started_at_s
        return {
            "policy": self.policy.name,
            "mean_resident_replicas": resident_s / span_s if span_s > 0 else None,
            "scale_outs": self.scale_outs,
            "scale_ins": self.scale_ins,
            "nodes_released": self.nodes_released,
            "nodes_taken_back": self.nodes_taken,
            "replicas_at_end": sum(1 for st in self.state if st in (ACTIVE, WARMING)),
        }


# ------------------------------------------------------------------------------ per-interval columns
class RequestColumns:
    """The per-interval request columns of timeseries.parquet, over all services.

    requests: requests completed in the interval; prompt_tokens / output_tokens: their tokens;
    ttft / latency p50 and p99 [s]: percentiles (numpy's linear interpolation) over those requests.
    Rule for an interval in which no request completes: counts are 0 and the percentiles NaN (no
    sample, not a zero latency).
    """

    def __init__(self, services: list[InferenceService]):
        self.services = services

    def __call__(self, start_s: float, end_s: float) -> dict:
        ttft: list[np.ndarray] = []
        latency: list[np.ndarray] = []
        prompt = output = count = 0
        for service in self.services:
            batch = service.close_interval(start_s, end_s)
            output_tokens = batch["output_tokens"]
            count += output_tokens.size
            prompt += int(batch["prompt_tokens"].sum())
            output += int(output_tokens.sum())
            latency.append(batch["finish_s"] - batch["arrival_s"])
            ttft.append((batch["first_token_s"] - batch["arrival_s"])[output_tokens >= 1])
        ttft = np.concatenate(ttft) if ttft else np.empty(0)
        latency = np.concatenate(latency) if latency else np.empty(0)
        ttft_p50, ttft_p99 = _percentiles(ttft)
        lat_p50, lat_p99 = _percentiles(latency)
        return {"requests": float(count), "prompt_tokens": float(prompt), "output_tokens": float(output),
                "ttft_p50_s": ttft_p50, "ttft_p99_s": ttft_p99, "latency_p50_s": lat_p50, "latency_p99_s": lat_p99}


def _percentiles(values: np.ndarray) -> tuple[float, float]:
    if not len(values):
        return math.nan, math.nan
    p50, p99 = np.percentile(np.asarray(values), [50.0, 99.0])
    return float(p50), float(p99)
