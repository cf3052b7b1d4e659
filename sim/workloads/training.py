"""Training jobs as SimPy processes.

A job waits for nodes, then runs identical iterations. Iteration time comes from one of two modes:

- reproduce: the work per iteration over a measured throughput (or MFU x peak); communication is
  implicit in the measurement (an optional exposed-communication share only shapes the power profile);
- predict: compute at `compute_efficiency` x peak (plus the pipeline bubble), plus the communication of
  the job's tensor-, pipeline- and data-parallel groups on the network model, of which the share
  `1 - overlap_fraction` is exposed: ``T = t_compute + (1 - f_overlap) t_comm``.

Between failures the job follows a checkpoint schedule (sim/workloads/checkpointing.py); the whole
stretch is one power profile per load (iterations and checkpoint pauses in closed form), so the cost of
a run is O(failures + network changes), not O(iterations) or O(checkpoints). A failure (drawn on the
job's own random stream) stops the job, throws away the work since the last committed checkpoint, and
the job waits for detection, a spare node (its own, a free one of the cluster, or a repaired one) and
the checkpoint reload, its GPUs idle, before it resumes. The resume instant is known at the failure, so
the restart and the next stretch are one switching profile per load: one event per failure. Better still,
a failure that finds a spare at hand needs nothing from outside the job, so the job plans such failures
ahead, up to a hundred or so to one event (`TrainingJob._plan_ahead`): their restarts and stretches go to
the meter as one timeline profile per load, and whatever cuts the horizon short (a change of network share
or clock, a suspension, the end of the run) rewinds the job's accounts to that instant. (IT energy
stays exact; a facility model sees the mean IT heat of each stretch the meter integrates, exact for a
linear model such as fixed PUE, the stretch-mean for a nonlinear one, as for any periodic load.) When the share of network bandwidth of a predict-mode job changes (another job starts
or ends on the same spine), its SimPy timeout is interrupted and the stretch is re-planned from that
instant with the new iteration time, progress carried over.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import simpy

from sim.config.schema import TrainingJobSpec
from sim.engine.cyclic import CyclicPower, SwitchPower, TimelinePower
from sim.engine.meter import Load
from sim.engine.profiles import ZERO, ConstantPower, PeriodicPower
from sim.facility.cluster import Cluster, NodeGroup
from sim.facility.tickets import Ticket
from sim.physics.dvfs import DvfsModel, clock_ratio_for_cap, gpu_power_at_clock_w
from sim.physics.collectives import (
    AlphaBeta,
    BatchShape,
    ClusterLinks,
    ParallelLayout,
    TransformerShape,
    iteration_communication_times,
    iteration_internode_bytes_per_gpu,
    iteration_time_s,
    pipeline_compute_time_s,
)
from sim.physics.power import (
    EXPOSED_COMMUNICATION,
    IDLE,
    TRAINING_ACTIVITY,
    TRAINING_COMPUTE,
    PhaseActivity,
    host_power_w,
    scale_to_measured_system_power,
    tdp_arithmetic_power_w,
)
from sim.physics.reliability import (
    LLAMA3_405B_UNEXPECTED,
    daly_interval_s,
    job_failure_rate_per_s,
    mtbf_per_unit_s,
    sample_times_to_failure_s,
)
from sim.physics.storage import checkpoint_size_bytes
from sim.units import BITS_PER_BYTE, S_PER_H
from sim.workloads.checkpointing import CheckpointSchedule, Ledger

_SUSPEND = "suspend"  # the cause of the interrupt by which a shifting policy suspends a job
# Failures a job plans ahead in one event (`TrainingJob._plan_ahead`): at first, and at most. The most bounds the
# work an interrupt throws away; the first is small, for jobs whose network share or clock changes often.
_FIRST_AHEAD = 16
_MOST_AHEAD = 128

# While a synchronous checkpoint is written the accelerators wait (device-to-host copies run on the
# copy engines, not the SMs) and the host moves the state out through its CPUs and NICs. No published
# per-phase measurement was found: ASSUMED accelerators at idle, host at the training utilisation.
CHECKPOINT_WRITE = PhaseActivity(0.0, TRAINING_ACTIVITY)

# Aspect ratio (hidden size / layers) used to infer a transformer's shape from its parameter count when
# a predict-mode job does not give it: GPT-3 175B has 12,288 / 96 = 128 (Brown et al. 2020, Table 2.1),
# Llama 3 405B 16,384 / 126 = 130 (Dubey et al. 2024, Table 3); loss depends little on it over a wide
# range (Kaplan et al. 2020, Fig. 5). Parameters N = 12 L h^2 (Kaplan et al. 2020, Sec. 2.1).
DEFAULT_ASPECT_RATIO = 128


def default_shape(parameters: float) -> tuple[int, int]:
    """(layers, hidden size) of a transformer of ``parameters`` at aspect ratio 128: ``N = 12 L (128 L)^2``.
    Example: 405e9 -> L = 127, h = 16,256."""
    layers = max(1, round((parameters / (12 * DEFAULT_ASPECT_RATIO**2)) ** (1 / 3)))
    return layers, DEFAULT_ASPECT_RATIO * layers


@dataclass
class TrainingJobState:
    """What happened to a job; instants are simulated seconds from the start of the run."""

    spec: TrainingJobSpec
    nodes: int
    iterations: int
    iteration_s: float
    submitted_at_s: float | None = None
    started_at_s: float | None = None
    finished_at_s: float | None = None
    ledger: Ledger | None = None
    failures: int = 0
    restarts: list[tuple[float, float]] = field(default_factory=list)  # (stopped at, resumes at) [s]
    checkpoint_interval_s: float = math.inf
    checkpoint_write_s: float = 0.0
    checkpoint_bytes: float = 0.0
    failure_times_s: list[float] = field(default_factory=list)
    borrowed_nodes: int = 0

    @property
    def status(self) -> str:
        if self.finished_at_s is not None:
            return "completed"
        return "running" if self.started_at_s is not None else "queued"

    def gpu_seconds(self, now_s: float) -> float:
        if self.started_at_s is None:
            return 0.0
        end_s = self.finished_at_s if self.finished_at_s is not None else now_s
        return self.spec.gpus * (end_s - self.started_at_s)

    def iterations_done(self, now_s: float) -> float:
        if self.started_at_s is None:
            return 0.0
        if self.finished_at_s is not None:
            return float(self.iterations)
        return self.ledger.progress if self.ledger is not None else 0.0

    def duration_s(self, now_s: float) -> float:
        if self.started_at_s is None:
            return 0.0
        return (self.finished_at_s if self.finished_at_s is not None else now_s) - self.started_at_s

    def restart_total_s(self, now_s: float) -> float:
        """Time spent stopped after failures [s], up to ``now_s`` (a restart may be under way)."""
        return math.fsum(max(0.0, min(end_s, now_s) - start_s) for start_s, end_s in self.restarts)


def achieved_flop_per_s_per_gpu(spec: TrainingJobSpec, peak_flop_per_s: float) -> float:
    """Measured throughput per accelerator, or MFU x peak [FLOP/s] (reproduce mode)."""
    if spec.achieved_flop_per_s_per_gpu is not None:
        return spec.achieved_flop_per_s_per_gpu
    return spec.mfu * peak_flop_per_s


@dataclass(frozen=True)
class IterationPlan:
    """One iteration [s]: compute phase, exposed communication, and the bytes each GPU sends off-node."""

    compute_s: float
    exposed_communication_s: float
    communication_s: float = 0.0
    internode_bytes_per_gpu: float = 0.0

    @property
    def iteration_s(self) -> float:
        return self.compute_s + self.exposed_communication_s


@dataclass(frozen=True)
class PredictShape:
    """The parallel layout and shapes a predict-mode job's communication depends on."""

    layout: ParallelLayout
    model: TransformerShape
    batch: BatchShape


