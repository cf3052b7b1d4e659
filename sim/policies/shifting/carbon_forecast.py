"""carbon_forecast: plan each deferrable job into the hours of lowest forecast intensity within its slack.

When a deferrable job is submitted, the policy reads the forecast (the actual signal with an error of a
stated level, sim/facility/carbon_view.py) over the window [now, min(deadline, now + window)] and plans:

- a job that cannot be interrupted starts at the instant t in [now, latest start] (and with its whole run
  inside the window) that minimises the mean forecast intensity over [t, t + run time); the optimum lies
  where the start or the end of the run meets a step of the forecast, so those instants are the
  candidates; ties go to the earliest;
- an interruptible job runs in the forecast steps of lowest intensity (ties: earliest) until they add up
  to its run time, and is suspended in between; its last planned stretch is open-ended.

A run that does not fit in the window runs now. This is the forecast-based temporal shifting of
Wiesner et al. 2021 ("Let's Wait Awhile", Middleware'21), including its interruptible variant. Under a
constant intensity every candidate ties and the earliest (now) wins: nothing moves.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from sim.facility.carbon_view import CarbonView, window_means
from sim.facility.tickets import Ticket
from sim.policies.shifting.base import EPS_S


def best_start_s(edges_s: np.ndarray, values: np.ndarray, now_s: float, latest_s: float, runtime_s: float) -> float:
    """The start in [now, latest] minimising the mean of the step signal over [t, t + runtime) (earliest on ties)."""
    if latest_s <= now_s:
        return now_s
    candidates = np.concatenate(([now_s, latest_s], edges_s, edges_s - runtime_s))
    candidates = np.unique(candidates[(candidates >= now_s) & (candidates <= latest_s)])
    means = window_means(edges_s, values, candidates, runtime_s)
    best = means.min()
    return float(candidates[np.flatnonzero(means <= best + 1e-12 * max(abs(best), 1.0))[0]])


def cheapest_stretches(edges_s: np.ndarray, values: np.ndarray, runtime_s: float) -> list[list[float]]:
    """The steps of lowest value (ties: earliest) adding up to `runtime_s`, merged into sorted stretches;
    the last step taken is cut to what is still needed (its beginning)."""
    order = np.lexsort((edges_s[:-1], values))
    chosen, needed = [], runtime_s
    for i in order:
        if needed <= EPS_S:
            break
        length = min(edges_s[i + 1] - edges_s[i], needed)
        chosen.append((float(edges_s[i]), float(edges_s[i] + length)))
        needed -= length
    chosen.sort()
    merged: list[list[float]] = []
    for a, b in chosen:
        if merged and a <= merged[-1][1] + EPS_S:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return merged


class CarbonForecast:
    name: ClassVar[str] = "carbon_forecast"

    def __init__(self, view: CarbonView, window_s: float):
        self.view = view
        self.window_s = window_s
        self.plans: dict[int, list[list[float]]] = {}

    def on_submit(self, ticket: Ticket, now_s: float) -> None:
        runtime_s = ticket.remaining_s()
        horizon_s = min(ticket.deadline_at_s, now_s + self.window_s)
        if horizon_s - now_s <= runtime_s + EPS_S:
            self.plans[ticket.seq] = [[now_s, math.inf]]
            return
        edges, values = self.view.forecast_steps(now_s, horizon_s)
        if ticket.interruptible:
            plan = cheapest_stretches(edges, values, runtime_s)
        else:
            start_s = best_start_s(edges, values, now_s, min(ticket.latest_start_s(), horizon_s - runtime_s), runtime_s)
            plan = [[start_s, start_s + runtime_s]]
        plan[-1][1] = math.inf
        self.plans[ticket.seq] = plan

    def plan(self, ticket: Ticket) -> list[list[float]]:
        return self.plans[ticket.seq]

    def should_run(self, ticket: Ticket, now_s: float) -> bool:
        return any(a <= now_s + EPS_S and now_s + EPS_S < b for a, b in self.plans[ticket.seq])

    def next_review_s(self, ticket: Ticket, now_s: float) -> float:
        for a, b in self.plans[ticket.seq]:
            if a > now_s + EPS_S:
                return a
            if b > now_s + EPS_S:
                return b
        return math.inf
