"""The exact energy meter: closed forms, bins that add up to totals, attribution that conserves energy."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.meter import Meter
from sim.engine.profiles import ConstantPower, PeriodicPower
from sim.physics.fixed_pue import FixedPue


class Bins(list):
    def __call__(self, record):
        self.append(record)


def make_meter(bin_s=3600.0, pue=1.0, intensity=0.0):
    bins = Bins()
    return Meter(bin_s, FixedPue(pue), bins, intensity_g_per_kwh=intensity), bins


def test_fixed_group_at_constant_power_for_known_time_is_power_times_time():
    meter, bins = make_meter(bin_s=3600.0)
    load = meter.load("gpu", "job")
    load.set_power_w(0.0, 700.0 * 10_000)
    meter.finish(7200.0)
    assert [b.channel_energy_j[0] for b in bins] == [700.0 * 10_000 * 3600] * 2
    assert sum(b.it_energy_j for b in bins) == 700.0 * 10_000 * 7200


def test_bins_are_cut_from_the_exact_integral_across_events():
    meter, bins = make_meter(bin_s=10.0)
    load = meter.load("host", "a")
    load.set_power_w(3.0, 100.0)      # on at 3 s
    load.set_power_w(27.0, 50.0)      # lower at 27 s
    meter.finish(35.0)                # partial last bin
    energies = [b.channel_energy_j[1] for b in bins]
    assert energies == pytest.approx([700.0, 1000.0, 700.0 + 150.0, 250.0])
    assert [b.interval_s for b in bins] == [10.0, 10.0, 10.0, 5.0]


def test_pue_overhead_and_carbon_follow_energy_and_intensity():
    meter, bins = make_meter(bin_s=3600.0, pue=1.5, intensity=400.0)
    meter.load("gpu", "j").set_power_w(0.0, 1000.0)
    meter.set_intensity(1800.0, 100.0)  # mid-bin change of intensity
    meter.finish(3600.0)
    (b,) = bins
    assert b.facility_energy_j == pytest.approx(1.5 * 3.6e6)
    # carbon = 0.75 kWh at 400 g + 0.75 kWh at 100 g
    assert b.carbon_g == pytest.approx(0.75 * 400 + 0.75 * 100)


@given(
    phases=st.lists(st.tuples(st.floats(0.01, 10), st.floats(0, 1000)), min_size=1, max_size=4),
    cuts=st.lists(st.floats(0, 100), min_size=2, max_size=6),
    origin=st.floats(-50, 50),
)
@settings(max_examples=200, deadline=None)
def test_periodic_profile_integral_is_additive_and_matches_the_period_mean(phases, cuts, origin):
    durations, powers = zip(*phases)
    profile = PeriodicPower(origin, durations, powers)
    a, *_, c = sorted(cuts)
    b = (a + c) / 2
    total = profile.energy_j(a, c)
    assert total == pytest.approx(profile.energy_j(a, b) + profile.energy_j(b, c), rel=1e-9, abs=1e-6)
    n = 3
    assert profile.energy_j(origin, origin + n * profile.period_s) == pytest.approx(
        n * sum(d * p for d, p in phases), rel=1e-9, abs=1e-6
    )
    assert 0 <= total <= max(powers) * (c - a) * (1 + 1e-9) + 1e-6


def test_periodic_profile_split_by_bins_sums_to_whole_iterations():
    meter, bins = make_meter(bin_s=7.0)
    profile = PeriodicPower(0.0, (2.0, 1.0), (300.0, 60.0))
    meter.load("gpu", "j").set_profile(0.0, profile)
    meter.finish(30.0)  # 10 iterations of 3 s, cut by 7 s bins
    assert sum(b.channel_energy_j[0] for b in bins) == pytest.approx(10 * (600 + 60))
    assert bins[0].channel_energy_j[0] == pytest.approx(2 * 660 + 300)  # two periods + 1 s of compute


@given(
    changes=st.lists(
        st.tuples(st.floats(0, 1000), st.sampled_from(["gpu", "host", "network", "storage"]),
                  st.sampled_from(["a", "b", "idle"]), st.floats(0, 5000)),
        max_size=30,
    ),
    pue=st.floats(1.0, 2.0),
    bin_s=st.floats(1.0, 300.0),
)
@settings(max_examples=100, deadline=None)
def test_attribution_conserves_facility_energy(changes, pue, bin_s):
    meter, bins = make_meter(bin_s=bin_s, pue=pue, intensity=300.0)
    loads = {}
    for t, channel, owner, power_w in sorted(changes, key=lambda c: c[0]):
        key = (channel, owner)
        if key not in loads:
            loads[key] = meter.load(channel, owner)
        loads[key].set_power_w(t, power_w)
    meter.finish(1000.0)
    facility = math.fsum(b.facility_energy_j for b in bins)
    owners = meter.owner_totals()
    assert math.fsum(o.facility_energy_j for o in owners.values()) == pytest.approx(facility, rel=1e-9, abs=1e-6)
    assert math.fsum(o.carbon_g for o in owners.values()) == pytest.approx(
        math.fsum(b.carbon_g for b in bins), rel=1e-9, abs=1e-9)
    assert math.fsum(b.interval_s for b in bins) == pytest.approx(1000.0)
    for b in bins:
        assert b.facility_energy_j == pytest.approx(pue * b.it_energy_j, rel=1e-9, abs=1e-6)


def test_meter_refuses_to_go_back_in_time():
    meter, _ = make_meter()
    meter.advance(10.0)
    with pytest.raises(ValueError):
        meter.advance(5.0)


def test_constant_sums_do_not_drift_after_many_changes():
    meter, bins = make_meter(bin_s=1e9)
    load = meter.load("gpu", "j")
    for i in range(10_000):
        load.set_power_w(float(i), 0.1 * (i % 7))
    load.set_power_w(10_000.0, 0.0)
    meter.finish(20_000.0)
    assert meter.it_power_w == 0.0
    assert ConstantPower(0.0).energy_j(0, 1) == 0.0


def test_fixed_pue_holds_in_every_interval_even_when_bins_cut_iterations():
    meter, bins = make_meter(bin_s=5.0, pue=1.3)
    meter.load("gpu", "j").set_profile(0.0, PeriodicPower(0.0, (2.0, 1.0), (300.0, 60.0)))
    meter.finish(31.0)
    for b in bins:
        assert b.facility_energy_j == pytest.approx(1.3 * b.it_energy_j, rel=1e-12)
