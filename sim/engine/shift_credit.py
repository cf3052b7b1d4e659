"""Carbon credited to deferral: each job's carbon as run against its carbon had it run at submission.

THE BASELINE ("run now"): the same job, with the same energy profile, started at its submission and run
without a break. Its power trace as run (the IT power of its nodes at every change, from the cluster) is
cut into its running stretches; the baseline puts those stretches back to back from the submission
instant, in the same order and with the same powers, and evaluates them against the SAME grid signals
(average and, when given, marginal intensity) at the shifted instants. Facility overhead is the job's
own facility/IT ratio over the run (exact for a fixed PUE; for a weather-dependent plant it is the ratio
the job saw, applied to both sides). So the only difference between the two figures is WHEN the energy
was drawn:

    carbon_as_run   = sum_k  P_k x r x integral over [a_k, b_k)           of CI(t) dt
    carbon_run_now  = sum_k  P_k x r x integral over [c_k, c_k + b_k - a_k) of CI(t) dt,
                      c_1 = submission, c_(k+1) = c_k + (b_k - a_k)

    saved = run_now - as_run  (> 0: the decisions saved carbon)

The saving splits where the job's time went. The deferral decision alone is credited with
    deferral_saved = run_now - (the same back-to-back profile from the instant the job entered the queue)
and the rest (queue wait, suspensions) is saved - deferral_saved.

A job that ran at once, unbroken, is credited exactly zero. What the baseline does not do: it neither
re-runs the scheduler (the queue wait the job would have had under "run now" is not modelled: a job
delayed by the queue alone is credited with whatever that delay saved or cost) nor charges the nodes that
sat idle meanwhile; those show up in the cluster's totals, which `python -m sim compare` sets side by side.
A job's power during a stretch is its mean power (a training job's iterations of seconds are averaged).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sim.facility.grid_signals import SignalSource
from sim.units import G_PER_KG, J_PER_KWH


class SignalIntegral:
    """Exact integral [unit x s] of a step signal over any [a, b) inside [0, span_s] (simulated seconds),
    from one window of the source read once: F(b) - F(a) with F the running integral on its steps."""

    def __init__(self, source: SignalSource, start_epoch_s: float, span_s: float):
        self.constant = source.value_at(start_epoch_s) if source.is_constant else None
        if self.constant is None:
            a, b = start_epoch_s, start_epoch_s + max(span_s, 1.0)
            instants, values = source.window(a, b).steps_within(a, b)
            edges_s = np.append(instants, b) - start_epoch_s
            # plain lists and bisect: one lookup per stretch, where numpy's per-call cost dominates
            self.edges_s = edges_s.tolist()
            self.values = np.asarray(values, dtype=float).tolist()
            self.cumulative = np.concatenate(([0.0], np.cumsum(np.diff(edges_s) * values))).tolist()

    def _running(self, t_s: float) -> float:
        i = min(max(bisect_right(self.edges_s, t_s) - 1, 0), len(self.values) - 1)
        return self.cumulative[i] + self.values[i] * (t_s - self.edges_s[i])

    def __call__(self, a_s: float, b_s: float) -> float:
        if b_s <= a_s:
            return 0.0
        if self.constant is not None:
            return self.constant * (b_s - a_s)
        return self._running(b_s) - self._running(a_s)


class Stretch(NamedTuple):
    """[start_s, end_s) at constant IT power [W], simulated seconds. (A NamedTuple: a training job's trace
    has a point per failure, and a tuple is a third of the cost of a frozen dataclass to build.)"""

    start_s: float
    end_s: float
    it_power_w: float


def running_stretches(trace: list[tuple[float, float]], end_s: float) -> list[Stretch]:
    """The stretches of non-zero power of a trace of (instant, power) changes; the last one runs to `end_s`."""
    stretches = []
    points = sorted(trace, key=lambda p: p[0])
    for i, (t_s, power_w) in enumerate(points):
        next_s = points[i + 1][0] if i + 1 < len(points) else end_s
        if power_w > 0 and next_s > t_s:
            stretches.append(Stretch(t_s, next_s, power_w))
    return stretches


def carbon_kg(stretches: list[Stretch], facility_ratio: float, intensity: SignalIntegral) -> float:
    """Carbon [kgCO2e] of the stretches' facility energy against a step signal of intensity [gCO2e/kWh]."""
    total_g = 0.0
    for s in stretches:
        total_g += s.it_power_w * facility_ratio * intensity(s.start_s, s.end_s) / J_PER_KWH  # W x g/kWh x s
    return total_g / G_PER_KG


def shifted_to(stretches: list[Stretch], start_s: float) -> list[Stretch]:
    """The stretches back to back from `start_s`, same order and powers."""
    shifted, cursor = [], start_s
    for s in stretches:
        length = s.end_s - s.start_s
        shifted.append(Stretch(cursor, cursor + length, s.it_power_w))
        cursor += length
    return shifted


@dataclass(frozen=True)
class ShiftCredit:
    as_run_kg: float
    run_now_kg: float
    at_queue_entry_kg: float

    @property
    def saved_kg(self) -> float:
        return self.run_now_kg - self.as_run_kg

    @property
    def deferral_saved_kg(self) -> float:
        return self.run_now_kg - self.at_queue_entry_kg


def shift_credit(trace: list[tuple[float, float]], submitted_at_s: float, end_s: float, facility_ratio: float,
                 intensity: SignalIntegral, queued_at_s: float | None = None) -> ShiftCredit:
    """As-run, run-now and at-queue-entry carbon of one job (see the module docstring); `intensity` must
    cover [0, end_s]."""
    stretches = running_stretches(trace, end_s)
    run_now = carbon_kg(shifted_to(stretches, submitted_at_s), facility_ratio, intensity)
    at_queue = run_now if queued_at_s is None or queued_at_s == submitted_at_s else carbon_kg(
        shifted_to(stretches, queued_at_s), facility_ratio, intensity)
    return ShiftCredit(
        as_run_kg=carbon_kg(stretches, facility_ratio, intensity),
        run_now_kg=run_now,
        at_queue_entry_kg=at_queue,
    )
