"""Built-in regional profiles: published annual means come back exactly over a year, the stated shapes
are those of the real files, and unknown names list the valid ones."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from sim.errors import SimInputError
from sim.timeseries.grid_files import read_signal
from sim.timeseries.regions import REGIONS, get_region, region_names, regional_profile
from sim.units import G_PER_KG, KG_PER_T, S_PER_DAY, S_PER_H

UTC = timezone.utc


def epoch(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


@pytest.mark.parametrize("region", REGIONS, ids=lambda r: r.name)
def test_a_calendar_year_averages_the_published_annual_mean(region):
    series = regional_profile(region.name, datetime(2023, 1, 1), datetime(2024, 1, 1))
    assert series.values.size == 8760
    assert np.all(np.diff(series.edges_epoch_s) == S_PER_H)
    assert series.mean() == pytest.approx(region.annual_mean_g_per_kwh, rel=1e-12)
    assert np.all(series.values > 0)
    assert series.unit == "gCO2e/kWh"
    # a leap year is a non-leap year plus one more February day (whose hours average monthly[Feb])
    leap = regional_profile(region.name, datetime(2024, 1, 1), datetime(2025, 1, 1))
    expected = region.annual_mean_g_per_kwh * (365 + region.monthly[1]) / 366
    assert leap.mean() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "name, published",
    # Electricity Maps 2023 LCA (README means), EIA-930 MISO 2022, EIA 2022 US, eGRID Virginia via
    # Lacoste et al. 2019, Hydro-Quebec via Lacoste et al. 2019, Ember 2023 world.
    [("france", 49.4), ("germany", 395.1), ("us-california", 261.2), ("us-midwest", 440.5),
     ("us-average", 390.0), ("us-virginia", 367.8), ("quebec", 20.0), ("world", 480.0)],
)
def test_published_annual_means(name, published):
    assert get_region(name).annual_mean_g_per_kwh == published


def test_us_average_is_eia_2022_tons_over_kwh():
    # EIA FAQ: 1,650 million metric tons CO2 / 4,230,672 million kWh (2022)
    co2_g = 1650e6 * KG_PER_T * G_PER_KG
    assert get_region("us-average").annual_mean_g_per_kwh == round(co2_g / 4_230_672e6, 1)


@pytest.mark.parametrize(
    "name, file",
    [("france", "FR_2023_hourly.csv"), ("germany", "DE_2023_hourly.csv"),
     ("us-california", "US-CAL-CISO_2023_hourly.csv"), ("us-midwest", "MISO_NG_avgCI_2022.csv")],
)
def test_shapes_are_the_real_files_hour_and_month_means(shared_data, name, file):
    series = read_signal(shared_data / file)
    stamps = series.edges_epoch_s
    hour = ((stamps % S_PER_DAY) // S_PER_H).astype(int)
    month = stamps.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64) % 12
    mean = series.values.mean()
    diurnal = np.array([series.values[hour == h].mean() for h in range(24)]) / mean
    monthly = np.array([series.values[month == m].mean() for m in range(12)]) / mean
    region = get_region(name)
    np.testing.assert_allclose(region.diurnal_factors, diurnal, atol=5e-4)
    np.testing.assert_allclose(region.monthly_factors, monthly, atol=5e-4)
    # the profile's annual mean is the file's (MISO: its 3 interpolated hours move it by 0.07)
    assert mean == pytest.approx(region.annual_mean_g_per_kwh, abs=0.1)


def test_california_profile_keeps_the_midday_solar_dip():
    series = regional_profile("us-california", epoch(2023, 5, 1), epoch(2023, 5, 2))
    assert int(np.argmin(series.values)) in (20, 21)  # 20-21 UTC = 13-14 PDT
    # worked example in the docstring: 261.2 x 0.716 x 0.643 ~ 120
    assert series.value_at(epoch(2023, 5, 1, 20)) == pytest.approx(261.2 * 0.716 * 0.643, rel=2e-3)


def test_france_winter_is_dirtier_than_spring():
    region = get_region("france")
    assert region.monthly[1] > 1.5 > 0.7 > region.monthly[4]  # February vs May, from the 2023 file


def test_flat_regions_say_so_and_are_constant():
    for name in ("us-average", "us-virginia", "quebec", "world"):
        series = regional_profile(name, epoch(2023, 1, 1), epoch(2023, 3, 1))
        assert np.all(series.values == get_region(name).annual_mean_g_per_kwh)
        assert any(n.startswith("shape: flat") for n in series.notes)


def test_window_is_whole_utc_hours_covering_the_run():
    series = regional_profile("germany", epoch(2023, 6, 1, 10) + 1234, epoch(2023, 6, 1, 12) + 1)
    np.testing.assert_array_equal(
        series.edges_epoch_s, [epoch(2023, 6, 1, 10), epoch(2023, 6, 1, 11), epoch(2023, 6, 1, 12)]
    )
    assert series.end_epoch_s == epoch(2023, 6, 1, 13)


def test_names_aliases_and_unknown_name():
    assert get_region("FR") is get_region("france")
    assert get_region("miso") is get_region("us-midwest")
    with pytest.raises(SimInputError, match=r"unknown grid region 'atlantis'; expected one of: france, germany"):
        regional_profile("atlantis", 0.0, S_PER_H)
    assert set(region_names()) >= {"us-average", "us-virginia", "us-california", "quebec", "france", "germany", "world"}
    with pytest.raises(SimInputError, match="must be after"):
        regional_profile("world", S_PER_H, 0.0)


def test_water_intensity_only_where_cited():
    for region in REGIONS:
        if region.water_intensity_l_per_kwh is None:
            assert region.water_source == ""
        else:
            assert "Li et al. 2023" in region.water_source
