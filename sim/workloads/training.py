"""Training jobs as SimPy processes.

A job waits for nodes, then runs identical iterations. Iteration time follows from the work per
iteration and the achieved throughput (measured, or MFU x peak); within an iteration the GPUs pass
through compute and exposed-communication phases. The whole run of identical iterations is handed
to the meter as one periodic power profile and advanced in one step: the job's duration comes out
of the simulation, its cost is O(1) events, and the time series stays exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import simpy

from sim.config.schema import TrainingJobSpec
from sim.engine.profiles import ConstantPower, PeriodicPower
from sim.facility.cluster import Cluster, NodeGroup
from sim.physics.power import (
    EXPOSED_COMMUNICATION,
    TRAINING_COMPUTE,
    scale_to_measured_system_power,
    tdp_arithmetic_power_w,
)


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
        return (now_s - self.started_at_s) / self.iteration_s


def achieved_flop_per_s_per_gpu(spec: TrainingJobSpec, peak_flop_per_s: float) -> float:
    """Measured throughput per accelerator, or MFU x peak [FLOP/s]."""
    if spec.achieved_flop_per_s_per_gpu is not None:
        return spec.achieved_flop_per_s_per_gpu
    return spec.mfu * peak_flop_per_s


class TrainingJob:
    def __init__(self, env: simpy.Environment, cluster: Cluster, spec: TrainingJobSpec):
        self.env = env
        self.cluster = cluster
        self.spec = spec
        throughput = achieved_flop_per_s_per_gpu(spec, cluster.node.gpu.peak_flop_per_s)
        iteration_s = spec.flop_per_iteration / (spec.gpus * throughput)
        self.state = TrainingJobState(
            spec=spec,
            nodes=cluster.nodes_for(spec.gpus),
            iterations=math.ceil(spec.total_flop / spec.flop_per_iteration - 1e-9),
            iteration_s=iteration_s,
        )
        self.process = env.process(self._run())

    def _profiles(self, group: NodeGroup, now_s: float) -> tuple[ConstantPower | PeriodicPower, ...]:
        spec = self.spec
        if spec.gpu_hours_x_tdp:
            # Arithmetic mode: reproduces GPU-hours x TDP figures; host and spare GPUs left out as they did.
            gpu_w, host_w = tdp_arithmetic_power_w(group.node.gpu, spec.gpus)
            return ConstantPower(gpu_w), ConstantPower(host_w)
        compute_gpu_w, compute_host_w = group.phase_power_w(TRAINING_COMPUTE)
        if spec.measured_power_w_per_gpu is not None:
            # A measured average already contains whatever communication the job waited on.
            gpu_w, host_w = scale_to_measured_system_power(
                compute_gpu_w, compute_host_w, spec.gpus, spec.measured_power_w_per_gpu
            )
            return ConstantPower(gpu_w), ConstantPower(host_w)
        comm = spec.exposed_communication_fraction
        if comm == 0.0:
            return ConstantPower(compute_gpu_w), ConstantPower(compute_host_w)
        comm_gpu_w, comm_host_w = group.phase_power_w(EXPOSED_COMMUNICATION)
        durations = ((1.0 - comm) * self.state.iteration_s, comm * self.state.iteration_s)
        return (
            PeriodicPower(now_s, durations, (compute_gpu_w, comm_gpu_w)),
            PeriodicPower(now_s, durations, (compute_host_w, comm_host_w)),
        )

    def _run(self):
        env, state = self.env, self.state
        if self.spec.submit_at > 0:
            yield env.timeout(self.spec.submit_at)
        state.submitted_at_s = env.now
        yield self.cluster.request(self.spec.gpus)
        group = self.cluster.take(self.spec.gpus, owner=self.spec.name)
        state.started_at_s = env.now
        group.set_profiles(env.now, *self._profiles(group, env.now))
        yield env.timeout(state.iterations * state.iteration_s)
        state.finished_at_s = env.now
        self.cluster.release(group)
