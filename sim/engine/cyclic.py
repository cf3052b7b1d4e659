"""A power profile that alternates work and pauses, with the work's own pattern on a clock that stops
during the pauses.

A training job that checkpoints synchronously runs ``work_s`` seconds of iterations (themselves a
periodic compute / communication pattern), then stops for ``pause_s`` seconds while the checkpoint is
written, and so on. Handing the meter one such profile per stretch between failures keeps the cost of a
run at O(failures), not O(checkpoints) or O(iterations), and the integral stays exact:

    c(t)  = c0 + n W + min(u, W)                  work clock    (n = floor((t - t0) / (W + P)),
    p(t)  =      n P + max(u - W, 0)              pause clock    u = t - t0 - n (W + P))
    E(a, b) = E_work(c(a), c(b)) + P_pause (p(b) - p(a))

with W = work_s, P = pause_s and E_work the energy of the work profile between two readings of the
work clock. ``work_s = inf`` means no pauses: the work clock is the wall clock shifted by c0 - t0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.engine.profiles import ConstantPower, PeriodicPower


def cycle_position(origin_s: float, work_s: float, pause_s: float, t_s: float) -> tuple[int, float]:
    """(completed cycles n, offset u in the current cycle) at ``t_s`` for cycles of ``work_s + pause_s``
    starting at ``origin_s``. With ``work_s = inf`` there is one endless cycle."""
    elapsed = t_s - origin_s
    if math.isinf(work_s):
        return 0, elapsed
    period = work_s + pause_s
    n = math.floor(elapsed / period)
    return n, elapsed - n * period


def work_clock_s(origin_s: float, work_s: float, pause_s: float, t_s: float) -> float:
    """Work time since ``origin_s`` at ``t_s`` [s]: ``n W + min(u, W)``."""
    n, u = cycle_position(origin_s, work_s, pause_s, t_s)
    if math.isinf(work_s):
        return u
    return n * work_s + min(u, work_s)


def pause_clock_s(origin_s: float, work_s: float, pause_s: float, t_s: float) -> float:
    """Pause time since ``origin_s`` at ``t_s`` [s]: ``n P + max(u - W, 0)``."""
    if math.isinf(work_s):
        return 0.0
    n, u = cycle_position(origin_s, work_s, pause_s, t_s)
    return n * pause_s + max(u - work_s, 0.0)


@dataclass(frozen=True)
class CyclicPower:
    """Work phases of ``work_s`` following ``work`` (read on the work clock) and pauses of ``pause_s`` at
    ``pause_power_w``, repeated from ``origin_s``. ``work_clock_origin_s`` is the work clock at ``origin_s``.
    """

    origin_s: float
    work_s: float
    pause_s: float
    work: ConstantPower | PeriodicPower
    pause_power_w: float
    work_clock_origin_s: float = 0.0

    def __post_init__(self) -> None:
        if not self.work_s > 0:
            raise ValueError(f"work_s must be > 0, got {self.work_s!r}")
        if not (self.pause_s >= 0 and math.isfinite(self.pause_s)):
            raise ValueError(f"pause_s must be finite and >= 0, got {self.pause_s!r}")
        # The meter asks for E(a, b) then E(b, c): the clocks at the last instant are kept.
        object.__setattr__(self, "_last", (math.nan, 0.0, 0.0))
        constant_w = self.work.power_w if isinstance(self.work, ConstantPower) else None
        object.__setattr__(self, "_constant_work_w", constant_w)

    @property
    def mean_power_w(self) -> float:
        if math.isinf(self.work_s) or self.pause_s == 0:
            return self.work.mean_power_w
        period = self.work_s + self.pause_s
        return (self.work.mean_power_w * self.work_s + self.pause_power_w * self.pause_s) / period

    def _clocks(self, t_s: float) -> tuple[float, float]:
        last_t, last_work, last_pause = self._last
        if t_s == last_t:
            return last_work, last_pause
        elapsed = t_s - self.origin_s
        work_s = self.work_s
        if work_s == math.inf:
            work, pause = self.work_clock_origin_s + elapsed, 0.0
        else:  # cycle_position, inlined: the meter calls this for every load at every event and bin
            period = work_s + self.pause_s
            n = math.floor(elapsed / period)
            u = elapsed - n * period
            if u < work_s:
                work, pause = self.work_clock_origin_s + n * work_s + u, n * self.pause_s
            else:
                work, pause = self.work_clock_origin_s + (n + 1) * work_s, n * self.pause_s + (u - work_s)
        object.__setattr__(self, "_last", (t_s, work, pause))
        return work, pause

    def energy_j(self, start_s: float, end_s: float) -> float:
        work_a, pause_a = self._clocks(start_s)
        work_b, pause_b = self._clocks(end_s)
        pause_e = self.pause_power_w * (pause_b - pause_a)
        if self._constant_work_w is not None:
            return self._constant_work_w * (work_b - work_a) + pause_e
        return self.work.energy_j(work_a, work_b) + pause_e


@dataclass(frozen=True)
class SwitchPower:
    """``before`` until ``at_s``, ``after`` from then on: a change of state known in advance (a restart that
    ends at a known instant) handed to the meter in one go, so it costs no event of its own."""

    at_s: float
    before: object
    after: object

    @property
    def mean_power_w(self) -> float:
        return self.after.mean_power_w

    def energy_j(self, start_s: float, end_s: float) -> float:
        at_s = self.at_s
        if start_s >= at_s:
            return self.after.energy_j(start_s, end_s)
        if end_s <= at_s:
            return self.before.energy_j(start_s, end_s)
        return self.before.energy_j(start_s, at_s) + self.after.energy_j(at_s, end_s)
