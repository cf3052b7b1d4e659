"""Where a training job stands between failures: iterations done, iterations safe in a checkpoint, and
the time spent computing, pausing for checkpoints and waiting to restart.

Between two failures a job follows a `CheckpointSchedule`: cycles of ``interval_s`` of compute then a
checkpoint write of ``write_s``. A synchronous checkpoint pauses training for the write; an asynchronous
one writes in the background while training goes on. The checkpoint holds the state at the end of the
compute part (the snapshot) and is safe once the write ends (the commit), at the end of the cycle. A
failure loses everything since the last committed snapshot, including a write in progress.

Progress is fluid: iterations are real numbers, ``progress(t) = p0 + (compute(t) - compute(t0)) / T``
with T the current iteration time. T may change mid-stretch when the network share of the job changes;
the `Ledger` is then advanced to that instant under the old T and carries on under the new one, so the
schedule itself (a property of time, not of iterations) never moves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from sim.engine.cyclic import cycle_position, pause_clock_s, work_clock_s


@dataclass(frozen=True)
class CheckpointSchedule:
    """Cycles from ``origin_s``: ``interval_s`` of compute [s] (``inf``: no checkpoints), then a write of
    ``write_s`` [s]; ``pauses`` says whether training stops during the write (synchronous)."""

    origin_s: float
    interval_s: float
    write_s: float
    pauses: bool
    # whether it checkpoints at all (a finite interval): read several times per failure, so kept
    checkpoints: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.interval_s > 0:
            raise ValueError(f"interval_s must be > 0, got {self.interval_s!r}")
        if not (self.write_s >= 0 and math.isfinite(self.write_s)):
            raise ValueError(f"write_s must be finite and >= 0, got {self.write_s!r}")
        object.__setattr__(self, "checkpoints", math.isfinite(self.interval_s))

    @property
    def pause_s(self) -> float:
        """Length of the training stall per cycle [s]: the write if synchronous, else 0."""
        return self.write_s if (self.pauses and self.checkpoints) else 0.0

    @property
    def period_s(self) -> float:
        return self.interval_s + self.write_s

    def cycles_done(self, t_s: float) -> int:
        """Checkpoints committed since the origin at ``t_s``."""
        if not self.checkpoints:
            return 0
        return cycle_position(self.origin_s, self.interval_s, self.write_s, t_s)[0]

    def snapshot_at_s(self, cycle: int) -> float:
        """When checkpoint ``cycle`` (0-based) takes its snapshot: the end of that cycle's compute."""
        return self.origin_s + cycle * self.period_s + self.interval_s

    def compute_s(self, t_s: float) -> float:
        """Training time since the origin at ``t_s`` [s] (pauses excluded)."""
        if not self.pauses or not self.checkpoints:
            return t_s - self.origin_s
        return work_clock_s(self.origin_s, self.interval_s, self.write_s, t_s)

    def paused_s(self, t_s: float) -> float:
        """Checkpoint stall since the origin at ``t_s`` [s]."""
        if not self.pauses or not self.checkpoints:
            return 0.0
        return pause_clock_s(self.origin_s, self.interval_s, self.write_s, t_s)

    def state(self, t_s: float) -> tuple[int, float, float]:
        """(checkpoints committed, training time, checkpoint stall) since the origin at ``t_s``, from one
        reading of the cycle position."""
        elapsed = t_s - self.origin_s
        if not self.checkpoints:
            return 0, elapsed, 0.0
        period = self.interval_s + self.write_s
        n = math.floor(elapsed / period)
        u = elapsed - n * period
        if not self.pauses:
            return n, elapsed, 0.0
        if u < self.interval_s:
            return n, n * self.interval_s + u, n * self.write_s
        return n, (n + 1) * self.interval_s, n * self.write_s + (u - self.interval_s)

    def compute_at_snapshot_s(self, cycle: int) -> float:
        """Training time since the origin when checkpoint ``cycle`` takes its snapshot."""
        if self.pauses:
            return (cycle + 1) * self.interval_s
        return cycle * self.period_s + self.interval_s

    def time_at_compute_s(self, compute_s: float) -> float:
        """Earliest instant at which ``compute_s`` of training has been done since the origin."""
        if compute_s <= 0:
            return self.origin_s
        if not self.pauses or not self.checkpoints:
            return self.origin_s + compute_s
        cycles = math.ceil(compute_s / self.interval_s) - 1
        return self.origin_s + cycles * self.period_s + (compute_s - cycles * self.interval_s)


