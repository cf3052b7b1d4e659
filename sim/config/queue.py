"""[queue]: the jobs that share the cluster with [[jobs]]: inline, from a trace file, or generated.

A queued job asks for `gpus` accelerators for `duration` (its run time at full clock), may have slack (or
a deadline) within which a policy may delay it, and may be interruptible (suspended and resumed). How
compute-bound it is sets how a power cap slows it (sim/physics/dvfs.py).

Imported by sim/config/schema.py just before `Scenario` (it needs the schema's base types).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sim.config.schema import DurationS, InputPath, Number, StrictModel

JOB_KINDS = ("training", "batch")


class QueueJobSpec(StrictModel):
    """[[queue.jobs]]: one queued job (also the shape of a trace row and of a generated job)."""

    name: str = Field(min_length=1, description="Job name, unique; names its row in jobs.parquet.")
    kind: Literal["training", "batch"] = Field("batch", description="Label: 'training' or 'batch'.")
    gpus: int = Field(ge=1, description="Accelerators the job runs on (whole nodes are allocated).")
    submit_at: DurationS = Field(0.0, description="Simulated time at which the job is submitted.")
    duration: DurationS = Field(gt=0, description="Run time at full clock, without waiting or suspension.")
    slack: DurationS | None = Field(
        None, description="How much later than submit + duration the job may finish (deferrable when > 0)."
    )
    deadline: DurationS | None = Field(
        None, description="Latest finish, as simulated time from the start of the run (instead of slack)."
    )
    interruptible: bool = Field(False, description="Whether a policy may suspend and resume the job.")
    compute_bound_fraction: Number = Field(
        0.9, ge=0, le=1,
        description="Share of the run time that scales with the GPU clock (1 compute-bound, 0 memory-bound).",
    )

    @model_validator(mode="after")
    def _slack_or_deadline(self) -> "QueueJobSpec":
        if self.slack is not None and self.deadline is not None:
            raise ValueError("give `slack` or `deadline`, not both")
        if self.deadline is not None and self.deadline < self.submit_at + self.duration:
            raise ValueError(
                f"deadline {self.deadline:g} s is before submit_at + duration = {self.submit_at + self.duration:g} s"
            )
        return self

    @property
    def slack_s(self) -> float:
        """Slack [s]: deadline - (submit + duration), or the given slack, or 0."""
        if self.deadline is not None:
            return self.deadline - self.submit_at - self.duration
        return self.slack if self.slack is not None else 0.0

    @property
    def deadline_s(self) -> float:
        """Latest finish [simulated s]."""
        return self.submit_at + self.duration + self.slack_s


class GeneratorSection(StrictModel):
    """[queue.generator]: synthetic jobs drawn up front on the random stream "job-generator".

    Arrivals are a Poisson process (exponential gaps, not clipped) of `rate_per_h` over [`start`,
    `start` + `span`); sizes from `gpus` (with `gpus_weights`); run times lognormal with median
    `duration_median` and log-sd `duration_sigma`; a share `deferrable_share` gets a slack uniform in
    [`slack_min`, `slack_max`], and among those a share `interruptible_share` is interruptible; the
    compute-bound fraction is uniform in [`compute_bound_min`, `compute_bound_max`]; a share
    `training_share` is labelled training, the rest batch.
    """

    rate_per_h: Number = Field(gt=0, description="Mean arrivals per hour.")
    start: DurationS = Field(0.0, description="Simulated time of the first possible arrival.")
    span: DurationS = Field(gt=0, description="Length of the arrival window.")
    name_prefix: str = Field("gen", min_length=1, description="Generated jobs are named <prefix>-<index>.")
    gpus: list[int] = Field([8], min_length=1, description="Job sizes [GPUs] to draw from.")
    gpus_weights: list[Number] | None = Field(None, description="Relative weights of `gpus` (default equal).")
    duration_median: DurationS = Field(gt=0, description="Median run time at full clock.")
    duration_sigma: Number = Field(0.0, ge=0, description="Standard deviation of ln(run time).")
    deferrable_share: Number = Field(0.0, ge=0, le=1, description="Share of the jobs given a slack (deferrable).")
    slack_min: DurationS = Field(0.0, description="Smallest slack of a deferrable job (uniform in [slack_min, slack_max]).")
    slack_max: DurationS = Field(0.0, description="Largest slack of a deferrable job.")
    interruptible_share: Number = Field(0.0, ge=0, le=1, description="Share of the deferrable jobs.")
    compute_bound_min: Number = Field(0.9, ge=0, le=1, description="Smallest compute-bound fraction of a job (uniform in [min, max]).")
    compute_bound_max: Number = Field(0.9, ge=0, le=1, description="Largest compute-bound fraction of a job.")
    training_share: Number = Field(0.0, ge=0, le=1, description="Share of the jobs labelled training (the rest: batch).")

    @model_validator(mode="after")
    def _consistent(self) -> "GeneratorSection":
        if any(g < 1 for g in self.gpus):
            raise ValueError("every entry of `gpus` must be >= 1")
        if self.gpus_weights is not None:
            if len(self.gpus_weights) != len(self.gpus):
                raise ValueError(f"`gpus_weights` has {len(self.gpus_weights)} entries for {len(self.gpus)} sizes")
            if any(w < 0 for w in self.gpus_weights) or sum(self.gpus_weights) <= 0:
                raise ValueError("`gpus_weights` must be >= 0 with a positive sum")
        if self.slack_max < self.slack_min:
            raise ValueError(f"slack_max ({self.slack_max:g} s) is below slack_min ({self.slack_min:g} s)")
        if self.compute_bound_max < self.compute_bound_min:
            raise ValueError("compute_bound_max is below compute_bound_min")
        return self


class QueueSection(StrictModel):
    """[queue]: batch and training jobs for the scheduler, besides the detailed [[jobs]]."""

    jobs: list[QueueJobSpec] = Field(default_factory=list, description="Inline jobs ([[queue.jobs]]).")
    trace: InputPath | None = Field(
        None, description="CSV trace of jobs (name, submit, gpus, duration or flop+mfu, slack or deadline, "
        "interruptible, ...); relative to the scenario file."
    )
    generator: GeneratorSection | None = Field(None, description="Synthetic jobs ([queue.generator]).")

    @property
    def empty(self) -> bool:
        return not self.jobs and self.trace is None and self.generator is None