def predict_shape(spec: TrainingJobSpec, gpus_per_node: int) -> PredictShape:
    """Layout (default: tensor = GPUs per node, one pipeline stage, the rest data parallel) and shapes."""
    par = spec.parallel
    tensor = (par.tensor if par is not None and par.tensor is not None else min(gpus_per_node, spec.gpus))
    pipeline = par.pipeline if par is not None else 1
    data = par.data if par is not None and par.data is not None else spec.gpus // (tensor * pipeline)
    layout = ParallelLayout(tensor, pipeline, data)
    if layout.gpus != spec.gpus:
        raise ValueError(f"tensor {tensor} x pipeline {pipeline} x data {data} = {layout.gpus}, not {spec.gpus} GPUs")
    layers, hidden = default_shape(spec.parameters)
    model = TransformerShape(
        parameters=spec.parameters,
        layers=spec.layers if spec.layers is not None else layers,
        hidden_size=spec.hidden_size if spec.hidden_size is not None else hidden,
        sequence_length=spec.sequence_length,
    )
    micro = par.micro_batch_size if par is not None else 1
    sequences_per_replica = spec.batch_tokens / spec.sequence_length / data
    microbatches = max(1, math.ceil(sequences_per_replica / micro - 1e-9))
    return PredictShape(layout, model, BatchShape(micro, microbatches))


def predict_plan(spec: TrainingJobSpec, shape: PredictShape, peak_flop_per_s: float, links: ClusterLinks) -> IterationPlan:
    """Predicted iteration: ``T = t_compute + (1 - f_overlap) t_comm``.

    t_compute: the work of one iteration at compute_efficiency x peak, stretched by the pipeline bubble
    ``(m + p - 1) / m`` (Huang et al. 2019; Narayanan et al. 2021). t_comm: the data-, tensor- and
    pipeline-parallel communication of ``iteration_communication_times`` on ``links``.
    """
    ideal_s = spec.flop_per_iteration / (spec.gpus * spec.compute_efficiency * peak_flop_per_s)
    m, p = shape.batch.microbatches, shape.layout.pipeline
    compute_s = pipeline_compute_time_s(ideal_s / m, p, m)
    comm_s = iteration_communication_times(shape.model, shape.layout, shape.batch, links).total_s
    exposed_s = iteration_time_s(compute_s, comm_s, spec.overlap_fraction) - compute_s
    bytes_per_gpu = iteration_internode_bytes_per_gpu(shape.model, shape.layout, shape.batch, links.gpus_per_node)
    return IterationPlan(compute_s, exposed_s, comm_s, bytes_per_gpu)


def reproduce_plan(spec: TrainingJobSpec, peak_flop_per_s: float) -> IterationPlan:
    throughput = achieved_flop_per_s_per_gpu(spec, peak_flop_per_s)
    iteration_s = spec.flop_per_iteration / (spec.gpus * throughput)
    comm = spec.exposed_communication_fraction
    return IterationPlan((1.0 - comm) * iteration_s, comm * iteration_s)


@dataclass(frozen=True)
class FailureModel:
    """Failure rate of the job [1/s] and the stated times of a restart [s]."""

    rate_per_s: float
    detection_s: float
    replacement_s: float
    repair_s: float
    spare_nodes: int

    @property
    def mtbf_s(self) -> float:
        return math.inf if self.rate_per_s == 0 else 1.0 / self.rate_per_s


def failure_model(spec: TrainingJobSpec, nodes: int) -> FailureModel | None:
    """The job's failure model; also with ``enabled = false``, where it only plans the checkpoints."""
    f = spec.failures
    if f is None:
        return None
    gpu_mtbf_s = mtbf_per_unit_s(LLAMA3_405B_UNEXPECTED) if f.calibration == "llama3" else f.gpu_mtbf
    rate = job_failure_rate_per_s(
        spec.gpus, gpu_mtbf_s if gpu_mtbf_s is not None else math.inf,
        nodes, f.node_mtbf if f.node_mtbf is not None else math.inf,
    )
    return FailureModel(rate, f.detection_time, f.replacement_time, f.repair_time, f.spare_nodes)


# Times to failure drawn at once from a job's failure stream (the same numbers as one draw at a time).
_EXPOSURE_BATCH = 64


class _StretchParts(NamedTuple):
    """The parts of a training stretch's profiles that do not depend on its instants (`_stretch_parts`)."""

    group: NodeGroup
    plan: IterationPlan
    clock: float
    iteration: tuple[ConstantPower, ConstantPower] | None   # (accelerators, hosts); None: periodic
    pause_gpu_w: float           # during a synchronous checkpoint write
    pause_host_w: float
    read: ConstantPower          # the dataset read while training
    write_w: float               # the checkpoint write (storage)
    traffic: ConstantPower       # the fabric's traffic-dependent draw while training
    idle_gpu: ConstantPower      # while restarting
    idle_host: ConstantPower


class _Stretch(NamedTuple):
    """Where a job stands as a stretch of training starts: its checkpoint schedule (training resumes at its origin),
    the restart before it (failed at, wait, reload; None: none), when it runs from, its running time until the next
    failure, and the run time left then (the ticket's)."""

    schedule: CheckpointSchedule
    restart: tuple[float, float, float] | None
    running_from_s: float
    exposure_s: float
    remaining_s: float


