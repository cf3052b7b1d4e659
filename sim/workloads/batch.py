"""Queued jobs ([queue]): a fixed amount of work on a fixed number of GPUs, paused and slowed by policies.

A queued job needs `duration` seconds of work at full clock on `gpus` accelerators. It asks the cluster
for nodes with a ticket (sim/facility/tickets.py), so that the policies can defer it, schedule it,
suspend and resume it (when interruptible) and cap its GPUs. While it runs, its accelerators draw the
power of their activity at the clock the cap allows, and its work advances at the speed that clock
gives (sim/physics/dvfs.py):

    GPU power   P(s) = P_idle + (P_tdp - P_idle) a s^3,    a = activity of its boundedness
    progress    d(work)/dt = 1 / (beta / s + 1 - beta)

with s the clock ratio and beta the compute-bound share of its run time. Each stretch at constant clock
is one constant power and one SimPy timeout; a cap change or a suspension interrupts the timeout and the
job re-plans from the work it has done. A suspension costs nothing here (no checkpoint write or reload is
modelled for queued jobs; detailed training jobs model theirs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import simpy

from sim.config.queue import QueueJobSpec
from sim.facility.cluster import Cluster, NodeGroup
from sim.facility.tickets import Ticket
from sim.physics.dvfs import DvfsModel, activity_for_boundedness, clock_ratio_for_cap, gpu_power_at_clock_w, time_stretch
from sim.physics.power import TRAINING_ACTIVITY, host_power_w

_SUSPEND = "suspend"
_REPLAN = "replan"
_DONE_S = 1e-9


@dataclass
class BatchJobState:
    """What happened to a queued job; instants are simulated seconds from the start of the run."""

    spec: QueueJobSpec
    nodes: int
    submitted_at_s: float | None = None
    started_at_s: float | None = None
    finished_at_s: float | None = None
    work_done_s: float = 0.0  # work done, in seconds at full clock
    held_s: float = 0.0  # time holding nodes (closed stretches)
    holding_since_s: float | None = None
    clock_time_integral: float = 0.0  # clock ratio x running time
    running_s: float = 0.0
    segment_start_s: float | None = None
    segment_clock: float = 1.0
    segment_stretch: float = 1.0
    suspended: bool = False

    @property
    def iteration_s(self) -> float:
        """One 'iteration' of a queued job is its whole work at full clock."""
        return self.spec.duration

    @property
    def iterations(self) -> int:
        return 1

    @property
    def status(self) -> str:
        if self.finished_at_s is not None:
            return "completed"
        if self.suspended:
            return "suspended"
        return "running" if self.holding_since_s is not None else "queued"

    def work_done_at(self, now_s: float) -> float:
        """Work done by `now_s` [s at full clock], counting the stretch under way."""
        done = self.work_done_s
        if self.segment_start_s is not None:
            done += (now_s - self.segment_start_s) / self.segment_stretch
        return min(done, self.spec.duration)

    def iterations_done(self, now_s: float) -> float:
        if self.finished_at_s is not None:
            return 1.0
        return self.work_done_at(now_s) / self.spec.duration

    def gpu_seconds(self, now_s: float) -> float:
        held = self.held_s + (now_s - self.holding_since_s if self.holding_since_s is not None else 0.0)
        return self.spec.gpus * held

    def holding_s(self, now_s: float) -> float:
        return self.held_s + (now_s - self.holding_since_s if self.holding_since_s is not None else 0.0)

    def mean_clock_ratio(self, now_s: float) -> float:
        integral, running = self.clock_time_integral, self.running_s
        if self.segment_start_s is not None:
            integral += self.segment_clock * (now_s - self.segment_start_s)
            running += now_s - self.segment_start_s
        return integral / running if running > 0 else math.nan


class BatchJob:
    """A queued job as a SimPy process; `ticket` is its claim on the cluster."""

    def __init__(self, env: simpy.Environment, cluster: Cluster, spec: QueueJobSpec,
                 dvfs: DvfsModel | None = None):
        self.env = env
        self.cluster = cluster
        self.spec = spec
        self.name = spec.name
        self.dvfs = dvfs if dvfs is not None else DvfsModel(min_clock_ratio=cluster.policies.min_clock_ratio)
        gpu = cluster.node.gpu
        self.activity = activity_for_boundedness(spec.compute_bound_fraction, TRAINING_ACTIVITY)
        self.dynamic_w = gpu.dynamic_range_w * self.activity
        nodes = cluster.nodes_for(spec.gpus)
        self.state = BatchJobState(spec=spec, nodes=nodes)
        # What a power policy asks many times: the draw of everything but the working GPUs, and one working
        # GPU's draw at full clock and at the lowest clock [W].
        node = cluster.node
        self._fixed_w = (nodes * node.gpus_per_node - spec.gpus) * gpu.idle_w + nodes * host_power_w(node, self.activity)
        self._gpu_full_w = gpu_power_at_clock_w(gpu.idle_w, self.dynamic_w, 1.0, self.dvfs)
        self._gpu_floor_w = gpu_power_at_clock_w(gpu.idle_w, self.dynamic_w, self.dvfs.min_clock_ratio, self.dvfs)
        self.ticket = Ticket(
            name=spec.name, gpus=spec.gpus, nodes=nodes, submitted_at_s=spec.submit_at, runtime_s=spec.duration,
            deadline_at_s=spec.deadline_s if spec.slack_s > 0 or spec.deadline is not None else math.inf,
            interruptible=spec.interruptible, compute_bound_fraction=spec.compute_bound_fraction, kind=spec.kind,
            it_power_at_cap_w=self.it_power_at_cap_w, job=self,
        )
        self.done = env.event()
        self.running = False
        self._group: NodeGroup | None = None
        self._in_segment = False
        self._resume: simpy.Event | None = None
        self.process = env.process(self._run())

    @property
    def finished(self) -> bool:
        return self.state.finished_at_s is not None

    # ------------------------------------------------------------------ physics
    def clock_ratio(self, cap_w: float | None) -> float:
        if cap_w is None:
            return 1.0
        return clock_ratio_for_cap(cap_w, self.cluster.node.gpu.idle_w, self.dynamic_w, self.dvfs)

    def power_w(self, clock_ratio: float) -> tuple[float, float]:
        """(accelerators, hosts) power [W] of the job's nodes at `clock_ratio`; spare GPUs idle."""
        node, gpu = self.cluster.node, self.cluster.node.gpu
        per_gpu_w = gpu_power_at_clock_w(gpu.idle_w, self.dynamic_w, clock_ratio, self.dvfs)
        spare = self.state.nodes * node.gpus_per_node - self.spec.gpus
        return self.spec.gpus * per_gpu_w + spare * gpu.idle_w, self.state.nodes * host_power_w(node, self.activity)

    def it_power_at_cap_w(self, cap_w: float | None) -> float:
        """IT power of the job's nodes under `cap_w` [W]: a reachable cap binds each working GPU at the cap
        exactly (same as sum(power_w(clock_ratio(cap))), without the root)."""
        per_gpu_w = self._gpu_full_w if cap_w is None else min(max(cap_w, self._gpu_floor_w), self._gpu_full_w)
        return self._fixed_w + self.spec.gpus * per_gpu_w

    # ------------------------------------------------------------------ policy hooks
    def on_gpu_cap_changed(self, cap_w: float | None) -> None:
        """The power policy changed the cap: re-plan the stretch under way if the clock changes."""
        if self._in_segment and self.clock_ratio(cap_w) != self.state.segment_clock:
            self._in_segment = False
            self.process.interrupt(_REPLAN)

    def suspend(self) -> None:
        """Stop at once and give the nodes back (interruptible jobs; called by the shift controller)."""
        if self._in_segment:
            self._in_segment = False
            self.process.interrupt(_SUSPEND)

    def resume(self) -> None:
        if self._resume is not None and not self._resume.triggered:
            self._resume.succeed()

    # ------------------------------------------------------------------ the process
    def _close_segment(self, now_s: float) -> None:
        st = self.state
        elapsed = now_s - st.segment_start_s
        st.work_done_s = min(st.work_done_s + elapsed / st.segment_stretch, self.spec.duration)
        st.clock_time_integral += st.segment_clock * elapsed
        st.running_s += elapsed
        st.segment_start_s = None

    def _run(self):
        env, st, spec, ticket = self.env, self.state, self.spec, self.ticket
        if spec.submit_at > 0:
            yield env.timeout(spec.submit_at)
        st.submitted_at_s = env.now
        while True:
            yield self.cluster.request(spec.gpus, ticket)
            group = self.cluster.take(spec.gpus, owner=self.name)
            if st.started_at_s is None:
                st.started_at_s = env.now
            st.holding_since_s = env.now
            self.running = True
            suspended = False
            while spec.duration - st.work_done_s > _DONE_S * max(spec.duration, 1.0):
                clock = self.clock_ratio(self.cluster.gpu_cap_w)
                stretch = time_stretch(clock, spec.compute_bound_fraction)
                group.set_power(env.now, *self.power_w(clock))
                left_s = (spec.duration - st.work_done_s) * stretch
                ticket.remaining_runtime_s = left_s
                ticket.expected_end_s = env.now + left_s
                st.segment_start_s, st.segment_clock, st.segment_stretch = env.now, clock, stretch
                self._in_segment = True
                try:
                    yield env.timeout(left_s)
                    self._in_segment = False
                    self._close_segment(env.now)
                    st.work_done_s = spec.duration
                except simpy.Interrupt as interrupt:
                    self._close_segment(env.now)
                    if interrupt.cause == _SUSPEND:
                        suspended = True
                        break
            self.running = False
            st.held_s += env.now - st.holding_since_s
            st.holding_since_s = None
            ticket.remaining_runtime_s = (spec.duration - st.work_done_s) * time_stretch(
                self.clock_ratio(self.cluster.gpu_cap_w), spec.compute_bound_fraction)
            if not suspended:
                st.finished_at_s = env.now
                self.cluster.release(group)
                self.done.succeed()
                return
            st.suspended = True
            ticket.suspensions += 1
            suspended_at_s = env.now
            self._resume = env.event()
            self.cluster.release(group)
            yield self._resume
            self._resume = None
            st.suspended = False
            ticket.suspended_s += env.now - suspended_at_s
