"""Psychrometrics against the 2017 ASHRAE Handbook - Fundamentals (ch. 1) and PsychroLib's published test values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.physics import psychrometrics as psy


# ASHRAE 2017 Fundamentals ch. 1 Table 3 (saturation pressure of water), the values PsychroLib tests against.
@pytest.mark.parametrize(
    "temperature_c, pressure_pa",
    [(-20.0, 103.24), (-5.0, 401.74), (5.0, 872.6), (25.0, 3169.7), (50.0, 12351.3), (100.0, 101418.0)],
)
def test_saturation_pressure_matches_ashrae_table_3(temperature_c, pressure_pa):
    # ASHRAE states eqs. (5)/(6) are within 300 ppm of the tabulated values.
    assert psy.saturation_vapour_pressure_pa(temperature_c) == pytest.approx(pressure_pa, rel=3e-4)


# ASHRAE 2017 ch. 1 Table 1, standard atmosphere.
@pytest.mark.parametrize(
    "elevation_m, pressure_pa",
    [(-500.0, 107478.0), (0.0, 101325.0), (500.0, 95461.0), (1000.0, 89875.0), (4000.0, 61640.0), (10000.0, 26436.0)],
)
def test_standard_atmosphere_matches_ashrae_table_1(elevation_m, pressure_pa):
    assert psy.standard_atmosphere_pressure_pa(elevation_m) == pytest.approx(pressure_pa, abs=1.0)


def test_humidity_ratio_of_vapour_pressure():
    # 25 C saturated at the 500 m standard pressure (PsychroLib test value).
    assert psy.humidity_ratio_from_vapour_pressure(3169.7, 95461.0) == pytest.approx(0.0213603998047487, rel=1e-6)


@pytest.mark.parametrize(
    "dry_bulb_c, wet_bulb_c, humidity_ratio",
    [(30.0, 25.0, 0.0192281274241096),    # above freezing, eq. (33)
     (-1.0, -5.0, 0.00120399819933844)],  # below freezing, eq. (35)
)
def test_humidity_ratio_from_wet_bulb_and_back(dry_bulb_c, wet_bulb_c, humidity_ratio):
    # PsychroLib values computed in Excel from the Handbook equations, at 95461 Pa.
    assert psy.humidity_ratio_from_wet_bulb(dry_bulb_c, wet_bulb_c, 95461.0) == pytest.approx(humidity_ratio, rel=3e-4)
    assert psy.wet_bulb_from_humidity_ratio_c(dry_bulb_c, humidity_ratio, 95461.0) == pytest.approx(wet_bulb_c, abs=0.01)
    # The inversion is exact on our own forward equation.
    w = psy.humidity_ratio_from_wet_bulb(dry_bulb_c, wet_bulb_c, 95461.0)
    assert psy.wet_bulb_from_humidity_ratio_c(dry_bulb_c, w, 95461.0) == pytest.approx(wet_bulb_c, abs=1e-6)


def test_ashrae_example_1():
    # ASHRAE 2017 Fundamentals ch. 1, Example 1: t = 40 C, t* = 20 C, p = 101.325 kPa -> W = 0.0065, RH 14 %,
    # dew point about 7 C. Wet bulb back from the printed humidity ratio to 0.1 C:
    assert psy.wet_bulb_from_humidity_ratio_c(40.0, 0.0065, 101325.0) == pytest.approx(20.0, abs=0.1)
    w = psy.humidity_ratio_from_wet_bulb(40.0, 20.0, 101325.0)
    assert w == pytest.approx(0.0065, abs=1e-4)
    vapour_pa = w * 101325.0 / (psy.MOLAR_MASS_RATIO_WATER_AIR + w)
    dew_point_c = psy.dew_point_from_vapour_pressure_c(vapour_pa)
    assert dew_point_c == pytest.approx(7.0, abs=0.5)
    rh_pct = psy.relative_humidity_from_dew_point_pct(40.0, dew_point_c)
    assert rh_pct == pytest.approx(14.0, abs=1.0)
    # And the wet bulb from the dew point or from RH, each to 0.1 C.
    assert psy.wet_bulb_from_dew_point_c(40.0, dew_point_c, 101325.0) == pytest.approx(20.0, abs=0.1)
    assert psy.wet_bulb_from_relative_humidity_c(40.0, rh_pct, 101325.0) == pytest.approx(20.0, abs=0.1)


def test_wet_bulb_from_dew_point_psychrolib_value():
    # PsychroLib GetTWetBulbFromTDewPoint(30, 20, 101325) = 22.94 C.
    assert psy.wet_bulb_from_dew_point_c(30.0, 20.0, 101325.0) == pytest.approx(22.94, abs=0.01)


def test_dew_point_inverts_saturation_pressure():
    assert psy.dew_point_from_vapour_pressure_c(3169.7) == pytest.approx(25.0, abs=0.01)
    assert psy.dew_point_from_vapour_pressure_c(103.24) == pytest.approx(-20.0, abs=0.01)


def test_saturated_air_has_wet_bulb_equal_dry_bulb():
    t = np.array([-30.0, -5.0, 5.0, 20.0, 35.0])
    assert np.allclose(psy.wet_bulb_from_relative_humidity_c(t, 100.0, 101325.0), t, atol=1e-3)


def test_arrays_are_elementwise():
    t = np.array([10.0, 20.0, 30.0])
    rh = np.array([30.0, 50.0, 70.0])
    together = psy.wet_bulb_from_relative_humidity_c(t, rh, 101325.0)
    one_by_one = [psy.wet_bulb_from_relative_humidity_c(a, b, 101325.0) for a, b in zip(t, rh)]
    assert isinstance(one_by_one[0], float)
    assert np.allclose(together, one_by_one)


def test_bad_inputs_raise():
    with pytest.raises(ValueError):
        psy.wet_bulb_from_relative_humidity_c(20.0, 120.0, 101325.0)
    with pytest.raises(ValueError):
        psy.wet_bulb_from_dew_point_c(20.0, 25.0, 101325.0)
    with pytest.raises(ValueError):
        psy.saturation_vapour_pressure_pa(250.0)


@settings(max_examples=100, deadline=None)
@given(
    dry_bulb_c=st.floats(-40.0, 50.0),
    rh_pct=st.floats(1.0, 100.0),
    pressure_pa=st.floats(60_000.0, 105_000.0),
)
def test_wet_bulb_lies_between_dew_point_and_dry_bulb(dry_bulb_c, rh_pct, pressure_pa):
    wet_bulb_c = psy.wet_bulb_from_relative_humidity_c(dry_bulb_c, rh_pct, pressure_pa)
    dew_point_c = psy.dew_point_from_vapour_pressure_c(
        psy.vapour_pressure_from_relative_humidity_pa(dry_bulb_c, rh_pct))
    # Eqs. (33)/(35) do not join at 0 C: there the bracket can shift by a few tenths of a kelvin.
    assert dew_point_c - 0.7 <= wet_bulb_c <= dry_bulb_c + 1e-6


@settings(max_examples=100, deadline=None)
@given(
    dry_bulb_c=st.floats(-40.0, 50.0),
    rh_low=st.floats(1.0, 99.0),
    rh_step=st.floats(0.5, 50.0),
)
def test_wet_bulb_rises_with_humidity_away_from_the_ice_water_seam(dry_bulb_c, rh_low, rh_step):
    rh_high = min(rh_low + rh_step, 100.0)
    low = psy.wet_bulb_from_relative_humidity_c(dry_bulb_c, rh_low, 101325.0)
    high = psy.wet_bulb_from_relative_humidity_c(dry_bulb_c, rh_high, 101325.0)
    if min(abs(low), abs(high)) > 1.0:  # both on the same side of the eqs. (33)/(35) seam
        assert high >= low - 1e-6


def test_agrees_with_psychrolib_where_installed():
    psychrolib = pytest.importorskip("psychrolib")
    psychrolib.SetUnitSystem(psychrolib.SI)
    rng = np.random.default_rng(7)
    t = rng.uniform(-30.0, 48.0, 400)
    rh = rng.uniform(2.0, 100.0, 400)
    p = rng.uniform(70_000.0, 104_000.0, 400)
    ours = psy.wet_bulb_from_relative_humidity_c(t, rh, p)
    ref = np.array([psychrolib.GetTWetBulbFromRelHum(a, b / psy.PERCENT_PER_FRACTION, c) for a, b, c in zip(t, rh, p)])
    away_from_seam = np.abs(ref) > 1.0  # see test_wet_bulb_lies_between_dew_point_and_dry_bulb
    assert np.max(np.abs(ours - ref)[away_from_seam]) < 0.01


def _bisection_wet_bulb_c(t, w, p, steps=60):
    """The plain bisection on [-100 C, t] that the faster solve must agree with (the reference method)."""
    lo, hi = np.full(t.shape, -100.0), t.copy()
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        too_wet = psy.humidity_ratio_from_wet_bulb(t, mid, p) > w
        hi, lo = np.where(too_wet, mid, hi), np.where(too_wet, lo, mid)
    return 0.5 * (lo + hi)


def test_wet_bulb_solve_finds_the_root_bisection_finds_even_where_eqs_33_and_35_meet():
    # Dry air a little above freezing has a wet bulb near 0 C, where the two equations jump and W can cross
    # the target twice: the solve must land where bisection does, everywhere.
    rng = np.random.default_rng(7)
    t = np.concatenate([rng.uniform(-40.0, 50.0, 4000), rng.uniform(5.0, 16.0, 4000)])
    rh = np.concatenate([rng.uniform(1.0, 100.0, 4000), rng.uniform(1.0, 10.0, 4000)])
    p = rng.uniform(80_000.0, 102_000.0, t.size)
    w = psy.humidity_ratio_from_vapour_pressure(psy.vapour_pressure_from_relative_humidity_pa(t, rh), p)
    solved = psy.wet_bulb_from_humidity_ratio_c(t, w, p)
    assert np.max(np.abs(solved - _bisection_wet_bulb_c(t, w, p))) < 1e-8
    assert np.all(solved <= t)
