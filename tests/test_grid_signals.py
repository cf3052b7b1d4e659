"""Signal sources and the pieces of footprint accounting, tested alone: windows, extension, driving, hour binning."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest
import simpy

from sim.engine.footprint import matching_bin_s, merge_bins
from sim.engine.meter import BinRecord
from sim.facility.grid_signals import ConstantSource, DailyProfileSource, FileSource, RegionSource, drive_source
from sim.physics.carbon import hourly_matched_carbon_kg, unmatched_fraction
from sim.timeseries.grid_files import cover_run
from sim.timeseries.series import StepSeries
from sim.units import J_PER_KWH, S_PER_DAY, S_PER_H

UTC = timezone.utc
T0 = datetime(2023, 1, 2, tzinfo=UTC).timestamp()  # a Monday


def _drive(source, start_s: float, run_s: float) -> list[tuple[float, float]]:
    env = simpy.Environment()
    seen: list[tuple[float, float]] = []
    env.process(drive_source(env, source, start_s, lambda now, v: seen.append((now, v))))
    env.run(until=run_s)
    return seen


def test_driving_a_short_file_past_its_end_follows_the_cover_run_rule():
    # 9 days of hourly values; a 30-day run repeats the last whole week (7 days), aligned by weekday and hour
    values = np.arange(9 * 24, dtype=float)
    series = StepSeries("x", "u", T0 + S_PER_H * np.arange(values.size), values, T0 + 9 * S_PER_DAY, source="f.csv")
    source = FileSource("x", series)
    source.check_start(T0)
    run_s = 30 * S_PER_DAY
    steps = _drive(source, T0, run_s)
    extended, warning = cover_run(series, T0, T0 + run_s)
    expected = [(t - T0, v) for t, v in zip(*extended.steps_within(T0, T0 + run_s)) if t > T0]
    # the driver hands every change (and the value at each weekly window start, unchanged) to the meter
    assert [(t, v) for t, v in steps if extended.value_at(T0 + t) == v] == steps
    assert {t for t, _ in expected} <= {t for t, _ in steps}
    assert source.end_warning(T0, T0 + run_s) == warning and "last 1 weeks (7 days) are repeated" in warning
    assert source.end_warning(T0, T0 + S_PER_DAY) is None


def test_a_file_refuses_a_start_outside_its_span():
    series = StepSeries("carbon", "g", np.array([T0, T0 + S_PER_H]), np.array([1.0, 2.0]), T0 + 2 * S_PER_H, source="f.csv")
    with pytest.raises(Exception, match="spans 2023-01-02T00:00:00Z to 2023-01-02T02:00:00Z"):
        FileSource("carbon", series).check_start(T0 - 1.0)


def test_region_driver_matches_the_profile_across_weekly_windows():
    run_s = 20 * S_PER_DAY
    steps = dict(_drive(RegionSource("carbon", "us-california"), T0, run_s))
    profile = RegionSource("carbon", "us-california").window(T0, T0 + run_s)
    for t_s in (S_PER_H, 7 * S_PER_DAY, 7 * S_PER_DAY + 5 * S_PER_H, 19 * S_PER_DAY + 20 * S_PER_H):
        assert steps[t_s] == pytest.approx(profile.value_at(T0 + t_s), rel=1e-12)


def test_daily_profile_and_constant_integrals():
    profile = DailyProfileSource("supply", "MW", tuple(float(h) for h in range(24)), "test")
    # 10:30 to 12:15 UTC: half an hour at 10, an hour at 11, a quarter at 12
    start = T0 + 10.5 * S_PER_H
    assert profile.energy_integral(start, start + 1.75 * S_PER_H) == pytest.approx((0.5 * 10 + 11 + 0.25 * 12) * S_PER_H)
    assert profile.energy_integral(T0, T0 + S_PER_DAY) == pytest.approx(sum(range(24)) * S_PER_H)
    assert ConstantSource("c", "W", 5.0, "test").energy_integral(T0, T0 + 10.0) == 50.0
    with pytest.raises(ValueError, match="24 values"):
        DailyProfileSource("supply", "MW", (1.0,) * 23, "test")


def test_matching_bin_is_the_gcd_of_interval_hour_and_start_offset():
    assert matching_bin_s(3600, T0) == 3600
    assert matching_bin_s(900, T0) == 900
    assert matching_bin_s(7200, T0) == 3600
    assert matching_bin_s(5400, T0) == 1800
    assert matching_bin_s(3600, T0 + 600) == 600  # a run starting at 00:10 is matched on clock hours
    with pytest.raises(ValueError, match="whole seconds"):
        matching_bin_s(1.5, T0)


def _bin(start_s, end_s, e):
    return BinRecord(start_s, end_s, [e, 2 * e, 0.0, 0.0], 0.5 * e, 0.1 * e, 0.0, 1.0, 20.0 * (end_s - start_s),
                     [e], {"carbon": 3 * e}, {"carbon": 100.0 * (end_s - start_s)})


def test_merged_bins_hold_the_sums_of_their_integrals():
    a, b = _bin(0, 900, 1.0), _bin(900, 3600, 2.0)
    m = merge_bins([a, b])
    assert (m.start_s, m.end_s) == (0, 3600)
    assert m.channel_energy_j == [3.0, 6.0, 0.0, 0.0]
    assert m.facility_energy_j == pytest.approx(a.facility_energy_j + b.facility_energy_j)
    assert m.carbon_g == 9.0 and m.water_l == 2.0 and m.part_energy_j == [3.0]
    assert m.ambient_time_integral == 20.0 * 3600


def test_unmatched_fraction_is_hourly_matching_for_one_hour():
    assert unmatched_fraction(3.0, 1.0) == pytest.approx(2 / 3)
    assert unmatched_fraction(1.0, 5.0) == 0.0 and unmatched_fraction(0.0, 0.0) == 0.0
    e, c, i = 3 * J_PER_KWH, 1 * J_PER_KWH, 250.0
    assert unmatched_fraction(e, c) * (e / J_PER_KWH * i / 1000) == pytest.approx(hourly_matched_carbon_kg([e], [c], [i]))
    with pytest.raises(ValueError):
        unmatched_fraction(-1.0, 0.0)
