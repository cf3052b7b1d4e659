"""The grid signals of a run: where each comes from, how it covers the run, and how it reaches the meter.

A signal source is a constant, a built-in region (`sim.timeseries.regions`), a file (`sim.timeseries.grid_files`)
or a daily profile (24 UTC-hour values). Each gives a StepSeries for any window [a, b) of UTC epoch seconds:

- A FILE must contain the run's start (else DataFileError naming its span). If the run outlasts it, the
  phase-1 rule of `cover_run` applies: its last whole weeks are repeated, aligned by weekday and hour, and
  the run's summary gets the warning that says so. The file's reading notes (gaps filled, labels, DST) are
  surfaced as warnings too.
- A REGION is generated for whatever window is asked (its model repeats every year).
- A CONSTANT never changes and needs no process.

`schedule_source` is the SimPy process that hands the meter every step after the run's start, one week of steps
at a time (`Meter.schedule_signal`, which applies them as its time crosses them: one SimPy event a week); so a
run of any length needs no end known in advance. `drive_source` does the same with an event per step, through
`drive_signal`, for a callback that is not the meter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import simpy

from sim.facility.signals import drive_signal
from sim.timeseries.grid_files import WEEK_S, cover_run, read_signal
from sim.timeseries.regions import get_region, regional_profile
from sim.timeseries.series import StepSeries
from sim.units import S_PER_DAY, S_PER_H

# Steps are handed to the meter one window at a time; a week keeps memory flat on year-long runs.
DRIVE_WINDOW_S = WEEK_S
# A file extended beyond its end is extended this far ahead at a time (a year of repeats, in whole weeks).
_EXTEND_AHEAD_S = 52 * WEEK_S


class SignalSource:
    """One grid signal: `window(a, b)` covers [a, b) [UTC epoch s]; `value_at(t)`; what it is, in words."""

    label: str
    unit: str
    is_constant: bool = False

    @property
    def description(self) -> str:
        raise NotImplementedError

    @property
    def notes(self) -> tuple[str, ...]:
        """Rules applied while reading the source, for the run's warnings (files only)."""
        return ()

    def window(self, start_epoch_s: float, end_epoch_s: float) -> StepSeries:
        raise NotImplementedError

    def value_at(self, epoch_s: float) -> float:
        return self.window(epoch_s, epoch_s + 1.0).value_at(epoch_s)

    def check_start(self, start_epoch_s: float) -> None:
        """Raise DataFileError if the run cannot start at `start_epoch_s` with this source."""

    def end_warning(self, start_epoch_s: float, end_epoch_s: float) -> str | None:
        """The warning to give when the run [start, end) outlasts the source, else None."""
        return None

    def energy_integral(self, start_epoch_s: float, end_epoch_s: float) -> float:
        """Exact integral of the step signal over [start, end) [unit x s]."""
        if end_epoch_s <= start_epoch_s:
            return 0.0
        series = self.window(start_epoch_s, end_epoch_s)
        return series.time_weighted_mean(start_epoch_s, end_epoch_s) * (end_epoch_s - start_epoch_s)


@dataclass
class ConstantSource(SignalSource):
    label: str
    unit: str
    value: float
    origin: str  # e.g. "scenario grid.carbon_intensity_g_per_kwh" or "default: world 2023 (Ember)"
    is_constant: bool = True

    @property
    def description(self) -> str:
        return f"constant {self.value:g} {self.unit} ({self.origin})"

    def window(self, start_epoch_s: float, end_epoch_s: float) -> StepSeries:
        return StepSeries.constant(self.label, self.unit, self.value, self.origin)

    def value_at(self, epoch_s: float) -> float:
        return self.value


@dataclass
class FileSource(SignalSource):
    """A signal read from a file; extended by the `cover_run` rule when the run outlasts it."""

    label: str
    series: StepSeries
    _run_start_epoch_s: float | None = field(default=None, repr=False)
    _extended: StepSeries | None = field(default=None, repr=False)

    @property
    def unit(self) -> str:  # type: ignore[override]
        return self.series.unit

    @property
    def description(self) -> str:
        return f"file {self.series.source} (mean {self.series.mean():.4g} {self.series.unit})"

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(f"{self.series.source}: {note}" for note in self.series.notes)

    def check_start(self, start_epoch_s: float) -> None:
        cover_run(self.series, start_epoch_s, start_epoch_s + 1.0)  # raises DataFileError with the span
        self._run_start_epoch_s = start_epoch_s

    def end_warning(self, start_epoch_s: float, end_epoch_s: float) -> str | None:
        if end_epoch_s <= self.series.end_epoch_s:
            return None
        return cover_run(self.series, start_epoch_s, end_epoch_s)[1]

    def window(self, start_epoch_s: float, end_epoch_s: float) -> StepSeries:
        if end_epoch_s <= self.series.end_epoch_s:
            return self.series
        if self._extended is None or end_epoch_s > self._extended.end_epoch_s:
            run_start = self._run_start_epoch_s if self._run_start_epoch_s is not None else self.series.start_epoch_s
            self._extended, _ = cover_run(self.series, run_start, end_epoch_s + _EXTEND_AHEAD_S)
        return self._extended


