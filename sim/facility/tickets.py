"""A job's request for nodes, as the scheduler and the policies see it.

A ticket carries what a scheduler may know about a job (size, submission, estimated run time, deadline,
whether it can be paused) and what happened to it in the queue (when it was released by a shifting
policy, when it started, the reservation a backfilling scheduler gave it). Jobs keep their own physics;
policies decide on tickets only.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Callable

import simpy

_SEQUENCE = itertools.count()


@dataclass(eq=False)
class Ticket:
    """One job's claim on the cluster. Instants are simulated seconds; `runtime_s` is at full clock."""

    name: str
    gpus: int
    nodes: int
    submitted_at_s: float
    runtime_s: float = math.inf  # estimated run time at full clock (inf: unknown)
    deadline_at_s: float = math.inf  # latest finish (inf: none)
    interruptible: bool = False
    compute_bound_fraction: float = 1.0
    kind: str = "job"
    # IT power of the job's nodes under a GPU power cap [W] (GPUs + hosts; None: no cap), for power
    # policies; None: the job does not follow caps (counted at its nodes' rated maximum).
    it_power_at_cap_w: Callable[[float | None], float] | None = None
    priority: int = 1  # 0: infrastructure (services), served before jobs
    seq: int = field(default_factory=lambda: next(_SEQUENCE))
    # ------------------------------------------------------------------ what happened
    granted: simpy.Event | None = None
    queued_at_s: float | None = None  # entered the queue (after any deferral)
    started_at_s: float | None = None  # first start
    last_start_s: float | None = None  # latest start (after a resume)
    expected_end_s: float = math.inf  # while running: when the scheduler expects the nodes back
    remaining_runtime_s: float | None = None  # at the current clock; set by the job (None: runtime_s)
    reserved_start_at_s: float | None = None  # first reservation an EASY-backfill scheduler gave it as head
    deferred_s: float = 0.0  # time held back by the shifting policy before entering the queue
    suspended_s: float = 0.0
    suspensions: int = 0
    held_nodes: int = 0
    job: object | None = None  # the workload object, for suspend/resume and clock changes

    @property
    def slack_s(self) -> float:
        """Deadline - (submit + run time at full clock) [s]; 0 without deadline."""
        if math.isinf(self.deadline_at_s) or math.isinf(self.runtime_s):
            return 0.0
        return max(self.deadline_at_s - self.submitted_at_s - self.runtime_s, 0.0)

    @property
    def deferrable(self) -> bool:
        return self.slack_s > 0

    def remaining_s(self) -> float:
        """Run time still needed at the current clock [s]. A job that plans its state ahead of its events (a
        training job's failures, sim/workloads/training.py) answers for the instant asked: `planned_remaining_s`."""
        planned = getattr(self.job, "planned_remaining_s", None)
        if planned is not None:
            remaining_s = planned()
            if remaining_s is not None:
                return remaining_s
        return self.runtime_s if self.remaining_runtime_s is None else self.remaining_runtime_s

    def latest_start_s(self) -> float:
        """Latest instant at which running without a break still meets the deadline [s]."""
        return self.deadline_at_s - self.remaining_s()

    def order_key(self) -> tuple:
        """Submission order: infrastructure first, then by submission time, then by creation."""
        return (self.priority, self.submitted_at_s, self.seq)
