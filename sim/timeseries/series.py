"""A piecewise-constant (step-hold) signal anchored to UTC instants.

`values[i]` holds on `[edges_epoch_s[i], edges_epoch_s[i+1])`; the last value holds on
`[edges_epoch_s[-1], end_epoch_s)`. Carbon intensity, prices and weather are all read into
this one shape, so the engine can wake at the signal's own steps and integrate exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np


def to_epoch_s(instant: datetime) -> float:
    """UTC seconds since 1970 of an aware datetime (naive ones are taken as UTC)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=timezone.utc)
    return instant.timestamp()


def from_epoch_s(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, tz=timezone.utc)


@dataclass(frozen=True)
class StepSeries:
    """Step-hold signal. `edges_epoch_s` strictly increasing; `end_epoch_s` closes the last step."""

    name: str
    unit: str
    edges_epoch_s: np.ndarray
    values: np.ndarray
    end_epoch_s: float
    source: str = ""
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        edges = np.asarray(self.edges_epoch_s, dtype=float)
        values = np.asarray(self.values, dtype=float)
        object.__setattr__(self, "edges_epoch_s", edges)
        object.__setattr__(self, "values", values)
        if edges.ndim != 1 or edges.shape != values.shape or edges.size == 0:
            raise ValueError("a StepSeries needs as many edges as values, at least one")
        if np.any(np.diff(edges) <= 0):
            raise ValueError("StepSeries edges must be strictly increasing")
        if not self.end_epoch_s > edges[-1]:
            raise ValueError("StepSeries end must be after its last edge")

    @classmethod
    def constant(cls, name: str, unit: str, value: float, source: str = "constant") -> "StepSeries":
        """A signal that never changes (spans all representable time)."""
        return cls(name, unit, np.array([-np.inf]), np.array([float(value)]), np.inf, source)

    @property
    def is_constant(self) -> bool:
        return self.values.size == 1

    @property
    def start_epoch_s(self) -> float:
        return float(self.edges_epoch_s[0])

    def value_at(self, epoch_s: float) -> float:
        i = int(np.searchsorted(self.edges_epoch_s, epoch_s, side="right")) - 1
        return float(self.values[max(i, 0)])

    def steps_within(self, start_epoch_s: float, end_epoch_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Change instants and new values of the signal strictly after `start` and before `end`,
        plus the value in force at `start` as the first entry (instant = start)."""
        lo = int(np.searchsorted(self.edges_epoch_s, start_epoch_s, side="right"))
        hi = int(np.searchsorted(self.edges_epoch_s, end_epoch_s, side="left"))
        instants = np.concatenate(([start_epoch_s], self.edges_epoch_s[lo:hi]))
        values = np.concatenate(([self.value_at(start_epoch_s)], self.values[lo:hi]))
        return instants, values

    def time_weighted_mean(self, start_epoch_s: float, end_epoch_s: float) -> float:
        """Exact mean of the step signal over [start, end)."""
        instants, values = self.steps_within(start_epoch_s, end_epoch_s)
        durations = np.diff(np.append(instants, end_epoch_s))
        return float(np.dot(durations, values) / (end_epoch_s - start_epoch_s))

    def mean(self) -> float:
        """Time-weighted mean over the whole span of the file."""
        if self.is_constant:
            return float(self.values[0])
        return self.time_weighted_mean(self.start_epoch_s, self.end_epoch_s)