class _PlannedFailure(NamedTuple):
    """A failure planned ahead (`TrainingJob._plan_ahead`): when it strikes, whether its restart reads no
    checkpoint back (none committed yet), and the restart it starts with the stretch after it."""

    fail_s: float
    reload_skipped: bool
    after: _Stretch


class _Ahead(NamedTuple):
    """The failures a job planned ahead in one event, with what undoes them: its ledger and spare pool before
    them, the plan, the stretch under way then, and when the last stretch would end by finishing or failing."""

    ledger: Ledger
    pool: tuple[int, list[float]]
    plan: IterationPlan
    first: _Stretch
    failures: list[_PlannedFailure]
    finish_at: float
    fail_at: float


def _no_borrow() -> bool:
    raise RuntimeError("a failure planned ahead needs a spare at hand (SparePool.spare_at)")


class SparePool:
    """The job's spare nodes and its failed nodes in repair (ready times in a heap): O(log n) a failure."""

    def __init__(self, spares: int, repair_s: float):
        self.available = spares
        self.repair_s = repair_s
        self._repairs: list[float] = []

    def replace(self, now_s: float, ready_to_relaunch_s: float, borrow) -> float:
        """A node failed at ``now_s``; it goes to repair and comes back as a spare. Returns the wait [s]
        before the job can be relaunched: ``ready_to_relaunch_s`` (detection + replacement) with a spare at
        hand, or with a free node of the cluster (``borrow()`` true: it joins the job's spares), else until
        the first node comes back from repair, whichever is later."""
        while self._repairs and self._repairs[0] <= now_s:
            heapq.heappop(self._repairs)
            self.available += 1
        heapq.heappush(self._repairs, now_s + self.repair_s)
        if self.available > 0:
            self.available -= 1
            return ready_to_relaunch_s
        if borrow():
            return ready_to_relaunch_s
        back_s = heapq.heappop(self._repairs)
        return max(ready_to_relaunch_s, back_s - now_s)

    def spare_at(self, now_s: float) -> bool:
        """Whether a node failing at ``now_s`` would be replaced by a spare (one at hand, or back from repair by
        then): a replacement that needs nothing from the cluster, so the job can plan it ahead."""
        return self.available > 0 or (bool(self._repairs) and self._repairs[0] <= now_s)

    def snapshot(self) -> tuple[int, list[float]]:
        return self.available, list(self._repairs)

    def restore(self, snapshot: tuple[int, list[float]]) -> None:
        self.available, self._repairs = snapshot[0], list(snapshot[1])


