"""Signals (grid carbon intensity, weather) wake the simulation at their own steps.

A signal is a StepSeries on UTC epoch seconds; its driver is a SimPy process that sleeps until each
change instant and hands the new value to the meter, which first integrates the old one. A constant
signal needs no process at all.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import simpy

from sim.timeseries.series import StepSeries


def drive_signal(
    env: simpy.Environment,
    series: StepSeries,
    start_epoch_s: float,
    apply: Callable[[float, float], None],
):
    """SimPy process: call `apply(now_s, value)` at every step of `series` after the run's start."""
    edges = series.edges_epoch_s
    index = int(np.searchsorted(edges, start_epoch_s, side="right"))
    while index < edges.size:
        wait_s = (edges[index] - start_epoch_s) - env.now
        if wait_s > 0:
            yield env.timeout(wait_s)
        apply(env.now, float(series.values[index]))
        index += 1
