"""Cooling plant and power chain: published equations, closed forms, invariants, and a year of real weather."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.physics import cooling as C
from sim.physics import power_distribution as P
from sim.timeseries import weather as W
from sim.units import S_PER_H

DESIGN_IT_W = 10e6
PRESET_NAMES = sorted(C.PRESETS)
DRY_PRESETS = ("dry_cooled", "legacy_air", "liquid_dtc")

# ---------------------------------------------------------------------------------------------------------
# Chillers (EnergyPlus Chiller:Electric)
# ---------------------------------------------------------------------------------------------------------


def test_chiller_at_design_point_follows_the_energyplus_equations():
    c = C.AIR_COOLED_CHILLER_LEGACY
    # At the design condenser inlet (35 C) and chilled-water outlet (6.67 C), dT = 0: r = a0, PR = b(r).
    r = 0.9949
    pr = 2.333 - 1.975 * r + 0.6121 * r * r
    assert C.chiller_capacity_ratio(c, 35.0, 6.67) == pytest.approx(r)
    # Full load (PLR 1): FFLP = 0.03303 + 0.6852 + 0.2818 = 1.00003.
    load_w = 1e6 * r
    expected_w = (0.03303 + 0.6852 + 0.2818) * pr * load_w / 2.58
    assert C.chiller_power_w(c, 1e6, load_w, 35.0, 6.67) == pytest.approx(expected_w, rel=1e-12)
    # Half load, the docstring's example: 168.4 kW.
    assert C.chiller_power_w(c, 1e6, 5e5, 35.0, 6.67) == pytest.approx(168.4e3, rel=1e-3)


def test_chiller_cycles_below_minimum_part_load():
    c = C.WATER_COOLED_CHILLER
    nominal_w = 1e6
    available_w = nominal_w * C.chiller_capacity_ratio(c, 25.0, 10.0)
    loads_w = np.array([0.01, 0.05, 0.1, 0.149]) * available_w
    power_w = C.chiller_power_w(c, nominal_w, loads_w, 25.0, 10.0)
    # Below the minimum PLR the chiller runs at min PLR and cycles: power proportional to the load.
    assert np.allclose(power_w / loads_w, power_w[0] / loads_w[0])
    assert C.chiller_power_w(c, nominal_w, 0.0, 25.0, 10.0) == 0.0


@settings(max_examples=100, deadline=None)
@given(
    curves=st.sampled_from([C.AIR_COOLED_CHILLER_LEGACY, C.AIR_COOLED_CHILLER, C.WATER_COOLED_CHILLER]),
    load_fraction=st.floats(0.0, 1.5),
    condenser_c=st.floats(-30.0, 55.0),
    warmer_k=st.floats(0.0, 15.0),
    chilled_water_c=st.floats(5.0, 45.0),
)
def test_chiller_power_rises_with_condenser_temperature(curves, load_fraction, condenser_c, warmer_k, chilled_water_c):
    cool = C.chiller_power_w(curves, 1e6, load_fraction * 1e6, condenser_c, chilled_water_c)
    hot = C.chiller_power_w(curves, 1e6, load_fraction * 1e6, condenser_c + warmer_k, chilled_water_c)
    assert hot >= cool * (1.0 - 1e-12) - 1e-9  # 1 nW absorbs subnormal loads
    assert cool >= 0.0


@settings(max_examples=100, deadline=None)
@given(load_fraction=st.floats(0.0, 1.5), more=st.floats(0.0, 0.5), condenser_c=st.floats(-30.0, 55.0))
def test_chiller_power_rises_with_load(load_fraction, more, condenser_c):
    c = C.AIR_COOLED_CHILLER_LEGACY
    assert C.chiller_power_w(c, 1e6, (load_fraction + more) * 1e6, condenser_c, 7.0) >= \
        C.chiller_power_w(c, 1e6, load_fraction * 1e6, condenser_c, 7.0) * (1.0 - 1e-12) - 1e-9


def test_warmer_chilled_water_raises_the_cop():
    c = C.WATER_COOLED_CHILLER
    cold = C.chiller_power_w(c, 1e6, 5e5, 25.0, 7.0)
    warm = C.chiller_power_w(c, 1e6, 5e5, 25.0, 18.0)
    assert warm < cold


# ---------------------------------------------------------------------------------------------------------
# Fans, pumps, economisers, towers, water
# ---------------------------------------------------------------------------------------------------------


def test_fan_cube_law_and_airflow():
    assert C.airflow_m3_per_s(100e3, 12.0) == pytest.approx(100e3 / (1.204 * 1006.0 * 12.0))
    design_w = C.fan_power_w(10.0, 10.0, 250.0, 0.65)
    assert design_w == pytest.approx(250.0 * 10.0 / 0.65)
    assert C.fan_power_w(5.0, 10.0, 250.0, 0.65) == pytest.approx(design_w / 8.0)


def test_pump_power_is_head_times_flow_over_efficiency():
    flow = 1e6 / (997.05 * 4181.3 * 10.0)
    assert C.pump_power_w(1e6, 10.0, 300e3, 0.87) == pytest.approx(300e3 * flow / 0.87)


def test_economiser_fraction_changeover():
    f = C.economiser_fraction(np.array([10.0, 18.0, 23.0, 28.0, 35.0]), 18.0, 28.0)
    assert list(f) == [1.0, 1.0, 0.5, 0.0, 0.0]
    locked = C.airside_economiser_fraction(np.array([15.0, 15.0]), np.array([12.0, 14.5]), 24.0, 36.0, 14.0)
    assert list(locked) == [1.0, 0.0]


def test_tower_fan_and_tower_water_closed_forms():
    assert C.tower_fan_power_w(5e6, 10e6) == pytest.approx(0.01332 * 10e6 / 8.0)
    assert C.tower_fan_power_w(20e6, 10e6) == pytest.approx(0.01332 * 10e6)        # fans top out at design speed
    # Diehl et al. (2013) sensible share at 0 C is 26.7 %.
    assert C.evaporated_fraction_of_heat(0.0) == pytest.approx(0.733)
    # Without drift, make-up = evaporation x C / (C - 1).
    evaporation_kg_s = C.evaporated_fraction_of_heat(20.0) * 1e6 / 2.4298e6
    water = C.cooling_tower_water_l_per_s(1e6, 20.0, cycles_of_concentration=5.0, drift_fraction=0.0)
    assert water == pytest.approx(evaporation_kg_s * 5.0 / 4.0 / 0.99705)
    # Drift is part of the water the blow-down would otherwise remove: the make-up does not change.
    with_drift = C.cooling_tower_water_l_per_s(1e6, 20.0, cycles_of_concentration=5.0, drift_fraction=1e-5)
    assert with_drift == pytest.approx(water)


def test_evaporated_share_grows_with_air_temperature():
    t = np.linspace(-30.0, 45.0, 200)
    assert np.all(np.diff(C.evaporated_fraction_of_heat(t)) > 0.0)


# ---------------------------------------------------------------------------------------------------------
# Power chain
# ---------------------------------------------------------------------------------------------------------


def test_ups_loss_model_closed_form():
    curve = P.LossCurve(0.03, 0.03, 0.01)
    assert P.device_loss_w(curve, 8e5, 2e6) == pytest.approx(2e6 * (0.03 + 0.03 * 0.4 + 0.01 * 0.16))
    assert P.device_efficiency(curve, 8e5, 2e6) == pytest.approx(8e5 / (8e5 + 87.2e3))


def test_no_load_loss_makes_light_load_inefficient():
    loads = np.linspace(0.1, 1.0, 10)
    eff = P.device_efficiency(C.UPS_LEGACY_DOUBLE_CONVERSION, loads, 1.0)
    assert np.all(np.diff(eff) > 0.0)
    assert 0.93 < eff[-1] < 0.95        # legacy double conversion at full load


def test_power_chain_feeds_the_ups_with_it_plus_pdu_loss():
    chain = C.legacy_air(DESIGN_IT_W).power
    ups_w, pdu_w = P.power_chain_losses_w(chain, 8e6)
    assert pdu_w == pytest.approx(P.device_loss_w(chain.pdu, 8e6, chain.pdu_rated_power_w))
    assert ups_w == pytest.approx(P.device_loss_w(chain.ups, 8e6 + pdu_w, chain.ups_rated_power_w))


# ---------------------------------------------------------------------------------------------------------
# The plant: invariants
# ---------------------------------------------------------------------------------------------------------

plants = st.sampled_from(PRESET_NAMES)
it_fractions = st.floats(0.0, 1.3)
dry_bulbs = st.floats(-40.0, 50.0)
depressions = st.floats(0.0, 30.0)   # dry bulb - wet bulb [K]


@settings(max_examples=150, deadline=None)
@given(name=plants, it_fraction=it_fractions, dry_bulb_c=dry_bulbs, depression_k=depressions)
def test_energy_balance_pue_and_signs(name, it_fraction, dry_bulb_c, depression_k):
    spec = C.preset(name, DESIGN_IT_W)
    it_w = it_fraction * DESIGN_IT_W
    b = C.facility_power(spec, it_w, dry_bulb_c, dry_bulb_c - depression_k)
    # Everything drawn from the grid ends outdoors.
    assert b.facility_w == pytest.approx(b.heat_exhausted_w + b.heat_rejected_w + b.misc_w, rel=1e-9)
    assert b.facility_w == pytest.approx(it_w + b.cooling_w + b.power_loss_w + b.misc_w, rel=1e-12)
    assert b.cooling_w == pytest.approx(b.chiller_w + b.crah_fan_w + b.cdu_pump_w + b.pump_w + b.tower_fan_w
                                        + b.dry_cooler_fan_w)
    assert b.power_loss_w == b.ups_loss_w + b.pdu_loss_w
    for part in ("chiller_w", "crah_fan_w", "cdu_pump_w", "pump_w", "tower_fan_w", "dry_cooler_fan_w",
                 "ups_loss_w", "pdu_loss_w", "misc_w", "water_l_per_s", "heat_exhausted_w", "heat_rejected_w"):
        assert getattr(b, part) >= 0.0, part
    assert 0.0 <= b.economiser_fraction <= 1.0
    if it_w >= 1.0:
        assert b.pue(it_w) >= 1.0
    if name in DRY_PRESETS:
        assert b.water_l_per_s == 0.0


@settings(max_examples=150, deadline=None)
@given(name=plants, it_fraction=st.floats(0.05, 1.3), dry_bulb_c=dry_bulbs, depression_k=depressions,
       warmer_k=st.floats(0.0, 10.0))
def test_pue_never_falls_as_the_outdoors_warms(name, it_fraction, dry_bulb_c, depression_k, warmer_k):
    spec = C.preset(name, DESIGN_IT_W)
    it_w = it_fraction * DESIGN_IT_W
    wet_bulb_c = dry_bulb_c - depression_k
    base = C.facility_power(spec, it_w, dry_bulb_c, wet_bulb_c)
    hotter_dry = C.facility_power(spec, it_w, dry_bulb_c + warmer_k, wet_bulb_c)
    more_humid = C.facility_power(spec, it_w, dry_bulb_c, min(wet_bulb_c + warmer_k, dry_bulb_c))
    for warmer in (hotter_dry, more_humid):
        assert warmer.pue() >= base.pue() * (1.0 - 1e-12)
        assert warmer.water_l_per_s >= base.water_l_per_s * (1.0 - 1e-12) - 1e-15


@settings(max_examples=150, deadline=None)
@given(name=plants, it_fraction=it_fractions, more=st.floats(0.0, 0.3), dry_bulb_c=dry_bulbs,
       depression_k=depressions)
def test_cooling_power_never_falls_as_it_load_grows(name, it_fraction, more, dry_bulb_c, depression_k):
    spec = C.preset(name, DESIGN_IT_W)
    low = C.facility_power(spec, it_fraction * DESIGN_IT_W, dry_bulb_c, dry_bulb_c - depression_k)
    high = C.facility_power(spec, (it_fraction + more) * DESIGN_IT_W, dry_bulb_c, dry_bulb_c - depression_k)
    assert high.cooling_w >= low.cooling_w * (1.0 - 1e-12) - 1e-9
    assert high.power_loss_w >= low.power_loss_w


def test_arrays_evaluate_elementwise():
    spec = C.preset("hyperscale_air", DESIGN_IT_W)
    it_w = np.array([2e6, 8e6, 10e6])
    db = np.array([-5.0, 22.0, 35.0])
    wb = np.array([-7.0, 15.0, 21.0])
    together = C.facility_power(spec, it_w, db, wb)
    for i in range(3):
        alone = C.facility_power(spec, float(it_w[i]), float(db[i]), float(wb[i]))
        assert isinstance(alone.chiller_w, float)
        assert together.facility_w[i] == pytest.approx(alone.facility_w)


def test_economiser_keys():
    # Without the outdoor-air economiser, a tower plant's free cooling follows the wet bulb only and a
    # dry-cooler plant's the dry bulb only.
    def no_airside(spec):
        return dataclasses.replace(spec, air=dataclasses.replace(spec.air, airside_economiser=False))

    tower = no_airside(C.preset("hyperscale_air", DESIGN_IT_W))
    dry = no_airside(C.preset("dry_cooled", DESIGN_IT_W))
    it_w = 8e6
    share = lambda spec, db, wb: C.facility_power(spec, it_w, db, wb).economiser_fraction
    assert share(tower, 30.0, 5.0) == 1.0 and share(tower, 30.0, 25.0) == 0.0
    assert share(tower, 10.0, 5.0) == share(tower, 30.0, 5.0)
    assert share(dry, 5.0, 5.0) == 1.0 and share(dry, 30.0, 5.0) == 0.0
    # Hyperscale with its airside economiser: all free in cool dry air, none when too humid and hot.
    hyperscale = C.preset("hyperscale_air", DESIGN_IT_W)
    assert share(hyperscale, 15.0, 10.0) == 1.0
    assert share(hyperscale, 38.0, 25.0) == 0.0


def test_liquid_cooling_uses_little_fan_power():
    it_w, db, wb = 8e6, 25.0, 18.0
    liquid = C.facility_power(C.preset("liquid_dtc", DESIGN_IT_W), it_w, db, wb)
    air = C.facility_power(C.preset("dry_cooled", DESIGN_IT_W), it_w, db, wb)
    # Room-air fans carry only the 20 % residual IT heat and the electrical losses.
    assert liquid.crah_fan_w < 0.25 * air.crah_fan_w
    assert liquid.cdu_pump_w > 0.0 == air.cdu_pump_w


def test_pue_needs_it_power():
    b = C.facility_power(C.preset("legacy_air", DESIGN_IT_W), 0.0, 20.0, 15.0)
    assert b.facility_w > 0.0          # no-load losses, constant-speed fans, misc
    with pytest.raises(ValueError):
        b.pue()


def test_unknown_preset_lists_the_valid_ones():
    with pytest.raises(ValueError, match="expected one of dry_cooled, hyperscale_air, legacy_air, liquid_dtc"):
        C.preset("immersion", DESIGN_IT_W)


def test_inputs_are_checked():
    spec = C.preset("hyperscale_air", DESIGN_IT_W)
    with pytest.raises(ValueError):
        C.facility_power(spec, 1e6, 20.0, 25.0)     # wet bulb above dry bulb
    with pytest.raises(ValueError):
        C.facility_power(spec, -1.0, 20.0, 15.0)


# ---------------------------------------------------------------------------------------------------------
# A year of real weather (TMY3 EPW), IT at design power all year (an AI cluster runs near full power)
# ---------------------------------------------------------------------------------------------------------

CLIMATE_FILES = {
    "phoenix": "USA_AZ_Phoenix-Sky.Harbor.Intl.AP.722780_TMY3.epw",
    "sterling": "USA_VA_Sterling-Washington.Dulles.Intl.AP.724030_TMY3.epw",
    "minneapolis": "USA_MN_Minneapolis-St.Paul.Intl.AP.726580_TMY3.epw",
}


@lru_cache(maxsize=None)
def _hourly_weather(path: str):
    weather = W.load_weather(path, datetime(2023, 1, 1, tzinfo=timezone.utc), datetime(2024, 1, 1, tzinfo=timezone.utc))
    return weather.hourly_arrays()


@lru_cache(maxsize=None)
def _annual(shared_data_dir: str, preset_name: str, climate: str) -> C.FacilitySummary:
    durations_s, dry_bulb_c, wet_bulb_c, _ = _hourly_weather(f"{shared_data_dir}/{CLIMATE_FILES[climate]}")
    return C.annual_summary(C.preset(preset_name, DESIGN_IT_W), DESIGN_IT_W, durations_s, dry_bulb_c, wet_bulb_c)


@pytest.fixture
def annual(shared_data):
    return lambda preset_name, climate: _annual(str(shared_data), preset_name, climate)


def test_hyperscale_air_pue_follows_the_climate(annual):
    for climate in ("sterling", "minneapolis"):
        assert 1.08 <= annual("hyperscale_air", climate).pue <= 1.25, climate
    assert annual("hyperscale_air", "phoenix").pue > annual("hyperscale_air", "sterling").pue \
        > annual("hyperscale_air", "minneapolis").pue


def test_legacy_air_pue(annual):
    for climate in CLIMATE_FILES:
        assert 1.4 <= annual("legacy_air", climate).pue <= 1.8, climate


def test_liquid_cooling_beats_air_in_every_climate(annual):
    for climate in CLIMATE_FILES:
        liquid = annual("liquid_dtc", climate)
        for air in ("hyperscale_air", "dry_cooled", "legacy_air"):
            assert liquid.pue < annual(air, climate).pue, (climate, air)
        # Warm water: many more hours of free cooling than the same dry plant on chilled water.
        assert liquid.economiser_fraction > annual("dry_cooled", climate).economiser_fraction


def test_on_site_water(annual):
    # REFERENCE.md: on-site WUE of large operators about 0.18-0.55 L/kWh, more in an Arizona summer.
    assert 0.18 <= annual("hyperscale_air", "sterling").wue_l_per_kwh <= 0.55
    assert annual("hyperscale_air", "phoenix").wue_l_per_kwh > annual("hyperscale_air", "sterling").wue_l_per_kwh
    for climate in CLIMATE_FILES:
        for dry in DRY_PRESETS:
            assert annual(dry, climate).water_l == 0.0


def test_annual_summary_integrates_the_hourly_breakdown(annual, shared_data):
    durations_s, db, wb, _ = _hourly_weather(f"{shared_data}/{CLIMATE_FILES['sterling']}")
    spec = C.preset("hyperscale_air", DESIGN_IT_W)
    summary = annual("hyperscale_air", "sterling")
    hourly = [C.facility_power(spec, DESIGN_IT_W, float(db[i]), float(wb[i])) for i in range(0, 8760, 97)]
    sampled_pue = sum(b.facility_w for b in hourly) / (DESIGN_IT_W * len(hourly))
    assert summary.pue == pytest.approx(sampled_pue, abs=0.01)
    assert summary.it_energy_j == pytest.approx(DESIGN_IT_W * 8760 * S_PER_H)
