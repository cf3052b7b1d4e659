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
from bisect import bisect_right
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
        object.__setattr__(self, "_last", (math.nan, 0.0))
        constant_w = self.work.power_w if isinstance(self.work, ConstantPower) else None
        object.__setattr__(self, "_constant_work_w", constant_w)

    @property
    def mean_power_w(self) -> float:
        if math.isinf(self.work_s) or self.pause_s == 0:
            return self.work.mean_power_w
        period = self.work_s + self.pause_s
        return (self.work.mean_power_w * self.work_s + self.pause_power_w * self.pause_s) / period

    def _clocks(self, t_s: float) -> tuple[float, float]:
        elapsed = t_s - self.origin_s
        work_s = self.work_s
        if work_s == math.inf:
            return self.work_clock_origin_s + elapsed, 0.0
        period = work_s + self.pause_s
        n = math.floor(elapsed / period)
        u = elapsed - n * period
        if u < work_s:
            return self.work_clock_origin_s + n * work_s + u, n * self.pause_s
        return self.work_clock_origin_s + (n + 1) * work_s, n * self.pause_s + (u - work_s)

    def _cumulative_j(self, t_s: float) -> float:
        """Energy since the origin at ``t_s`` [J] (work pattern on the work clock, pauses at their power);
        the last instant asked is kept: the meter asks for E(a, b) then E(b, c)."""
        last_t, last_j = self._last
        if t_s == last_t:
            return last_j
        work, pause = self._clocks(t_s)
        if self._constant_work_w is not None:
            work_j = self._constant_work_w * (work - self.work_clock_origin_s)
        else:
            work_j = self.work.energy_j(self.work_clock_origin_s, work)
        energy = work_j + self.pause_power_w * pause
        object.__setattr__(self, "_last", (t_s, energy))
        return energy

    def energy_j(self, start_s: float, end_s: float) -> float:
        return self._cumulative_j(end_s) - self._cumulative_j(start_s)

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


class TimelinePower:
    """``profiles[i]`` from ``starts_s[i]`` to ``starts_s[i + 1]``, the last one from its start on: the restarts and
    training stretches a job plans ahead through failures that need nothing from outside it (a spare at hand), handed
    to the meter in one change, so the failures in between cost it no change of its own (sim/workloads/training.py).
    The first profile also holds before ``starts_s[0]``.

    E(a, b) sums the pieces that [a, b) overlaps, split at their starts, as `SwitchPower` does at its one instant. The
    piece last read is kept: the meter reads forward, mostly within one piece (a bin), which then costs one check.
    """

    __slots__ = ("starts_s", "profiles", "_lo_s", "_hi_s", "_piece_energy_j")

    def __init__(self, starts_s: list[float], profiles: list):
        if not profiles or len(starts_s) != len(profiles):
            raise ValueError("a timeline needs one start per profile, at least one profile")
        if any(b < a for a, b in zip(starts_s, starts_s[1:])):
            raise ValueError("a timeline's starts must be ascending")
        self.starts_s = starts_s
        self.profiles = profiles
        self._lo_s = -math.inf
        self._hi_s = starts_s[1] if len(starts_s) > 1 else math.inf
        self._piece_energy_j = profiles[0].energy_j

    @property
    def mean_power_w(self) -> float:
        """The last piece's: what the timeline settles into (as `SwitchPower` gives its ``after``)."""
        return self.profiles[-1].mean_power_w

    def energy_j(self, start_s: float, end_s: float) -> float:
        if self._lo_s <= start_s and end_s <= self._hi_s:
            return self._piece_energy_j(start_s, end_s)
        starts, profiles, last = self.starts_s, self.profiles, len(self.starts_s) - 1
        i = max(bisect_right(starts, start_s) - 1, 0)
        total, t_s = 0.0, start_s
        while True:
            hi_s = starts[i + 1] if i < last else math.inf
            piece = profiles[i]
            if end_s <= hi_s:
                total += piece.energy_j(t_s, end_s)
                break
            total += piece.energy_j(t_s, hi_s)
            t_s = hi_s
            i += 1
        self._lo_s, self._hi_s, self._piece_energy_j = (starts[i] if i else -math.inf), hi_s, piece.energy_j
        return total
