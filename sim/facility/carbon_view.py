"""What a carbon-aware policy may know about the grid: the intensity now, and a forecast of what comes.

The forecast is the real signal with an error injected: every UTC hour h gets one relative error
e_h ~ Normal(0, sigma), drawn on its own random stream ("forecast") in hour order from the run's first
hour, so the forecast of an hour is the same whenever it is asked for and whichever policy asks:

    forecast(t) = max(actual(t) x (1 + e_h(t)), 0)

sigma = 0 gives a perfect forecast. Instants here are simulated seconds from the start of the run.
"""

from __future__ import annotations

import math

import numpy as np

from sim.facility.grid_signals import SignalSource
from sim.units import S_PER_H


class CarbonView:
    """The intensity of one signal source (average or marginal) as seen by policies, with a forecast."""

    def __init__(self, source: SignalSource, start_epoch_s: float, forecast_error: float = 0.0,
                 rng: np.random.Generator | None = None):
        if forecast_error < 0:
            raise ValueError(f"forecast_error must be >= 0, got {forecast_error}")
        if forecast_error > 0 and rng is None:
            raise ValueError("a forecast with an error needs its random stream")
        self.source = source
        self.start_epoch_s = float(start_epoch_s)
        self.forecast_error = float(forecast_error)
        self._rng = rng
        self._first_hour = math.floor(self.start_epoch_s / S_PER_H)
        self._noise: list[float] = []

    @property
    def is_constant(self) -> bool:
        return self.source.is_constant

    def actual_at(self, t_s: float) -> float:
        """The intensity in force at simulated instant `t_s`."""
        epoch = self.start_epoch_s + t_s
        return self.source.window(epoch, epoch + 1.0).value_at(epoch)

    def next_change_after(self, t_s: float, horizon_s: float) -> float:
        """The first instant after `t_s` at which the signal changes, or `t_s + horizon_s` if none before."""
        if self.source.is_constant:
            return t_s + horizon_s
        a = self.start_epoch_s + t_s
        instants, values = self.source.window(a, a + horizon_s).steps_within(a, a + horizon_s)
        changed = np.flatnonzero(values[1:] != values[0])
        return float(instants[changed[0] + 1] - self.start_epoch_s) if changed.size else t_s + horizon_s

    def actual_steps(self, t0_s: float, t1_s: float) -> tuple[np.ndarray, np.ndarray]:
        """The actual signal on [t0, t1) as step edges (n + 1, from t0 to t1) and values (n), cut at every
        UTC hour boundary too, so that each step lies in one forecast hour."""
        if t1_s <= t0_s:
            raise ValueError("an empty window")
        a, b = self.start_epoch_s + t0_s, self.start_epoch_s + t1_s
        if self.source.is_constant:
            instants, values = np.array([a]), np.array([self.source.value_at(a)])
        else:
            instants, values = self.source.window(a, b).steps_within(a, b)
        hours = np.arange(math.floor(a / S_PER_H) + 1, math.ceil(b / S_PER_H)) * S_PER_H
        hours = hours[(hours > a) & (hours < b)]
        edges = np.union1d(instants, hours)
        index = np.searchsorted(instants, edges, side="right") - 1
        return np.append(edges, b) - self.start_epoch_s, values[index]

    def forecast_steps(self, t0_s: float, t1_s: float) -> tuple[np.ndarray, np.ndarray]:
        """The forecast on [t0, t1): edges and values as `actual_steps`, with each hour's error applied."""
        edges, values = self.actual_steps(t0_s, t1_s)
        if self.forecast_error == 0:
            return edges, values
        hours = np.floor((edges[:-1] + self.start_epoch_s) / S_PER_H).astype(np.int64) - self._first_hour
        noise = self._noise_for(int(hours.max()))
        return edges, np.maximum(values * (1.0 + noise[hours]), 0.0)

    def _noise_for(self, last_hour: int) -> np.ndarray:
        missing = last_hour + 1 - len(self._noise)
        if missing > 0:
            self._noise.extend(self._rng.normal(0.0, self.forecast_error, size=missing).tolist())
        return np.asarray(self._noise)


def window_means(edges_s: np.ndarray, values: np.ndarray, starts_s: np.ndarray, length_s: float) -> np.ndarray:
    """Mean of the step signal (edges, values) over [t, t + length) for each t in `starts_s` (clipped to
    the last edge): F(t + L) - F(t) over L, with F the running integral."""
    cumulative = np.concatenate(([0.0], np.cumsum(np.diff(edges_s) * values)))

    def integral(t: np.ndarray) -> np.ndarray:
        t = np.clip(t, edges_s[0], edges_s[-1])
        i = np.clip(np.searchsorted(edges_s, t, side="right") - 1, 0, values.size - 1)
        return cumulative[i] + values[i] * (t - edges_s[i])

    ends = np.minimum(starts_s + length_s, edges_s[-1])
    spans = ends - starts_s
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (integral(ends) - integral(starts_s)) / spans
    return np.where(spans > 0, means, values[np.clip(np.searchsorted(edges_s, starts_s, side="right") - 1, 0, values.size - 1)])
