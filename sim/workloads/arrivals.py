"""Request arrivals for an inference service: Poisson processes, rate profiles, trace replay, lengths.

Everything here is exact and takes an explicit `numpy.random.Generator`:

* Homogeneous Poisson on [a, b): N ~ Poisson(lambda (b - a)), then N independent uniform instants
  on [a, b), sorted. Conditional on N the arrival instants of a Poisson process are the order
  statistics of uniforms (Ross, Stochastic Processes, 2nd ed., Thm 2.3.1), so this is the process
  itself, not an approximation, and no gap is ever clipped.
* Non-homogeneous Poisson with rate lambda(t) by thinning (Lewis & Shedler 1979, Naval Research
  Logistics Quarterly 26(3)): candidates from a homogeneous process at a bound lambda_max >=
  lambda(t) on each piece of the window, each kept with probability lambda(t) / lambda_max.
  Profiles hand out pieces with tight bounds (a day for the diurnal shape, a step for a rate time
  series, where the bound is exact and no candidate is dropped).
* Trace replay of the public Azure LLM inference traces (github.com/Azure/AzurePublicDataset,
  AzureLLMInferenceTrace_{code,conv}.csv; Patel et al., Splitwise, ISCA 2024): CSV columns
  TIMESTAMP (e.g. "2023-11-16 18:15:46.6805900", taken as UTC), ContextTokens, GeneratedTokens.
* Prompt and output lengths: fixed, uniform, geometric, lognormal (truncated by rejection, never
  clipped) or empirical.

Each random quantity has its own stream (`RequestStreams`): two policies compared on the same seed
see the same requests, whatever else they draw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np
import pandas as pd

from sim.errors import DataFileError
from sim.timeseries.series import StepSeries
from sim.units import S_PER_DAY, S_PER_H

# 1970-01-01 (epoch day 0) was a Thursday; Monday = 0.
_EPOCH_WEEKDAY = 3


# ------------------------------------------------------------------------------------------------
# Requests
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class RequestTrace:
    """Requests in arrival order: instants [s, UTC epoch or any common origin] and token counts."""

    arrival_s: np.ndarray
    prompt_tokens: np.ndarray
    output_tokens: np.ndarray
    source: str = ""

    def __post_init__(self) -> None:
        arrival = np.asarray(self.arrival_s, dtype=float)
        prompt = np.asarray(self.prompt_tokens, dtype=np.int64)
        output = np.asarray(self.output_tokens, dtype=np.int64)
        object.__setattr__(self, "arrival_s", arrival)
        object.__setattr__(self, "prompt_tokens", prompt)
        object.__setattr__(self, "output_tokens", output)
        if not (arrival.ndim == prompt.ndim == output.ndim == 1) or not (arrival.size == prompt.size == output.size):
            raise ValueError("a request trace needs three 1-D arrays of the same length")
        if arrival.size and (np.any(np.diff(arrival) < 0) or not np.all(np.isfinite(arrival))):
            raise ValueError("request arrivals must be finite and in non-decreasing order")
        if np.any(prompt < 1) or np.any(output < 0):
            raise ValueError("prompts need at least one token and outputs at least zero")

    def __len__(self) -> int:
        return int(self.arrival_s.size)

    def window(self, start_s: float, end_s: float) -> "RequestTrace":
        """The requests arriving in [start_s, end_s)."""
        lo, hi = np.searchsorted(self.arrival_s, [start_s, end_s], side="left")
        return RequestTrace(self.arrival_s[lo:hi], self.prompt_tokens[lo:hi], self.output_tokens[lo:hi],
                            self.source)

    def shifted(self, offset_s: float) -> "RequestTrace":
        """The same requests, `offset_s` later (to replay a trace at a scenario's start)."""
        return RequestTrace(self.arrival_s + offset_s, self.prompt_tokens, self.output_tokens, self.source)


@dataclass(frozen=True)
class RequestStreams:
    """One random stream per quantity, so that common random numbers hold across policies."""

    arrivals: np.random.Generator
    prompts: np.random.Generator
    outputs: np.random.Generator

    @classmethod
    def spawn(cls, seed: int | np.random.SeedSequence) -> "RequestStreams":
        """Three independent Generators spawned from `seed` (numpy SeedSequence.spawn)."""
        sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        arrivals, prompts, outputs = sequence.spawn(3)
        return cls(np.random.default_rng(arrivals), np.random.default_rng(prompts), np.random.default_rng(outputs))


# ------------------------------------------------------------------------------------------------
# Rate profiles
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RatePiece:
    """[start_s, end_s) with `bound_per_s` >= the rate everywhere on it; `exact` if rate == bound."""

    start_s: float
    end_s: float
    bound_per_s: float
    exact: bool


class RateProfile(Protocol):
    """An arrival rate lambda(t) [requests/s] on absolute time [s]."""

    def rate_per_s(self, time_s: np.ndarray) -> np.ndarray: ...

    def expected_count(self, start_s: float, end_s: float) -> float:
        """Integral of the rate over [start_s, end_s) [requests]."""
        ...

    def pieces(self, start_s: float, end_s: float) -> list[RatePiece]: ...


@dataclass(frozen=True)
class ConstantRate:
    """lambda(t) = rate_per_s."""

    requests_per_s: float

    def __post_init__(self) -> None:
        if not (self.requests_per_s >= 0 and math.isfinite(self.requests_per_s)):
            raise ValueError(f"arrival rate must be finite and >= 0, got {self.requests_per_s}")

    def rate_per_s(self, time_s: np.ndarray) -> np.ndarray:
        return np.full(np.shape(time_s), self.requests_per_s, dtype=float)

    def expected_count(self, start_s: float, end_s: float) -> float:
        return self.requests_per_s * (end_s - start_s)

    def pieces(self, start_s: float, end_s: float) -> list[RatePiece]:
        return [RatePiece(start_s, end_s, self.requests_per_s, True)]


@dataclass(frozen=True)
class DiurnalWeeklyRate:
    """Daily sinusoid times a weekday/weekend level, with a stated weekly mean.

        lambda(t) = mean x w(day) x (1 + A cos(2 pi (h(t) - h_peak) / 24))

    h(t): local clock hour (UTC + utc_offset_h); w = 7 / (5 + 2 f) on Monday-Friday and f times
    that on Saturday-Sunday, so the mean over any whole local week is exactly `mean_rate_per_s`
    (each whole day's sinusoid averages to 1). A in [0, 1], f >= 0. The shape is an assumed,
    parametric stand-in for measured traffic; feed a measured series through `StepRate` instead.
    """

    mean_rate_per_s: float
    daily_amplitude: float = 0.5
    peak_hour_local: float = 14.0
    weekend_factor: float = 1.0
    utc_offset_h: float = 0.0

    def __post_init__(self) -> None:
        if not self.mean_rate_per_s >= 0:
            raise ValueError(f"mean rate must be >= 0, got {self.mean_rate_per_s}")
        if not 0.0 <= self.daily_amplitude <= 1.0:
            raise ValueError(f"daily amplitude must be in [0, 1], got {self.daily_amplitude}")
        if not self.weekend_factor >= 0:
            raise ValueError(f"weekend factor must be >= 0, got {self.weekend_factor}")

    @property
    def weekday_level(self) -> float:
        return 7.0 / (5.0 + 2.0 * self.weekend_factor)

    def _local(self, time_s):
        return np.asarray(time_s, dtype=float) + self.utc_offset_h * S_PER_H

    def _day_level(self, local_day: np.ndarray) -> np.ndarray:
        weekday = (local_day.astype(np.int64) + _EPOCH_WEEKDAY) % 7
        return np.where(weekday >= 5, self.weekend_factor, 1.0) * self.weekday_level

    def _phase(self, local_s):
        return 2.0 * np.pi * (local_s - self.peak_hour_local * S_PER_H) / S_PER_DAY

    def rate_per_s(self, time_s: np.ndarray) -> np.ndarray:
        local = self._local(time_s)
        level = self._day_level(np.floor(local / S_PER_DAY))
        return self.mean_rate_per_s * level * (1.0 + self.daily_amplitude * np.cos(self._phase(local)))

    def _day_bounds(self, start_s: float, end_s: float):
        """(start, end, local day index) for each local day overlapping [start_s, end_s)."""
        offset = self.utc_offset_h * S_PER_H
        day = math.floor((start_s + offset) / S_PER_DAY)
        a = start_s
        while a < end_s:
            b = min((day + 1) * S_PER_DAY - offset, end_s)
            yield a, b, day
            a, day = b, day + 1

    def expected_count(self, start_s: float, end_s: float) -> float:
        """Closed form: mean w [(b - a) + A 86400 / (2 pi) (sin phi(b) - sin phi(a))] per local day."""
        total = 0.0
        for a, b, day in self._day_bounds(start_s, end_s):
            level = float(self._day_level(np.array([day]))[0])
            swing = (self.daily_amplitude * S_PER_DAY / (2.0 * np.pi)
                     * (np.sin(self._phase(self._local(b))) - np.sin(self._phase(self._local(a)))))
            total += self.mean_rate_per_s * level * ((b - a) + float(swing))
        return total

    def pieces(self, start_s: float, end_s: float) -> list[RatePiece]:
        out = []
        for a, b, day in self._day_bounds(start_s, end_s):
            level = float(self._day_level(np.array([day]))[0])
            bound = self.mean_rate_per_s * level * (1.0 + self.daily_amplitude)
            out.append(RatePiece(a, b, bound, self.daily_amplitude == 0.0))
        return out


@dataclass(frozen=True)
class StepRate:
    """A rate time series [requests/s] held between its instants (e.g. hourly request counts / 3600)."""

    series: StepSeries

    def __post_init__(self) -> None:
        if np.any(self.series.values < 0) or not np.all(np.isfinite(self.series.values)):
            raise ValueError(f"rate series {self.series.name}: rates must be finite and >= 0")

    def _check(self, start_s: float, end_s: float) -> None:
        if start_s < self.series.start_epoch_s or end_s > self.series.end_epoch_s:
            raise ValueError(f"rate series {self.series.name} covers [{self.series.start_epoch_s}, "
                             f"{self.series.end_epoch_s}); asked for [{start_s}, {end_s})")

    def rate_per_s(self, time_s: np.ndarray) -> np.ndarray:
        edges = self.series.edges_epoch_s
        index = np.clip(np.searchsorted(edges, np.asarray(time_s, dtype=float), side="right") - 1, 0, None)
        return self.series.values[index]

    def expected_count(self, start_s: float, end_s: float) -> float:
        self._check(start_s, end_s)
        return self.series.time_weighted_mean(start_s, end_s) * (end_s - start_s)

    def pieces(self, start_s: float, end_s: float) -> list[RatePiece]:
        self._check(start_s, end_s)
        instants, values = self.series.steps_within(start_s, end_s)
        ends = np.append(instants[1:], end_s)
        return [RatePiece(float(a), float(b), float(v), True) for a, b, v in zip(instants, ends, values) if b > a]


@dataclass(frozen=True)
class ShiftedRate:
    """A profile on absolute time (UTC epoch seconds) seen from an origin: rate(t) = profile(origin + t).

    Arrivals are then drawn directly in seconds from the origin (a run's start), at the full precision
    of a float near zero rather than near 1.7e9 s.
    """

    profile: RateProfile
    origin_s: float

    def rate_per_s(self, time_s: np.ndarray) -> np.ndarray:
        return self.profile.rate_per_s(self.origin_s + np.asarray(time_s, dtype=float))

    def expected_count(self, start_s: float, end_s: float) -> float:
        return self.profile.expected_count(self.origin_s + start_s, self.origin_s + end_s)

    def pieces(self, start_s: float, end_s: float) -> list[RatePiece]:
        out = []
        for piece in self.profile.pieces(self.origin_s + start_s, self.origin_s + end_s):
            a = start_s if piece.start_s == self.origin_s + start_s else piece.start_s - self.origin_s
            b = end_s if piece.end_s == self.origin_s + end_s else piece.end_s - self.origin_s
            out.append(RatePiece(a, b, piece.bound_per_s, piece.exact))
        return out


def poisson_arrival_times(profile: RateProfile, start_s: float, end_s: float,
                          rng: np.random.Generator) -> np.ndarray:
    """Arrival instants [s] of a Poisson process with rate `profile` on [start_s, end_s), sorted.

    Exact: per piece, N ~ Poisson(bound x length) sorted uniforms, thinned with probability
    rate(t) / bound unless the piece's rate is constant.
    """
    if not end_s >= start_s:
        raise ValueError(f"window end {end_s} is before its start {start_s}")
    chunks = []
    for piece in profile.pieces(start_s, end_s):
        length = piece.end_s - piece.start_s
        if piece.bound_per_s <= 0 or length <= 0:
            continue
        count = rng.poisson(piece.bound_per_s * length)
        times = piece.start_s + length * np.sort(rng.random(count))
        if not piece.exact:
            keep = rng.random(count) * piece.bound_per_s < profile.rate_per_s(times)
            times = times[keep]
        chunks.append(times)
    return np.concatenate(chunks) if chunks else np.empty(0)


# ------------------------------------------------------------------------------------------------
# Token lengths
# ------------------------------------------------------------------------------------------------
class LengthDistribution(Protocol):
    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n token counts (int64)."""
        ...


@dataclass(frozen=True)
class FixedLength:
    tokens: int

    def __post_init__(self) -> None:
        if self.tokens < 0:
            raise ValueError(f"a length must be >= 0 tokens, got {self.tokens}")

    @property
    def mean_tokens(self) -> float:
        return float(self.tokens)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.full(n, self.tokens, dtype=np.int64)


@dataclass(frozen=True)
class UniformLength:
    """Integers uniform on [low, high], both included."""

    low: int
    high: int

    def __post_init__(self) -> None:
        if not 0 <= self.low <= self.high:
            raise ValueError(f"need 0 <= low <= high, got [{self.low}, {self.high}]")

    @property
    def mean_tokens(self) -> float:
        return (self.low + self.high) / 2.0

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.integers(self.low, self.high + 1, size=n, dtype=np.int64)


@dataclass(frozen=True)
class GeometricLength:
    """P(k) = (1 - p)^(k-1) p for k = 1, 2, ... with p = 1 / mean: the memoryless discrete length
    (a request then finishes after each token with the same probability, as exponential service)."""

    mean_tokens: float

    def __post_init__(self) -> None:
        if not self.mean_tokens >= 1.0:
            raise ValueError(f"a geometric length needs a mean >= 1 token, got {self.mean_tokens}")

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.geometric(1.0 / self.mean_tokens, size=n).astype(np.int64)


@dataclass(frozen=True)
class LognormalLength:
    """ceil(X) with ln X ~ Normal(ln median, sigma^2): lengths >= 1 token, right-skewed as measured
    prompt and output lengths are. With `max_tokens`, the distribution is truncated: values above
    are redrawn (rejection), never clipped to the maximum."""

    median_tokens: float
    sigma: float
    max_tokens: int | None = None

    def __post_init__(self) -> None:
        if not (self.median_tokens > 0 and self.sigma >= 0):
            raise ValueError("a lognormal length needs a median > 0 and sigma >= 0")
        if self.max_tokens is not None and self.max_tokens < math.ceil(self.median_tokens):
            raise ValueError(f"max_tokens {self.max_tokens} is below the median {self.median_tokens}")

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        mu = math.log(self.median_tokens)
        out = np.ceil(rng.lognormal(mu, self.sigma, size=n)).astype(np.int64)
        if self.max_tokens is not None:
            bad = out > self.max_tokens
            while np.any(bad):  # acceptance >= 1/2: the median is below the maximum
                out[bad] = np.ceil(rng.lognormal(mu, self.sigma, size=int(bad.sum()))).astype(np.int64)
                bad = out > self.max_tokens
        return out


@dataclass(frozen=True)
class EmpiricalLength:
    """Draws from observed values with replacement (weights optional, normalised)."""

    values: tuple[int, ...]
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not self.values or min(self.values) < 0:
            raise ValueError("an empirical length needs at least one value, all >= 0")
        if self.weights is not None and (len(self.weights) != len(self.values) or min(self.weights) < 0
                                         or sum(self.weights) <= 0):
            raise ValueError("empirical weights: one per value, >= 0, not all zero")

    @classmethod
    def from_samples(cls, samples: Sequence[int] | np.ndarray) -> "EmpiricalLength":
        return cls(tuple(int(v) for v in np.asarray(samples).ravel()))

    @property
    def mean_tokens(self) -> float:
        values = np.asarray(self.values, dtype=float)
        if self.weights is None:
            return float(values.mean())
        weights = np.asarray(self.weights, dtype=float)
        return float(np.dot(values, weights) / weights.sum())

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        p = None
        if self.weights is not None:
            weights = np.asarray(self.weights, dtype=float)
            p = weights / weights.sum()
        return rng.choice(np.asarray(self.values, dtype=np.int64), size=n, replace=True, p=p)


def generate_requests(profile: RateProfile, prompt_lengths: LengthDistribution,
                      output_lengths: LengthDistribution, start_s: float, end_s: float,
                      streams: RequestStreams) -> RequestTrace:
    """Requests arriving on [start_s, end_s) from `profile`, with lengths drawn from their own streams."""
    arrivals = poisson_arrival_times(profile, start_s, end_s, streams.arrivals)
    prompts = prompt_lengths.sample(arrivals.size, streams.prompts)
    outputs = output_lengths.sample(arrivals.size, streams.outputs)
    if arrivals.size and prompts.min() < 1:
        raise ValueError("the prompt length distribution produced a prompt of 0 tokens")
    return RequestTrace(arrivals, prompts, outputs, source="generated")


# ------------------------------------------------------------------------------------------------
# Azure LLM inference trace
# ------------------------------------------------------------------------------------------------
AZURE_TRACE_COLUMNS = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")
_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


def read_azure_llm_trace(path: str | Path) -> RequestTrace:
    """Requests of an Azure LLM inference trace CSV (TIMESTAMP, ContextTokens, GeneratedTokens).

    TIMESTAMP is read as UTC (the files carry no zone); arrival_s is UTC epoch seconds, with the
    trace's own sub-microsecond digits rounded to the microsecond. Rows are put in time order
    (stable). Errors name the file, the line, the value and what was expected.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise DataFileError(path, "file not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataFileError(path, f"not a readable CSV file: {exc}") from None
    columns = [c.strip() for c in frame.columns]
    if tuple(columns[:3]) != AZURE_TRACE_COLUMNS:
        raise DataFileError(path, f"header {','.join(columns)!r}: expected {','.join(AZURE_TRACE_COLUMNS)}", 1)
    frame.columns = columns
    stamps = pd.to_datetime(frame["TIMESTAMP"].str.strip(), format="ISO8601", utc=True, errors="coerce")
    bad = np.flatnonzero(stamps.isna().to_numpy())
    if bad.size:
        row = int(bad[0])
        raise DataFileError(path, f"TIMESTAMP {frame['TIMESTAMP'].iloc[row]!r}: expected a date and time "
                                  "like 2023-11-16 18:15:46.6805900", row + 2)
    counts = {}
    for column, minimum in (("ContextTokens", 1), ("GeneratedTokens", 0)):
        numbers = pd.to_numeric(frame[column].str.strip(), errors="coerce")
        values = numbers.to_numpy(dtype=float)
        wrong = ~np.isfinite(values) | (values != np.round(values)) | (values < minimum)
        if np.any(wrong):
            row = int(np.flatnonzero(wrong)[0])
            raise DataFileError(path, f"{column} {frame[column].iloc[row]!r}: expected an integer >= {minimum}",
                                row + 2)
        counts[column] = values.astype(np.int64)
    arrival = ((stamps - _EPOCH) / pd.Timedelta(seconds=1)).to_numpy(dtype=float)
    order = np.argsort(arrival, kind="stable")
    return RequestTrace(arrival[order], counts["ContextTokens"][order], counts["GeneratedTokens"][order],
                        source=str(path))
