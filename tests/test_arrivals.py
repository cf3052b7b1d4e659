"""Arrivals are Poisson: counts, gaps, a KS test, integrated rates of profiles; lengths; traces."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.errors import DataFileError
from sim.timeseries.series import StepSeries
from sim.units import S_PER_DAY, S_PER_H
from sim.workloads.arrivals import (
    ConstantRate,
    DiurnalWeeklyRate,
    EmpiricalLength,
    FixedLength,
    GeometricLength,
    LognormalLength,
    RequestStreams,
    RequestTrace,
    StepRate,
    UniformLength,
    generate_requests,
    poisson_arrival_times,
    read_azure_llm_trace,
)

MONDAY_2024_01_01 = 1_704_067_200.0  # 2024-01-01 00:00 UTC was a Monday


def ks_exponential_p_value(samples: np.ndarray, rate: float) -> float:
    """Kolmogorov-Smirnov test against Exp(rate): p-value with Stephens' (1970) small-n correction
    of the Kolmogorov distribution Q(x) = 2 sum (-1)^(k-1) exp(-2 k^2 x^2)."""
    x = np.sort(samples)
    n = x.size
    cdf = 1.0 - np.exp(-rate * x)
    d = max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(0, n) / n))
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    return float(min(1.0, max(0.0, 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101)))))


def test_constant_rate_counts_and_gaps_are_poisson():
    rate, horizon = 4.0, 20_000.0
    times = poisson_arrival_times(ConstantRate(rate), 0.0, horizon, np.random.default_rng(11))
    n = times.size
    assert abs(n - rate * horizon) < 4 * math.sqrt(rate * horizon)          # N ~ Poisson(80,000)
    assert np.all(np.diff(times) >= 0) and times[0] >= 0 and times[-1] < horizon
    gaps = np.diff(times)
    assert gaps.mean() == pytest.approx(1 / rate, abs=4 * (1 / rate) / math.sqrt(gaps.size))
    assert gaps.var() == pytest.approx(1 / rate ** 2, rel=0.03)             # exponential: var = mean^2
    assert ks_exponential_p_value(gaps, rate) > 0.01
    # counts in unit windows: Poisson(4), index of dispersion 1
    counts = np.bincount(times.astype(int), minlength=int(horizon))
    assert counts.var() / counts.mean() == pytest.approx(1.0, abs=0.05)


def test_the_ks_test_rejects_clipped_gaps():
    """The same test catches the 'Poisson' of simulators that cap each gap at 3 / lambda."""
    rng = np.random.default_rng(5)
    rate = 2.0
    clipped = np.minimum(rng.exponential(1 / rate, 50_000), 3 / rate)
    assert ks_exponential_p_value(clipped, rate) < 1e-6


def test_zero_rate_and_empty_window():
    rng = np.random.default_rng(1)
    assert poisson_arrival_times(ConstantRate(0.0), 0.0, 1e6, rng).size == 0
    assert poisson_arrival_times(ConstantRate(5.0), 10.0, 10.0, rng).size == 0
    with pytest.raises(ValueError):
        poisson_arrival_times(ConstantRate(5.0), 10.0, 9.0, rng)
    with pytest.raises(ValueError):
        ConstantRate(-1.0)


def test_diurnal_weekly_integrated_rate_closed_form():
    profile = DiurnalWeeklyRate(mean_rate_per_s=3.0, daily_amplitude=0.6, peak_hour_local=15.0,
                                weekend_factor=0.5, utc_offset_h=-5.0)
    start = MONDAY_2024_01_01 + 3 * S_PER_H + 1234.5
    end = start + 9.3 * S_PER_DAY
    grid = np.linspace(start, end, 2_000_001)
    trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy < 2 names it trapz
    numeric = trapezoid(profile.rate_per_s(grid), grid)
    assert profile.expected_count(start, end) == pytest.approx(numeric, rel=1e-6)
    # a whole local week averages to the stated mean
    local_monday = MONDAY_2024_01_01 + 5 * S_PER_H
    assert profile.expected_count(local_monday, local_monday + 7 * S_PER_DAY) == pytest.approx(3.0 * 7 * S_PER_DAY, rel=1e-12)
    # shape: peak at 15:00 local, weekend at half the weekday level
    weekday_peak = profile.rate_per_s(np.array([local_monday + 15 * S_PER_H]))[0]
    weekend_peak = profile.rate_per_s(np.array([local_monday + 5 * S_PER_DAY + 15 * S_PER_H]))[0]
    assert weekday_peak == pytest.approx(3.0 * 7 / 6 * 1.6)
    assert weekend_peak == pytest.approx(0.5 * weekday_peak)


def test_thinned_arrivals_follow_the_profile():
    profile = DiurnalWeeklyRate(mean_rate_per_s=0.5, daily_amplitude=0.8, peak_hour_local=14.0, weekend_factor=0.4)
    start, end = MONDAY_2024_01_01, MONDAY_2024_01_01 + 14 * S_PER_DAY
    times = poisson_arrival_times(profile, start, end, np.random.default_rng(2024))
    expected = profile.expected_count(start, end)
    assert abs(times.size - expected) < 4 * math.sqrt(expected)
    # hourly counts against the integrated rate of each hour: chi-square with 336 bins
    edges = np.arange(start, end + 1, S_PER_H)
    observed, _ = np.histogram(times, bins=edges)
    hourly = np.array([profile.expected_count(a, b) for a, b in zip(edges[:-1], edges[1:])])
    chi2 = float(np.sum((observed - hourly) ** 2 / hourly))
    dof = hourly.size
    assert abs(chi2 - dof) < 5 * math.sqrt(2 * dof)
    # and the shape is visible: 14:00 hours busier than 02:00 hours, weekdays busier than weekends
    hour_of_day = ((edges[:-1] - start) // S_PER_H % 24).astype(int)
    assert observed[hour_of_day == 14].sum() > 5 * observed[hour_of_day == 2].sum()
    day = ((edges[:-1] - start) // S_PER_DAY).astype(int) % 7
    assert observed[day < 5].sum() / 5 > 2 * observed[day >= 5].sum() / 2


def test_step_rate_series_is_exact_per_step():
    edges = MONDAY_2024_01_01 + np.arange(6) * S_PER_H
    rates = np.array([0.0, 2.0, 10.0, 1.0, 0.5, 4.0])
    profile = StepRate(StepSeries("rate", "1/s", edges, rates, edges[-1] + S_PER_H, "test"))
    start, end = edges[0] + 1800.0, edges[-1] + 1800.0
    assert profile.expected_count(start, end) == pytest.approx(S_PER_H * (0 * 0.5 + 2 + 10 + 1 + 0.5 + 4 * 0.5))
    assert all(piece.exact for piece in profile.pieces(start, end))
    times = poisson_arrival_times(profile, start, end, np.random.default_rng(9))
    counts, _ = np.histogram(times, bins=np.append(np.clip(edges, start, None), end))
    assert counts[0] == 0
    for count, rate, length in zip(counts[1:], rates[1:], [S_PER_H] * 4 + [1800.0]):
        assert abs(count - rate * length) < 5 * math.sqrt(rate * length)
    with pytest.raises(ValueError, match="covers"):
        profile.expected_count(edges[0] - 1.0, end)


def test_length_distributions():
    rng = np.random.default_rng(3)
    assert np.all(FixedLength(128).sample(10, rng) == 128)
    uniform = UniformLength(10, 20).sample(100_000, rng)
    assert uniform.min() == 10 and uniform.max() == 20 and uniform.mean() == pytest.approx(15.0, abs=0.05)
    geometric = GeometricLength(50.0).sample(200_000, rng)
    assert geometric.min() >= 1 and geometric.mean() == pytest.approx(50.0, rel=0.01)
    lognormal = LognormalLength(median_tokens=300.0, sigma=1.0).sample(200_000, rng)
    assert np.median(lognormal) == pytest.approx(300.0, rel=0.02) and lognormal.min() >= 1
    truncated = LognormalLength(median_tokens=300.0, sigma=1.0, max_tokens=1000).sample(200_000, rng)
    assert truncated.max() <= 1000
    # truncated by redrawing, not clipped: no pile-up at the maximum
    assert np.mean(truncated == 1000) < 0.001
    empirical = EmpiricalLength.from_samples([5, 5, 10])
    assert empirical.mean_tokens == pytest.approx(20 / 3)
    assert set(np.unique(empirical.sample(1000, rng))) == {5, 10}
    weighted = EmpiricalLength((1, 100), (0.9, 0.1))
    assert weighted.sample(100_000, rng).mean() == pytest.approx(10.9, rel=0.03)


def test_each_quantity_has_its_own_stream():
    """Common random numbers: changing the output length law leaves arrivals and prompts unchanged."""
    profile = ConstantRate(2.0)
    a = generate_requests(profile, UniformLength(10, 500), FixedLength(100), 0.0, 1000.0, RequestStreams.spawn(42))
    b = generate_requests(profile, UniformLength(10, 500), GeometricLength(80.0), 0.0, 1000.0, RequestStreams.spawn(42))
    assert np.array_equal(a.arrival_s, b.arrival_s)
    assert np.array_equal(a.prompt_tokens, b.prompt_tokens)
    assert not np.array_equal(a.output_tokens, b.output_tokens)
    c = generate_requests(profile, UniformLength(10, 500), FixedLength(100), 0.0, 1000.0, RequestStreams.spawn(43))
    assert not np.array_equal(a.arrival_s, c.arrival_s)


AZURE_SAMPLE = """TIMESTAMP,ContextTokens,GeneratedTokens
2023-11-16 18:15:46.6805900,374,44
2023-11-16 18:15:50.9951690,396,109
2023-11-16 18:15:50.1000000,879,0
2023-11-16 18:16:02.7105040,91,16
"""


def test_azure_trace_replay(tmp_path):
    path = tmp_path / "AzureLLMInferenceTrace_conv.csv"
    path.write_text(AZURE_SAMPLE)
    trace = read_azure_llm_trace(path)
    assert len(trace) == 4
    first = 1_700_158_546.68059   # 2023-11-16 18:15:46.680590 UTC
    assert trace.arrival_s[0] == pytest.approx(first, abs=1e-6)
    # rows are put in time order (the third row is earlier than the second)
    assert list(trace.prompt_tokens) == [374, 879, 396, 91]
    assert list(trace.output_tokens) == [44, 0, 109, 16]
    assert np.all(np.diff(trace.arrival_s) >= 0)
    replay = trace.shifted(-first)
    assert replay.arrival_s[0] == pytest.approx(0.0, abs=1e-6)
    assert len(replay.window(0.0, 5.0)) == 3


@pytest.mark.parametrize("body, message", [
    ("time,prompt,output\n1,2,3\n", r":1: header"),
    ("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,10,5\nyesterday,10,5\n",
     r":3: TIMESTAMP 'yesterday'"),
    ("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,0,5\n", r":2: ContextTokens '0': expected an integer >= 1"),
    ("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,10,2.5\n", r":2: GeneratedTokens '2.5'"),
])
def test_azure_trace_errors_name_file_line_and_value(tmp_path, body, message):
    path = tmp_path / "trace.csv"
    path.write_text(body)
    with pytest.raises(DataFileError, match=message):
        read_azure_llm_trace(path)


def test_missing_trace_file(tmp_path):
    with pytest.raises(DataFileError, match="file not found"):
        read_azure_llm_trace(tmp_path / "nope.csv")


def test_request_trace_validates():
    with pytest.raises(ValueError, match="non-decreasing"):
        RequestTrace(np.array([2.0, 1.0]), np.array([1, 1]), np.array([1, 1]))
    with pytest.raises(ValueError, match="at least one token"):
        RequestTrace(np.array([1.0]), np.array([0]), np.array([1]))
