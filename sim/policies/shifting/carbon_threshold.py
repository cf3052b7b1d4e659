"""carbon_threshold: run deferrable jobs only while the grid's intensity is at or below a threshold.

The threshold is absolute (`threshold_g_per_kwh`) or, by default, the `percentile` (time-weighted) of
the forecast intensity over the job's window [submit, min(deadline, submit + window)], fixed when the job
is submitted. The policy watches the actual intensity: a waiting job is released, and a suspended
interruptible job resumed, at the first step at or below the threshold; an interruptible running job is
suspended at the first step above it. The deadline overrides it (sim/facility/shifting.py).

This is the threshold rule of carbon-aware batch schedulers (e.g. Wiesner et al. 2021, "Let's Wait
Awhile: How Temporal Workload Shifting Can Reduce Carbon Emissions in the Cloud", Middleware'21, who
compare it with forecast-based planning). Under a constant intensity every percentile equals the
intensity, so nothing is ever deferred.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from sim.facility.carbon_view import CarbonView
from sim.facility.tickets import Ticket
from sim.policies.shifting.base import EPS_S


def weighted_percentile(edges_s: np.ndarray, values: np.ndarray, percentile: float) -> float:
    """Time-weighted percentile of a step signal: the smallest value v such that the signal is at or below
    v for at least `percentile` % of the time. Example: 3 h at 100 and 1 h at 300 -> 75th percentile 100."""
    durations = np.diff(edges_s)
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(durations[order])
    target = percentile / 100.0 * cumulative[-1]
    index = int(np.searchsorted(cumulative, target - 1e-9 * cumulative[-1], side="left"))
    return float(values[order][min(index, values.size - 1)])


class CarbonThreshold:
    name: ClassVar[str] = "carbon_threshold"

    def __init__(self, view: CarbonView, window_s: float, threshold_g_per_kwh: float | None = None,
                 percentile: float = 25.0):
        self.view = view
        self.window_s = window_s
        self.absolute = threshold_g_per_kwh
        self.percentile = percentile
        self.thresholds: dict[int, float] = {}

    def on_submit(self, ticket: Ticket, now_s: float) -> None:
        if self.absolute is not None:
            self.thresholds[ticket.seq] = self.absolute
            return
        end_s = max(min(ticket.deadline_at_s, now_s + self.window_s), now_s + EPS_S)
        edges, values = self.view.forecast_steps(now_s, end_s)
        self.thresholds[ticket.seq] = weighted_percentile(edges, values, self.percentile)

    def threshold(self, ticket: Ticket) -> float:
        return self.thresholds[ticket.seq]

    def should_run(self, ticket: Ticket, now_s: float) -> bool:
        return self.view.actual_at(now_s) <= self.thresholds[ticket.seq] * (1 + 1e-12)

    def next_review_s(self, ticket: Ticket, now_s: float) -> float:
        horizon_s = ticket.deadline_at_s - now_s if math.isfinite(ticket.deadline_at_s) else self.window_s
        if self.view.is_constant or horizon_s <= 0:
            return math.inf
        return self.view.next_change_after(now_s, horizon_s)