class TrainingJob:
    def __init__(
        self,
        env: simpy.Environment,
        cluster: Cluster,
        spec: TrainingJobSpec,
        *,
        fabric=None,
        storage=None,
        streams=None,
    ):
        self._planned_clock = 1.0
        self._clock_log: list[tuple[float, float]] = []  # (instant, clock ratio) at each change
        # suspension by a shifting policy (sim/facility/shifting.py): the job's side of the handshake
        self.done = env.event()
        self.running = False
        self._resume: simpy.Event | None = None
        self.env = env
        self.cluster = cluster
        self.spec = spec
        self.name = spec.name
        self.gpus = spec.gpus
        self.fabric = fabric
        self.storage = storage
        gpu = cluster.node.gpu
        self.nodes = cluster.nodes_for(spec.gpus)
        self.shape = predict_shape(spec, cluster.node.gpus_per_node) if spec.mode == "predict" else None
        self._reproduced: IterationPlan | None = None
        self.failure = failure_model(spec, self.nodes)
        self._rng = None
        self._exposures: list[float] = []   # the next draws of the failure stream, last one first
        if self.failure is not None and streams is not None and spec.failures.enabled:
            self._rng = streams.generator(f"failures/{spec.name}/{spec.failures.seed}")
        plan = self._plan()
        self.state = TrainingJobState(
            spec=spec,
            nodes=self.nodes,
            iterations=math.ceil(spec.total_flop / spec.flop_per_iteration - 1e-9),
            iteration_s=plan.iteration_s,
        )
        self.first_plan = plan
        # (instant [s], plan) each time the job's iteration is planned: at start, after each restart and
        # each change of its network share.
        self.plans: list[tuple[float, IterationPlan]] = []
        self._set_checkpointing(plan)
        self._refuse_endless_restarts(plan)
        self._in_stretch = False
        self._interrupted = False
        self._stretch: tuple[CheckpointSchedule, IterationPlan] | None = None
        self._phase_w: dict = {}
        self._parts: _StretchParts | None = None   # see `_stretch_parts`
        self.reloads_skipped = 0  # restarts with no checkpoint to read back (from scratch)
        self._borrowed_at_s: list[float] = []
        self._storage_load: Load | None = None
        self._network_load: Load | None = None
        # Failures planned ahead (`_plan_ahead`): the horizon under way, and how many failures the next may hold
        # (halved by each interrupt that cuts one short, doubled by each that runs out, within [1, _MOST_AHEAD];
        # a module-level _FIRST_AHEAD of 0 plans nothing ahead, one event per failure, as tests compare).
        self._ahead: _Ahead | None = None
        self._ahead_limit = _FIRST_AHEAD
        self._pool: SparePool | None = None
        runtime_s = self.state.iterations * plan.iteration_s
        if spec.deadline is not None:
            deadline_s = spec.deadline
        elif spec.slack is not None:
            deadline_s = spec.submit_at + runtime_s + spec.slack
        else:
            deadline_s = math.inf
        # Its claim on the cluster, for the scheduling and shifting policies (run time without failures;
        # no power cap: not modelled for detailed training jobs).
        self.ticket = Ticket(name=spec.name, gpus=spec.gpus, nodes=self.state.nodes, submitted_at_s=spec.submit_at,
                             runtime_s=runtime_s, deadline_at_s=deadline_s, kind="training", job=self,
                             interruptible=spec.interruptible,
                             it_power_at_cap_w=None if self._uncappable else self.it_power_at_cap_w)
        self.process = env.process(self._run())

    # ------------------------------------------------------------------ planning
    def _links(self) -> ClusterLinks:
        if self.fabric is None:
            raise ValueError(f"job {self.name}: mode = 'predict' needs the network model")
        design = self.fabric.design
        if design.intra_node_link is None:
            raise ValueError(f"job {self.name}: no intra-node link known for this accelerator; set [network] intra_node_link")
        inter = AlphaBeta(design.link.latency_s, self.fabric.rate_bytes_per_s(self.name))
        intra = AlphaBeta(design.intra_node_link.latency_s, design.intra_node_link.bandwidth_bytes_per_s)
        return ClusterLinks(intra, inter, design.gpus_per_node)

    def _plan(self) -> IterationPlan:
        peak = self.cluster.node.gpu.peak_flop_per_s
        if self.spec.mode == "predict":
            plan = predict_plan(self.spec, self.shape, peak, self._links())
        else:
            if self._reproduced is None:  # a measured throughput does not change
                self._reproduced = reproduce_plan(self.spec, peak)
            plan = self._reproduced
        # Under a GPU power cap the compute phase runs at the capped clock (tensor-core work: time ~ 1 /
        # clock, sim/physics/dvfs.py); communication waits on the network, not on the clock.
        clock = self._planned_clock = self.clock_ratio()
        return plan if clock == 1.0 else replace(plan, compute_s=plan.compute_s / clock)

    # ------------------------------------------------------------------ power caps (sim/policies/power/)
    @property
    def _uncappable(self) -> bool:
        """Reproduction modes replace the power model by a published figure: a cap has nothing to act on."""
        return self.spec.gpu_hours_x_tdp or self.spec.measured_power_w_per_gpu is not None

    def clock_ratio(self) -> float:
        """GPU clock / full clock of the compute phase under the cluster's current cap (1 without one)."""
        cap_w = getattr(self.cluster, "gpu_cap_w", None)
        if cap_w is None or self._uncappable:
            return 1.0
        gpu = self.cluster.node.gpu
        return clock_ratio_for_cap(cap_w, gpu.idle_w, gpu.dynamic_range_w * TRAINING_ACTIVITY, self._dvfs())

    def _dvfs(self) -> DvfsModel:
        policies = getattr(self.cluster, "policies", None)
        return DvfsModel(min_clock_ratio=policies.min_clock_ratio if policies is not None else 0.5)

    def it_power_at_cap_w(self, cap_w: float | None) -> float:
        """IT power of the job's nodes and spares while computing under `cap_w` [W] (for power budgets)."""
        node, gpu = self.cluster.node, self.cluster.node.gpu
        dynamic_w = gpu.dynamic_range_w * TRAINING_ACTIVITY
        full_w = gpu.idle_w + dynamic_w
        floor_w = gpu_power_at_clock_w(gpu.idle_w, dynamic_w, self._dvfs().min_clock_ratio)
        per_gpu_w = full_w if cap_w is None else min(max(cap_w, floor_w), full_w)
        spares = self.failure.spare_nodes if self.failure is not None else 0
        spare_gpus = self.nodes * node.gpus_per_node - self.gpus
        return (self.gpus * per_gpu_w + spare_gpus * gpu.idle_w + self.nodes * host_power_w(node, TRAINING_ACTIVITY)
                + spares * node.idle_power_w)

    def on_gpu_cap_changed(self, cap_w: float | None) -> None:
        """The power policy changed the cap: re-plan the stretch under way if the clock changes."""
        if self._in_stretch and not self._interrupted and self.clock_ratio() != self._planned_clock:
            self._interrupted = True
            self.process.interrupt("gpu cap changed")

    # ------------------------------------------------------------------ suspension (shifting policies)
    @property
    def finished(self) -> bool:
        return self.state.finished_at_s is not None

    def suspend(self) -> None:
        """Stop training: a checkpoint is written, then the nodes go back (re-planned like a failure)."""
        if self._in_stretch and not self._interrupted:
            self._interrupted = True
            self.process.interrupt(_SUSPEND)

    def resume(self) -> None:
        if self._resume is not None and not self._resume.triggered:
            self._resume.succeed()

    def _take_nodes(self, spares: int) -> tuple[NodeGroup, NodeGroup]:
        """After the request fired: the working group and the group of spares (idle)."""
        group = self.cluster.take(self.spec.gpus, owner=self.name)
        # Spare nodes and nodes in repair, all idle; it grows when a free node of the cluster is borrowed.
        self._spare_group = spare_group = self.cluster.take(0, owner=self.name, nodes=spares)
        if spares:
            spare_group.set_phase(self.env.now, IDLE)
        if self.fabric is not None and self.spec.mode == "predict":
            self.fabric.join(self, self.env.now)
        self.running = True
        return group, spare_group

    def _give_back(self, group: NodeGroup, spare_group: NodeGroup) -> None:
        now = self.env.now
        self.running = False
        if self.fabric is not None and self.spec.mode == "predict":
            self.fabric.leave(self, now)
        for load in (self._storage_load, self._network_load):
            if load is not None:
                load.set_power_w(now, 0.0)
        self.cluster.release(group)
        if spare_group.nodes:
            self.cluster.release(spare_group)

    def _suspend(self, group: NodeGroup, spare_group: NodeGroup, ledger: Ledger, spares: int):
        """Generator: write a checkpoint now (synchronously, at the checkpoint-write draw), commit it, give
        the nodes back, wait to be resumed, ask for nodes again, and read the checkpoint back. Returns the
        new groups, the schedule from the end of the reload and the restart to draw until then. The
        failure clock stops while the job holds no nodes; nodes in repair keep repairing."""
        env, st, ticket = self.env, self.state, self.ticket
        write_s = st.checkpoint_write_s if self.storage is not None else 0.0
        group.set_power(env.now, *self._phase_power_w(group, CHECKPOINT_WRITE))
        if self._storage_load is not None:
            self._storage_load.set_power_w(env.now, self.storage.write_power_w())
        if self._network_load is not None:
            self._network_load.set_power_w(env.now, 0.0)
        if write_s > 0:
            yield env.timeout(write_s)
        ledger.committed, ledger.since_commit_compute_s, ledger.pending = ledger.progress, 0.0, None
        ledger.checkpoints += 1
        ledger.paused_s += write_s
        ledger.anchor_s = env.now
        self._give_back(group, spare_group)
        suspended_at_s = env.now
        ticket.suspensions += 1
        self._resume = env.event()
        yield self._resume
        self._resume = None
        ticket.suspended_s += env.now - suspended_at_s
        yield self.cluster.request((self.nodes + spares) * self.cluster.node.gpus_per_node, ticket)
        group, spare_group = self._take_nodes(spares)
        reload_s = 0.0
        if self.storage is not None and ledger.committed > 0:
            reload_s = self.storage.read_time_s(st.checkpoint_bytes)
        ledger.restart(env.now + reload_s)
        return group, spare_group, self._schedule(env.now + reload_s), (env.now, 0.0, reload_s)

    def _note_clock(self, now_s: float) -> None:
        if not self._clock_log or self._clock_log[-1][1] != self._planned_clock:
            self._clock_log.append((now_s, self._planned_clock))

    def mean_clock_ratio(self, end_s: float) -> float:
        """Time-mean clock ratio of the compute phase from the start to the end (or `end_s`)."""
        st = self.state
        if st.started_at_s is None or not self._clock_log:
            return math.nan
        stop_s = st.finished_at_s if st.finished_at_s is not None else end_s
        points = [*self._clock_log, (stop_s, None)]
        total = math.fsum((b[0] - a[0]) * a[1] for a, b in zip(points, points[1:]))
        span_s = stop_s - self._clock_log[0][0]
        return total / span_s if span_s > 0 else self._clock_log[-1][1]

    def _set_checkpointing(self, plan: IterationPlan) -> None:
        st, spec = self.state, self.spec
        st.checkpoint_bytes = checkpoint_size_bytes(spec.parameters, spec.checkpoint.bytes_per_parameter)
        st.checkpoint_write_s = self.storage.write_time_s(st.checkpoint_bytes) if self.storage else 0.0
        interval = spec.checkpoint.interval
        if interval == "none":
            st.checkpoint_interval_s = math.inf
        elif interval == "young_daly":
            mtbf_s = self.failure.mtbf_s if self.failure is not None else math.inf
            if math.isinf(mtbf_s):
                st.checkpoint_interval_s = math.inf
            else:
                # Never more often than once an iteration (a zero-time checkpoint would ask for it).
                st.checkpoint_interval_s = max(daly_interval_s(st.checkpoint_write_s, mtbf_s), plan.iteration_s)
        else:
            st.checkpoint_interval_s = float(interval)
        if spec.checkpoint.asynchronous and math.isfinite(st.checkpoint_interval_s):
            # One background write at a time: the next snapshot waits for the previous write.
            st.checkpoint_interval_s = max(st.checkpoint_interval_s, st.checkpoint_write_s)

    def _refuse_endless_restarts(self, plan: IterationPlan) -> None:
        """Without checkpoints every failure restarts the job from scratch: the expected number of starts
        grows as exp(T / M) (T: failure-free run time, M: the job's MTBF). Refuse what would not end."""
        st = self.state
        if (self.failure is None or not self.spec.failures.enabled or math.isfinite(st.checkpoint_interval_s)
                or self.failure.rate_per_s == 0):
            return
        ratio = st.iterations * plan.iteration_s * self.failure.rate_per_s
        if ratio > 20:
            from sim.errors import ScenarioError

            raise ScenarioError(
                f"job {self.name!r}: checkpoint.interval = 'none' with a failure every "
                f"{self.failure.mtbf_s / 3600:.3g} h on average for {st.iterations * plan.iteration_s / 3600:.3g} h of "
                f"training: it would restart from scratch about e^{ratio:.0f} times; give a checkpoint interval"
            )

    def _schedule(self, origin_s: float) -> CheckpointSchedule:
        st = self.state
        return CheckpointSchedule(
            origin_s=origin_s,
            interval_s=st.checkpoint_interval_s,
            write_s=st.checkpoint_write_s,
            pauses=not self.spec.checkpoint.asynchronous,
        )

    # -------------------------------------------------------------- network events
    def on_network_share_changed(self, now_s: float) -> None:
        """The fabric changed this job's bandwidth: re-plan the stretch under way from now."""
        if self._in_stretch and not self._interrupted:
            self._interrupted = True
            self.process.interrupt("network share changed")

    # ------------------------------------------------------------------ power
    def _phase_power_w(self, group: NodeGroup, phase: PhaseActivity) -> tuple[float, float]:
        """(accelerators, hosts) power of the job's group in ``phase`` [W], computed once per phase."""
        key = (id(group), id(phase))
        if key not in self._phase_w:
            self._phase_w[key] = group.phase_power_w(phase)
        return self._phase_w[key]

    def _profiles(self, group: NodeGroup, now_s: float, plan: IterationPlan) -> tuple[ConstantPower | PeriodicPower, ...]:
        """(accelerators, hosts) power of one iteration, on the job's training clock from ``now_s``."""
        spec = self.spec
        if spec.gpu_hours_x_tdp:
            # Arithmetic mode: reproduces GPU-hours x TDP figures; host and spare GPUs left out as they did.
            gpu_w, host_w = tdp_arithmetic_power_w(group.node.gpu, spec.gpus)
            return ConstantPower(gpu_w), ConstantPower(host_w)
        compute_gpu_w, compute_host_w = self._phase_power_w(group, TRAINING_COMPUTE)
        clock = self._planned_clock
        if clock < 1.0 and not self._uncappable:
            gpu = group.node.gpu
            capped_w = gpu_power_at_clock_w(gpu.idle_w, gpu.dynamic_range_w * TRAINING_ACTIVITY, clock, self._dvfs())
            compute_gpu_w = group.gpus * capped_w + group.spare_gpus * gpu.idle_w
        if spec.measured_power_w_per_gpu is not None:
            # A measured average already contains whatever communication the job waited on.
            gpu_w, host_w = scale_to_measured_system_power(
                compute_gpu_w, compute_host_w, spec.gpus, spec.measured_power_w_per_gpu
            )
            return ConstantPower(gpu_w), ConstantPower(host_w)
        if plan.exposed_communication_s == 0.0:
            return ConstantPower(compute_gpu_w), ConstantPower(compute_host_w)
        comm_gpu_w, comm_host_w = self._phase_power_w(group, EXPOSED_COMMUNICATION)
        comm_gpu_w = min(comm_gpu_w, compute_gpu_w)  # a cap low enough binds the waiting GPUs too
        durations = (plan.compute_s, plan.exposed_communication_s)
        return (
            PeriodicPower(now_s, durations, (compute_gpu_w, comm_gpu_w)),
            PeriodicPower(now_s, durations, (compute_host_w, comm_host_w)),
        )

    def _stretch_parts(self, group: NodeGroup, plan: IterationPlan) -> _StretchParts:
        """What the profiles of a stretch take from the job's group, plan and clock, not from when it starts.
        Kept while those stay (every restart after a failure re-plans with the inputs of the stretch the
        failure cut), so a failure builds only what depends on its instants."""
        parts = self._parts
        if (parts is not None and parts.group is group and (parts.plan is plan or parts.plan == plan)
                and parts.clock == self._planned_clock):
            return parts
        iteration = self._profiles(group, 0.0, plan)
        if any(isinstance(profile, PeriodicPower) for profile in iteration):
            iteration = None  # on the training clock of each stretch: built per stretch
        read = traffic = ZERO
        write_w = 0.0
        if self._storage_load is not None:
            tokens_per_s = self.spec.batch_tokens / plan.iteration_s
            read = ConstantPower(self.storage.read_power_w(self.spec.dataset_bytes_per_token * tokens_per_s))
            write_w = self.storage.write_power_w()
        if self._network_load is not None:
            design = self.fabric.design
            traffic = ConstantPower(
                plan.internode_bytes_per_gpu * self.gpus * BITS_PER_BYTE * design.energy_per_bit_j
                * design.hops(self.nodes) / plan.iteration_s
            )
        idle_gpu_w, idle_host_w = self._phase_power_w(group, IDLE)
        parts = self._parts = _StretchParts(
            group, plan, self._planned_clock, iteration, *self._phase_power_w(group, CHECKPOINT_WRITE),
            read, write_w, traffic, ConstantPower(idle_gpu_w), ConstantPower(idle_host_w),
        )
        return parts

    def _stretch_profiles(self, group: NodeGroup, schedule: CheckpointSchedule, plan: IterationPlan, from_s: float):
        """(accelerators, hosts, storage, traffic) profiles of training under ``schedule`` from ``from_s``."""
        parts = self._stretch_parts(group, plan)
        pause_s = schedule.pause_s
        if pause_s > 0:
            gpu_it, host_it = parts.iteration or self._profiles(group, schedule.compute_s(from_s), plan)
            gpu = CyclicPower(schedule.origin_s, schedule.interval_s, pause_s, gpu_it, parts.pause_gpu_w)
            host = CyclicPower(schedule.origin_s, schedule.interval_s, pause_s, host_it, parts.pause_host_w)
        else:
            gpu, host = parts.iteration or self._profiles(group, from_s, plan)
        storage = traffic = None
        if self._storage_load is not None:
            storage = self._cycle(schedule, parts.read, parts.write_w)
        if self._network_load is not None:
            traffic = self._cycle(schedule, parts.traffic, None)
        return gpu, host, storage, traffic

    def _restart_profiles(self, group: NodeGroup, restart: tuple[float, float, float]):
        """(accelerators, hosts, storage, traffic) while the job waits after a failure at ``fail_s``: idle,
        then the checkpoint read back at the tier's full rate for the last ``reload_s``."""
        fail_s, wait_s, reload_s = restart
        parts = self._parts if self._parts is not None and self._parts.group is group else None
        if parts is None:
            gpu_w, host_w = self._phase_power_w(group, IDLE)
            gpu, host = ConstantPower(gpu_w), ConstantPower(host_w)
        else:
            gpu, host = parts.idle_gpu, parts.idle_host
        storage = None
        if self._storage_load is not None:
            reload_w = self.storage.read_power_w()
            if reload_s > 0 and wait_s > 0:
                storage = CyclicPower(fail_s, wait_s, reload_s, ZERO, reload_w)
            else:
                storage = ConstantPower(reload_w if reload_s > 0 else 0.0)
        return gpu, host, storage, ZERO

    def _set_power(self, group: NodeGroup, schedule: CheckpointSchedule, plan: IterationPlan, now_s: float,
                   restart: tuple[float, float, float] | None) -> None:
        """Every load of the job from ``now_s``: training from the schedule's origin on, preceded by the
        restart under way if any (one profile per load, switching at the known resume instant)."""
        resume_s = schedule.origin_s
        stretch = self._stretch_profiles(group, schedule, plan, max(now_s, resume_s))
        if restart is not None and now_s < resume_s:
            before = self._restart_profiles(group, restart)
            profiles = [None if a is None else SwitchPower(resume_s, b, a) for b, a in zip(before, stretch)]
        else:
            profiles = list(stretch)
        self._hand_profiles(group, now_s, profiles)

    def _hand_profiles(self, group: NodeGroup, now_s: float, profiles) -> None:
        """The job's (accelerators, hosts, storage, traffic) profiles from ``now_s`` to the meter in one change;
        storage and traffic only where the job has those loads."""
        others = []
        if self._storage_load is not None:
            others.append((self._storage_load, profiles[2]))
        if self._network_load is not None:
            others.append((self._network_load, profiles[3]))
        group.set_profiles(now_s, profiles[0], profiles[1], others)

    def _fail(self, fail_s: float, borrow) -> tuple[float, float, bool]:
        """A failure at ``fail_s``, the ledger advanced to it: the work since the last committed checkpoint is
        lost, a failed node is replaced (``borrow``: how to take a free node of the cluster, if the pool has no
        spare), the checkpoint is read back, and the ledger restarts when that is done. Returns (wait [s],
        reload [s], whether the reload was skipped: nothing committed yet). The one sequence of a failure, live
        (`_run`), planned ahead (`_plan_ahead`) and done again (`_rewind`), so that all three give one number."""
        ledger = self.state.ledger
        ledger.fail()
        wait_s = self._pool.replace(fail_s, self.failure.detection_s + self.failure.replacement_s, borrow)
        skipped = not (self.storage is not None and ledger.committed > 0)
        reload_s = 0.0 if skipped else self.storage.read_time_s(self.state.checkpoint_bytes)
        ledger.restart(fail_s + wait_s + reload_s)
        return wait_s, reload_s, skipped

    def _count_failure(self, fail_s: float, resume_s: float, reload_skipped: bool) -> None:
        """What a failure leaves in the job's state once it has struck."""
        st = self.state
        st.failures += 1
        st.failure_times_s.append(fail_s)
        st.restarts.append((fail_s, resume_s))
        if reload_skipped:
            self.reloads_skipped += 1

    def _plan_ahead(self, plan: IterationPlan, first: _Stretch, fail_at: float) -> _Ahead:
        """Plan the failures to come that need nothing from outside the job: each strikes at its drawn instant
        with a spare at hand, so its restart and the stretch after it follow from the job's own state alone.
        The ledger and spare pool go through them now (`_rewind` undoes what an interrupt or the end of the run
        cuts short); the meter gets all their profiles in one change (`_set_power_ahead`) and SimPy one timeout,
        to the end of the last stretch or its failure (taken as usual, borrowing a node if it must). This is what
        makes failures cheap: the ~500 failures of the Llama 3 run take a dozen events, not 500 (issue 5)."""
        st, ledger, pool = self.state, self.state.ledger, self._pool
        iteration_s = plan.iteration_s
        ledger_before, pool_before = ledger.snapshot(), pool.snapshot()
        planned: list[_PlannedFailure] = []
        schedule = first.schedule
        while True:
            ledger.advance(fail_at, schedule, iteration_s)
            wait_s, reload_s, skipped = self._fail(fail_at, _no_borrow)
            resume_s = fail_at + wait_s + reload_s
            schedule = self._schedule(resume_s)
            exposure_s = self._draw_exposure()
            running_from_s = max(fail_at, resume_s)
            left_s = (st.iterations - ledger.progress) * iteration_s
            planned.append(_PlannedFailure(fail_at, skipped, _Stretch(schedule, (fail_at, wait_s, reload_s),
                                                                      running_from_s, exposure_s, left_s)))
            finish_at = schedule.time_at_compute_s(schedule.compute_s(running_from_s) + left_s)
            fail_at = running_from_s + exposure_s
            if not (fail_at < finish_at and len(planned) < self._ahead_limit and pool.spare_at(fail_at)):
                self._ahead = _Ahead(ledger_before, pool_before, plan, first, planned, finish_at, fail_at)
                return self._ahead

    def _set_power_ahead(self, group: NodeGroup, now_s: float, ahead: _Ahead) -> None:
        """As `_set_power`, through the failures planned ahead: the restart under way (if any) and the stretch, then
        each failure's restart and the stretch after it, one `TimelinePower` per load."""
        plan = ahead.plan
        starts: list[float] = []
        pieces: list[tuple] = []   # (accelerators, hosts, storage, traffic) from each start
        first = ahead.first
        if first.restart is not None and now_s < first.running_from_s:
            starts.append(now_s)
            pieces.append(self._restart_profiles(group, first.restart))
        starts.append(first.running_from_s)
        pieces.append(self._stretch_profiles(group, first.schedule, plan, first.running_from_s))
        for failure in ahead.failures:
            after = failure.after
            if after.running_from_s > failure.fail_s:
                starts.append(failure.fail_s)
                pieces.append(self._restart_profiles(group, after.restart))
            starts.append(after.running_from_s)
            pieces.append(self._stretch_profiles(group, after.schedule, plan, after.running_from_s))
        loads = (True, True, self._storage_load is not None, self._network_load is not None)
        self._hand_profiles(group, now_s, [TimelinePower(starts, list(column)) if load else None
                                           for column, load in zip(zip(*pieces), loads)])

    def planned_remaining_s(self) -> float | None:
        """The ticket's run time left [s] now, while failures planned ahead are under way: that of the stretch in
        force (set at its start, as a job that plans nothing ahead sets it); None otherwise (`Ticket.remaining_s`)."""
        ahead = self._ahead
        if ahead is None:
            return None
        now_s = self.env.now
        remaining_s = ahead.first.remaining_s
        for failure in ahead.failures:
            if failure.fail_s > now_s:
                break
            remaining_s = failure.after.remaining_s
        return remaining_s

    def _commit_ahead(self) -> None:
        """Every failure planned ahead has struck: count them; the stretch under way is the last one's."""
        ahead, self._ahead = self._ahead, None
        for failure in ahead.failures:
            self._count_failure(failure.fail_s, failure.after.schedule.origin_s, failure.reload_skipped)
        last = ahead.failures[-1].after
        self.ticket.remaining_runtime_s = last.remaining_s
        self._stretch = (last.schedule, ahead.plan)
        self._ahead_limit = min(2 * self._ahead_limit, _MOST_AHEAD)

    def _rewind(self, t_s: float) -> _Stretch:
        """Cut the failures planned ahead at ``t_s`` (an interrupt, the end of the run): the ledger and spare pool
        go back to the start of the horizon and through the failures before ``t_s`` again (the same operations
        on the same numbers), the exposures drawn for the later ones go back to the stream's queue, in order.
        Returns the stretch under way at ``t_s``."""
        ahead, self._ahead = self._ahead, None
        ledger, pool = self.state.ledger, self._pool
        ledger.restore(ahead.ledger)
        pool.restore(ahead.pool)
        iteration_s = ahead.plan.iteration_s
        stretch, struck = ahead.first, 0
        for failure in ahead.failures:
            if failure.fail_s >= t_s:
                break
            ledger.advance(failure.fail_s, stretch.schedule, iteration_s)
            self._fail(failure.fail_s, _no_borrow)
            self._count_failure(failure.fail_s, failure.after.schedule.origin_s, failure.reload_skipped)
            stretch, struck = failure.after, struck + 1
        for failure in reversed(ahead.failures[struck:]):
            self._exposures.append(failure.after.exposure_s)
        self.ticket.remaining_runtime_s = stretch.remaining_s
        self._stretch = (stretch.schedule, ahead.plan)
        self._ahead_limit = max(self._ahead_limit // 2, 1)   # one ahead wastes at most one failure's planning
        return stretch

    @staticmethod
    def _cycle(schedule: CheckpointSchedule, running: ConstantPower, write_w: float | None):
        """A per-job storage or traffic draw over the schedule: ``running`` while training, and during
        each checkpoint write ``write_w`` (None: nothing) plus the running draw if training goes on
        (asynchronous) or not (synchronous)."""
        if not schedule.checkpoints or schedule.write_s == 0:
            return running
        during_w = (0.0 if write_w is None else write_w) + (0.0 if schedule.pauses else running.power_w)
        return CyclicPower(schedule.origin_s, schedule.interval_s, schedule.write_s, running, during_w)

    # ------------------------------------------------------------------ the process
    def _run(self):
        env, spec, st = self.env, self.spec, self.state
        if spec.submit_at > 0:
            yield env.timeout(spec.submit_at)
        st.submitted_at_s = env.now
        spares = self.failure.spare_nodes if self.failure is not None else 0
        gpn = self.cluster.node.gpus_per_node
        yield self.cluster.request((self.nodes + spares) * gpn, self.ticket)
        meter = self.cluster.meter
        if self.fabric is not None and spec.mode == "predict":
            if self.fabric.design.energy_per_bit_j > 0 and self.fabric.share is not None:
                self._network_load = meter.load("network", self.name)
        group, spare_group = self._take_nodes(spares)
        st.started_at_s = env.now
        if self.storage is not None and self.storage.powered:
            self._storage_load = meter.load("storage", self.name)

        pool = self._pool = SparePool(spares, self.failure.repair_s) if self.failure is not None else None
        ledger = st.ledger = Ledger(anchor_s=env.now)
        # Training (re)starts at the schedule's origin; after a failure that lies in the future, and the
        # restart until then is part of the same profiles: one event per failure, not two.
        schedule = self._schedule(env.now)
        restart: tuple[float, float, float] | None = None  # (failed at, wait, reload) of the last failure
        exposure_s = self._draw_exposure()
        while True:
            # Once per event: instants and the iteration time are read into locals once (issue 5's speed target).
            now_s = env.now
            plan = self._plan()
            iteration_s = plan.iteration_s
            if not self.plans or (self.plans[-1][1] is not plan and self.plans[-1][1] != plan):
                self.plans.append((now_s, plan))
            st.iteration_s = iteration_s
            left = st.iterations - ledger.progress
            self.ticket.remaining_runtime_s = left * iteration_s
            self._note_clock(now_s)
            self._stretch = (schedule, plan)
            running_from_s = max(now_s, schedule.origin_s)
            finish_at = schedule.time_at_compute_s(schedule.compute_s(running_from_s) + left * iteration_s)
            fail_at = running_from_s + exposure_s
            ahead = None
            if fail_at < finish_at and self._ahead_limit > 0 and pool.spare_at(fail_at):
                first = _Stretch(schedule, restart, running_from_s, exposure_s, self.ticket.remaining_runtime_s)
                ahead = self._plan_ahead(plan, first, fail_at)
                self._set_power_ahead(group, now_s, ahead)
                schedule, restart, running_from_s, exposure_s, _ = ahead.failures[-1].after
                finish_at, fail_at = ahead.finish_at, ahead.fail_at
            else:
                self._set_power(group, schedule, plan, now_s, restart)
            self._in_stretch, self._interrupted = True, False
            try:
                yield env.timeout(max(min(finish_at, fail_at) - now_s, 0.0))
            except simpy.Interrupt as interrupt:
                self._in_stretch, self._interrupted = False, False
                if ahead is not None:
                    schedule, restart, running_from_s, exposure_s, _ = self._rewind(env.now)
                if env.now > running_from_s:  # failures strike while training, not while restarting
                    exposure_s -= env.now - running_from_s
                    ledger.advance(env.now, schedule, iteration_s)
                if interrupt.cause == _SUSPEND:
                    group, spare_group, schedule, restart = yield from self._suspend(group, spare_group, ledger, spares)
                continue
            if ahead is not None:
                self._commit_ahead()
            now_s = env.now
            self._in_stretch = False
            exposure_s -= now_s - running_from_s
            ledger.advance(now_s, schedule, iteration_s)
            if finish_at <= fail_at:
                ledger.progress = float(st.iterations)
                break
            # A failure: back to the last committed checkpoint, then wait for the restart.
            wait_s, reload_s, skipped = self._fail(now_s, self._borrow_node)
            restart = (now_s, wait_s, reload_s)
            resume_s = now_s + wait_s + reload_s
            self._count_failure(now_s, resume_s, skipped)
            schedule = self._schedule(resume_s)
            exposure_s = self._draw_exposure()

        st.finished_at_s = env.now
        self._give_back(group, spare_group)
        self.done.succeed()

    def _borrow_node(self) -> bool:
        """Replace a failed node with a free node of the cluster, if one is free now."""
        if not self.cluster.borrow(self.name, 1):
            return False
        self._spare_group.nodes += 1
        self._spare_group.set_phase(self.env.now, IDLE)
        self.state.borrowed_nodes += 1
        self._borrowed_at_s.append(self.env.now)
        return True

    def allocated_node_s(self, now_s: float) -> float:
        """Node-seconds the job held [s]: its nodes and spares from start to end, borrowed nodes from
        when they were borrowed."""
        st = self.state
        if st.started_at_s is None:
            return 0.0
        end_s = st.finished_at_s if st.finished_at_s is not None else now_s
        spares = self.failure.spare_nodes if self.failure is not None else 0
        held_s = (self.nodes + spares) * (end_s - st.started_at_s)
        return held_s + sum(end_s - t for t in self._borrowed_at_s)

    def _draw_exposure(self) -> float:
        """Running time until the next failure [s], from the job's own stream (memoryless)."""
        if self.failure is None or self._rng is None:
            return math.inf
        if not self._exposures:  # drawn ahead, a batch at a time: the stream is the job's alone
            self._exposures = sample_times_to_failure_s(self._rng, self.failure.rate_per_s, _EXPOSURE_BATCH)[::-1]
        return self._exposures.pop()

    # ------------------------------------------------------------------ results
    def settle(self, now_s: float) -> None:
        """Bring the accounts up to ``now_s`` for a job still running when the run ends."""
        st = self.state
        if st.ledger is None or st.finished_at_s is not None or not self._in_stretch:
            return
        if self._ahead is not None:
            self._rewind(now_s)
        schedule, plan = self._stretch
        if st.ledger.anchor_s < now_s:
            st.ledger.advance(now_s, schedule, plan.iteration_s)

    def result_columns(self, end_s: float, network_kwh: float, storage_kwh: float) -> dict:
        """The training-at-scale columns of jobs.parquet (see sim/output/columns.py)."""
        st = self.state
        ledger = st.ledger
        duration_s = st.duration_s(end_s)
        restart_s = st.restart_total_s(end_s)
        compute_s = ledger.compute_s if ledger else 0.0
        computed = ledger.iterations_computed if ledger else 0.0
        lost_s = ledger.lost_compute_s if ledger else 0.0
        productive_s = compute_s - lost_s
        plan = self._stretch[1] if self._stretch is not None else self.first_plan
        return {
            "mode": self.spec.mode,
            "iteration_s": compute_s / computed if computed > 0 else plan.iteration_s,
            "exposed_communication_s": plan.exposed_communication_s,
            "network_kwh": network_kwh,
            "storage_kwh": storage_kwh,
            "failures": st.failures,
            "lost_work_s": lost_s,
            "restart_s": restart_s,
            "lost_gpu_hours": self.gpus * (lost_s + restart_s) / S_PER_H,
            "checkpoints": ledger.checkpoints if ledger else 0,
            "checkpoint_s": ledger.paused_s if ledger else 0.0,
            "checkpoint_interval_s": st.checkpoint_interval_s,
            "productive_s": productive_s,
            "effective_training_time_ratio": productive_s / duration_s if duration_s > 0 else math.nan,
        }
