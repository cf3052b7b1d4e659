"""Carbon and off-site water accounting: published reference numbers, closed forms and the orderings that
hold between location-based, hourly-matched and annually-matched figures."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from sim.physics.carbon import (
    annual_matched_carbon_kg,
    annual_matched_fraction,
    carbon_kg_per_interval,
    hourly_cfe_score,
    hourly_matched_carbon_kg,
    location_based_carbon_kg,
    off_site_water_l,
)
from sim.timeseries.grid_files import read_signal
from sim.units import G_PER_KG, J_PER_KWH, J_PER_MWH, KG_PER_T, S_PER_H

KWH = J_PER_KWH


def test_700_w_for_2_h_at_429():
    energy_j = 700.0 * 2 * S_PER_H  # 5.04 MJ
    assert energy_j == 5.04e6
    assert location_based_carbon_kg([energy_j], [429.0]) == pytest.approx(1.4 * 0.429)


def test_gpt3_patterson_table_4():
    # Patterson et al. 2021, Table 4: 1,287 MWh at 429 gCO2e/kWh -> 552.1 tCO2e
    carbon_t = location_based_carbon_kg([1287 * J_PER_MWH], [429.0]) / KG_PER_T
    assert round(carbon_t, 1) == 552.1


def test_per_interval_and_scalar_intensity():
    np.testing.assert_allclose(carbon_kg_per_interval([KWH, 2 * KWH], [100.0, 300.0]), [0.1, 0.6])
    assert location_based_carbon_kg([KWH, 2 * KWH], 100.0) == pytest.approx(0.3)
    with pytest.raises(ValueError, match="shape"):
        location_based_carbon_kg([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=">= 0"):
        location_based_carbon_kg([-1.0], [1.0])


def test_hourly_matching_worked_example():
    energy = np.array([1.0, 1.0]) * KWH
    clean = np.array([2.0, 0.0]) * KWH
    assert hourly_matched_carbon_kg(energy, clean, 100.0) == pytest.approx(0.1)
    assert annual_matched_carbon_kg(energy, clean.sum(), 100.0) == 0.0  # 2 kWh of certificates net 2 kWh
    assert hourly_cfe_score(energy, clean) == 0.5
    assert annual_matched_fraction(energy, clean.sum()) == 1.0


energies = st.lists(st.floats(0, 1e9), min_size=1, max_size=48)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), energy=energies)
def test_full_hourly_matching_is_zero(data, energy):
    energy = np.array(energy)
    surplus = np.array(data.draw(st.lists(st.floats(0, 1e9), min_size=energy.size, max_size=energy.size)))
    intensity = np.array(data.draw(st.lists(st.floats(0, 2000), min_size=energy.size, max_size=energy.size)))
    assert hourly_matched_carbon_kg(energy, energy + surplus, intensity) == 0.0
    assert hourly_cfe_score(energy, energy + surplus) == 1.0
    # ... and so is annual matching of the same contract
    assert annual_matched_carbon_kg(energy, float((energy + surplus).sum()), intensity) == 0.0


@settings(max_examples=100, deadline=None)
@given(data=st.data(), energy=energies)
def test_orderings_of_the_three_methods(data, energy):
    energy = np.array(energy)
    n = energy.size
    clean = np.array(data.draw(st.lists(st.floats(0, 1e9), min_size=n, max_size=n)))
    intensity = np.array(data.draw(st.lists(st.floats(0, 2000), min_size=n, max_size=n)))
    location = location_based_carbon_kg(energy, intensity)
    hourly = hourly_matched_carbon_kg(energy, clean, intensity)
    annual = annual_matched_carbon_kg(energy, float(clean.sum()), intensity)
    tol = 1e-9 * max(location, 1.0)
    # a contract never raises the footprint
    assert hourly <= location + tol and annual <= location + tol
    # annual netting credits at least as much clean energy as hourly matching
    assert annual_matched_fraction(energy, clean.sum()) >= hourly_cfe_score(energy, clean) - 1e-12
    # so at a uniform intensity annual matching is never higher than hourly
    flat = float(intensity[0])
    assert annual_matched_carbon_kg(energy, float(clean.sum()), flat) <= hourly_matched_carbon_kg(energy, clean, flat) + tol


def test_with_varying_intensity_neither_method_bounds_the_other():
    energy = np.array([1.0, 1.0]) * KWH
    intensity = np.array([100.0, 0.0])
    # clean energy delivered in the dirty hour: hourly matching avoids all of the carbon
    in_dirty_hour = np.array([1.0, 0.0]) * KWH
    assert hourly_matched_carbon_kg(energy, in_dirty_hour, intensity) == 0.0
    assert annual_matched_carbon_kg(energy, in_dirty_hour.sum(), intensity) == pytest.approx(0.05)
    # clean energy delivered in the clean hour: it avoids nothing hour by hour, half under annual netting
    in_clean_hour = np.array([0.0, 1.0]) * KWH
    assert hourly_matched_carbon_kg(energy, in_clean_hour, intensity) == pytest.approx(0.1)
    assert annual_matched_carbon_kg(energy, in_clean_hour.sum(), intensity) == pytest.approx(0.05)


def test_no_contract_is_location_based():
    energy = np.array([3.0, 1.0, 2.0]) * KWH
    intensity = np.array([50.0, 400.0, 200.0])
    location = location_based_carbon_kg(energy, intensity)
    assert hourly_matched_carbon_kg(energy, np.zeros(3), intensity) == location
    assert annual_matched_carbon_kg(energy, 0.0, intensity) == location
    assert annual_matched_carbon_kg(energy, 3.0 * KWH, intensity) == pytest.approx(location / 2)


def test_off_site_water():
    assert off_site_water_l([J_PER_MWH], [3.1]) == pytest.approx(3100.0)
    assert off_site_water_l([KWH, KWH], [1.0, 2.0]) == pytest.approx(3.0)


def test_constant_load_on_a_real_15_min_series(shared_data):
    # A constant 2 MW for the whole of DE 2020 (15-min steps): interval energies from the signal's own
    # steps, then the carbon equals P x integral of the intensity, i.e. P x duration x time-weighted mean.
    series = read_signal(shared_data / "DE_2020_15min_carbon_intensity.csv")
    power_w = 2e6
    instants, values = series.steps_within(series.start_epoch_s, series.end_epoch_s)
    energy_j = power_w * np.diff(np.append(instants, series.end_epoch_s))
    duration_s = series.end_epoch_s - series.start_epoch_s
    closed_form_kg = power_w * duration_s / J_PER_KWH * series.mean() / G_PER_KG
    assert location_based_carbon_kg(energy_j, values) == pytest.approx(closed_form_kg, rel=1e-12)
    # and 37,149 quarter hours of 0.5 MWh each: 18,574.5 MWh at the 315.2 g/kWh mean -> about 5,855 t
    assert energy_j.size == 37149 and np.all(energy_j == 0.5 * J_PER_MWH)
    assert round(location_based_carbon_kg(energy_j, values) / KG_PER_T) == round(18574.5 * J_PER_MWH / J_PER_KWH * series.mean() / G_PER_KG / KG_PER_T)