@dataclass
class Ledger:
    """Progress and time accounts of one job, advanced at each event of the job (never per iteration).

    ``progress`` and ``committed`` are in iterations; ``since_commit_compute_s`` is the training time done
    since the committed snapshot, i.e. the work a failure now would throw away.
    """

    anchor_s: float
    progress: float = 0.0
    committed: float = 0.0
    since_commit_compute_s: float = 0.0
    # A snapshot taken but not yet committed at anchor_s: (its progress, compute done since it).
    pending: tuple[float, float] | None = None
    compute_s: float = 0.0
    paused_s: float = 0.0
    checkpoints: int = 0
    lost_compute_s: float = 0.0
    lost_iterations: float = 0.0
    iterations_computed: float = 0.0

    def advance(self, t_s: float, schedule: CheckpointSchedule, iteration_s: float) -> None:
        """Account for [anchor_s, t_s] under ``schedule`` at ``iteration_s`` per iteration."""
        a = self.anchor_s
        if t_s < a:
            raise ValueError(f"ledger cannot go back: {t_s} < {a}")
        n0, compute_a, paused_a = schedule.state(a)
        n1, compute_t, paused_t = schedule.state(t_s)
        done = compute_t - compute_a

        if n1 > n0:
            self.checkpoints += n1 - n0
            if schedule.snapshot_at_s(n1 - 1) >= a:
                snap_compute = schedule.compute_at_snapshot_s(n1 - 1)
                self.committed = self.progress + (snap_compute - compute_a) / iteration_s
                self.since_commit_compute_s = compute_t - snap_compute
            else:  # the write under way at the anchor has finished
                if self.pending is None:
                    raise RuntimeError("a checkpoint committed without a snapshot")
                self.committed = self.pending[0]
                self.since_commit_compute_s = self.pending[1] + done
        else:
            self.since_commit_compute_s += done

        if schedule.checkpoints and schedule.snapshot_at_s(n1) <= t_s:
            if schedule.snapshot_at_s(n1) >= a:
                snap_compute = schedule.compute_at_snapshot_s(n1)
                self.pending = (self.progress + (snap_compute - compute_a) / iteration_s, compute_t - snap_compute)
            elif self.pending is not None:
                self.pending = (self.pending[0], self.pending[1] + done)
        else:
            self.pending = None

        self.progress += done / iteration_s
        self.iterations_computed += done / iteration_s
        self.compute_s += done
        self.paused_s += paused_t - paused_a
        self.anchor_s = t_s

    def fail(self) -> tuple[float, float]:
        """A failure at anchor_s: progress falls back to the committed snapshot.
        Returns (iterations lost, training time lost [s])."""
        lost = (self.progress - self.committed, self.since_commit_compute_s)
        self.lost_iterations += lost[0]
        self.lost_compute_s += lost[1]
        self.progress = self.committed
        self.since_commit_compute_s = 0.0
        self.pending = None
        return lost

    def snapshot(self) -> "Ledger":
        """A copy of the accounts now, for `restore`."""
        return replace(self)

    def restore(self, snapshot: "Ledger") -> None:
        """The accounts as they were at `snapshot` (this object kept: the job state refers to it)."""
        self.__dict__.update(vars(snapshot))

    def restart(self, t_s: float) -> None:
        """Training resumes at ``t_s`` from the committed snapshot (the restart wait is not training)."""
        self.anchor_s = t_s

    @property
    def productive_s(self) -> float:
        """Training time whose work was kept [s]."""
        return self.compute_s - self.lost_compute_s