@dataclass
class RegionSource(SignalSource):
    """A built-in region's hourly carbon intensity (model and sources in sim.timeseries.regions)."""

    label: str
    region: str
    unit: str = "gCO2e/kWh"

    @property
    def description(self) -> str:
        r = get_region(self.region)
        return (f"built-in region {r.name!r}: annual mean {r.annual_mean_g_per_kwh:g} gCO2e/kWh ({r.emissions_basis}; "
                f"{r.mean_source}); shape: {r.shape_source}")

    def window(self, start_epoch_s: float, end_epoch_s: float) -> StepSeries:
        return regional_profile(self.region, start_epoch_s, end_epoch_s)


@dataclass
class DailyProfileSource(SignalSource):
    """24 values, one per UTC hour of the day, repeated every day."""

    label: str
    unit: str
    hourly_values: tuple[float, ...]
    origin: str

    def __post_init__(self) -> None:
        if len(self.hourly_values) != 24:
            raise ValueError("a daily profile needs 24 values, one per UTC hour")

    @property
    def description(self) -> str:
        mean = sum(self.hourly_values) / len(self.hourly_values)
        return f"daily profile by UTC hour, mean {mean:g} {self.unit} ({self.origin})"

    def window(self, start_epoch_s: float, end_epoch_s: float) -> StepSeries:
        first_s = math.floor(start_epoch_s / S_PER_H) * S_PER_H
        last_s = math.ceil(end_epoch_s / S_PER_H) * S_PER_H
        if last_s <= first_s:
            last_s = first_s + S_PER_H
        edges_s = np.arange(first_s, last_s, S_PER_H)
        hours = ((edges_s % S_PER_DAY) // S_PER_H).astype(int)
        values = np.asarray(self.hourly_values, dtype=float)[hours]
        return StepSeries(self.label, self.unit, edges_s, values, float(last_s), source=self.origin)


def file_source(label: str, path, *, unit: str, format: str = "auto", column: str | None = None,
                allow_negative: bool = False) -> FileSource:
    """Read `path` into a FileSource (errors name the file and the line: DataFileError)."""
    series = read_signal(path, format=format, column=column, allow_negative=allow_negative, name=label, unit=unit)
    return FileSource(label=label, series=series)


def drive_source(
    env: simpy.Environment,
    source: SignalSource,
    start_epoch_s: float,
    apply: Callable[[float, float], None],
    until_epoch_s: float | None = None,
):
    """SimPy process: `apply(now_s, value)` at every step of `source` after the run's start, a week at a time.

    With `until_epoch_s` None it runs as long as the simulation does (the run's end comes from its jobs or its
    duration); otherwise it stops there.
    """
    for _, chunk_end_s, instants, values in _windows(source, start_epoch_s, until_epoch_s):
        steps = StepSeries(source.label, source.unit, instants, values, chunk_end_s, source=source.label)
        yield from drive_signal(env, steps, start_epoch_s, apply)


def schedule_source(
    env: simpy.Environment,
    source: SignalSource,
    start_epoch_s: float,
    schedule: Callable[[float, list[float], list[float]], None],
    until_epoch_s: float | None = None,
):
    """SimPy process: hand `schedule(now_s, starts_s, values)` the steps of `source` after the run's start [s from
    the run's start], a week at a time, at the start of each week: `Meter.schedule_signal` applies them as its
    time crosses them, so an hourly signal costs one SimPy event a week instead of one an hour. The same steps,
    windows and stop as `drive_source`."""
    for chunk_start_s, _, instants, values in _windows(source, start_epoch_s, until_epoch_s):
        after_start = instants > start_epoch_s
        wait_s = (chunk_start_s - start_epoch_s) - env.now
        if wait_s > 0:
            yield env.timeout(wait_s)
        schedule(env.now, (instants[after_start] - start_epoch_s).tolist(),
                 values[after_start].astype(float).tolist())


def _windows(source: SignalSource, start_epoch_s: float, until_epoch_s: float | None):
    """The run's windows of `source`, a week each from the run's start (the last one cut at `until_epoch_s`), made
    as they are reached: (start, end, instants, values), the steps as `StepSeries.steps_within` gives them."""
    chunk_start_s = start_epoch_s
    while until_epoch_s is None or chunk_start_s < until_epoch_s:
        chunk_end_s = chunk_start_s + DRIVE_WINDOW_S
        if until_epoch_s is not None:
            chunk_end_s = min(chunk_end_s, until_epoch_s)
        instants, values = source.window(chunk_start_s, chunk_end_s).steps_within(chunk_start_s, chunk_end_s)
        yield chunk_start_s, chunk_end_s, instants, values
        chunk_start_s = chunk_end_s


def check_sources_cover_start(sources: dict[str, SignalSource], start_epoch_s: float) -> None:
    for source in sources.values():
        source.check_start(start_epoch_s)


__all__ = [
    "ConstantSource",
    "DailyProfileSource",
    "FileSource",
    "RegionSource",
    "SignalSource",
    "check_sources_cover_start",
    "drive_source",
    "file_source",
    "schedule_source",
]
