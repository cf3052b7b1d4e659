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


# ------------------------------------------------------------------ lazy integration against a naive reference
class AffinePlant:
    """Overhead = 10 % of IT as cooling, 2 % as losses, plus a constant 50 W misc load (so it draws with no IT)."""

    part_names = ("fans",)

    def draw(self, it_power_w, weather=None):
        from sim.engine.meter import FacilityDraw

        return FacilityDraw(cooling_w=0.1 * it_power_w, power_loss_w=0.02 * it_power_w, misc_w=50.0,
                            water_l_per_s=1e-6 * it_power_w, parts_w=(0.1 * it_power_w,))


def reference_integrals(events, end_s, bin_s):
    """Stretch by stretch, with no cleverness: per bin facility J and carbon g; per owner facility J and carbon g."""
    powers, intensity, price = {}, 100.0, 50.0
    bins: dict[int, list[float]] = {}
    owners: dict[str, list[float]] = {}
    cuts = sorted({t for t, *_ in events} | {k * bin_s for k in range(int(end_s // bin_s) + 1)} | {end_s})
    queue = sorted(events, key=lambda e: e[0])
    k = 0
    for a, b in zip(cuts, cuts[1:]):
        while k < len(queue) and queue[k][0] <= a:
            _, kind, key, value = queue[k]
            if kind == "load":
                powers[key] = value
            elif key == "carbon":
                intensity = value
            else:
                price = value
            k += 1
        dt = b - a
        it_w = sum(powers.values())
        facility_w = it_w * 1.12 + 50.0
        acc = bins.setdefault(int(a // bin_s), [0.0, 0.0, 0.0])
        acc[0] += facility_w * dt
        acc[1] += facility_w * dt / 3.6e6 * intensity
        acc[2] += facility_w * dt / 3.6e6 * price
        shares = {"unattributed": 1.0}
        if it_w > 0:
            shares = {}
            for (_, owner), p in powers.items():
                shares[owner] = shares.get(owner, 0.0) + p / it_w
        for owner, share in shares.items():
            o = owners.setdefault(owner, [0.0, 0.0, 0.0])
            o[0] += share * facility_w * dt
            o[1] += share * facility_w * dt / 3.6e6 * intensity
            o[2] += share * facility_w * dt / 3.6e6 * price
    return bins, owners


@given(
    events=st.lists(
        st.one_of(
            st.tuples(st.floats(0, 999), st.just("load"),
                      st.tuples(st.sampled_from(["gpu", "host", "network"]), st.sampled_from(["a", "b"])),
                      st.sampled_from([0.0, 10.0, 250.0, 4000.0])),
            st.tuples(st.floats(0, 999), st.just("signal"), st.sampled_from(["carbon", "electricity_price"]),
                      st.floats(0, 900)),
        ),
        max_size=40,
    ),
    bin_s=st.sampled_from([7.0, 60.0, 250.0, 5000.0]),
)
@settings(max_examples=150, deadline=None)
def test_lazy_integration_equals_stretch_by_stretch_reference(events, bin_s):
    """Loads and signals changing at random instants (several at once, some with no IT load at all): every bin's
    facility energy and signal amounts, and every owner's share, equal a naive stretch-by-stretch integral."""
    from sim.engine.footprint import ELECTRICITY_PRICE

    bins = Bins()
    meter = Meter(bin_s, AffinePlant(), bins, intensity_g_per_kwh=100.0, signals=(ELECTRICITY_PRICE,))
    meter.set_signal("electricity_price", 0.0, 50.0)
    loads = {}
    for t, kind, key, value in sorted(events, key=lambda e: e[0]):
        if kind == "load":
            if key not in loads:
                loads[key] = meter.load(*key)
            loads[key].set_power_w(t, value)
        else:
            meter.set_signal(key, t, value)
    meter.finish(1000.0)
    ref_bins, ref_owners = reference_integrals(
        [(t, kind, key, value) for t, kind, key, value in events], 1000.0, bin_s)
    assert len(bins) == len(ref_bins)
    for b, (index, (facility_j, carbon_g, usd)) in zip(bins, sorted(ref_bins.items())):
        assert b.start_s == pytest.approx(index * bin_s)
        assert b.facility_energy_j == pytest.approx(facility_j, rel=1e-9, abs=1e-6)
        assert b.carbon_g == pytest.approx(carbon_g, rel=1e-9, abs=1e-9)
        assert b.signal_energy_integral["electricity_price"] == pytest.approx(usd, rel=1e-9, abs=1e-9)
        assert b.part_energy_j[0] == pytest.approx(0.1 * b.it_energy_j, rel=1e-9, abs=1e-6)
    totals = meter.owner_totals()
    for owner, (facility_j, carbon_g, usd) in ref_owners.items():
        assert totals[owner].facility_energy_j == pytest.approx(facility_j, rel=1e-9, abs=1e-6), owner
        assert totals[owner].carbon_g == pytest.approx(carbon_g, rel=1e-9, abs=1e-9), owner
        assert totals[owner].signal_energy_integral.get("electricity_price", 0.0) == pytest.approx(
            usd, rel=1e-9, abs=1e-9), owner


def test_a_signal_change_cuts_the_stretch_of_a_periodic_load():
    """With a periodic load the plant sees each stretch's mean heat, so a signal change must integrate up to
    itself: carbon = the energy of each half at its own intensity."""
    meter, bins = make_meter(bin_s=100.0, pue=1.5, intensity=400.0)
    meter.load("gpu", "j").set_profile(0.0, PeriodicPower(0.0, (2.0, 1.0), (300.0, 60.0)))
    meter.set_intensity(30.0, 100.0)   # after 10 whole periods
    meter.finish(60.0)
    (b,) = bins
    half_kwh = 1.5 * 10 * 660.0 / 3.6e6
    assert b.carbon_g == pytest.approx(half_kwh * 400.0 + half_kwh * 100.0, rel=1e-12)
    assert meter.owner_totals()["j"].carbon_g == pytest.approx(b.carbon_g, rel=1e-12)


def test_several_loads_at_one_instant_equal_one_by_one():
    one, bins_one = make_meter(bin_s=10.0, pue=1.3, intensity=300.0)
    many, bins_many = make_meter(bin_s=10.0, pue=1.3, intensity=300.0)
    a = [one.load("gpu", "x"), one.load("host", "x"), one.load("gpu", "y")]
    b = [many.load("gpu", "x"), many.load("host", "x"), many.load("gpu", "y")]
    for t, powers in ((0.0, (100.0, 20.0, 5.0)), (7.5, (0.0, 30.0, 5.0)), (23.0, (80.0, 0.0, 0.0))):
        for load, w in zip(a, powers):
            load.set_power_w(t, w)
        many.set_constants(t, zip(b, powers))
    one.finish(40.0)
    many.finish(40.0)
    assert [x.facility_energy_j for x in bins_one] == pytest.approx([x.facility_energy_j for x in bins_many])
    for owner in ("x", "y"):
        assert one.owner_total(owner).carbon_g == pytest.approx(many.owner_total(owner).carbon_g, rel=1e-12)
        assert one.owner_total(owner).channel_energy_j == pytest.approx(many.owner_total(owner).channel_energy_j)


def test_an_unchanged_power_still_moves_the_meter_to_now():
    meter, _ = make_meter(bin_s=10.0)
    load = meter.load("gpu", "x")
    load.set_power_w(0.0, 100.0)
    load.set_power_w(25.0, 100.0)     # no change of power: the meter still reaches 25 s (two bins closed)
    assert meter.now_s == 25.0
    assert meter.owner_total("x").channel_energy_j[0] == pytest.approx(2500.0)


class WeatherPlant:
    """Cooling that follows the outdoor dry bulb: 1 % of IT per degree above 0 C, and a 20 W fan per degree."""

    part_names = ("fans",)

    def draw(self, it_power_w, weather=None):
        from sim.engine.meter import FacilityDraw

        ambient_c = 0.0 if weather is None else weather.dry_bulb_c
        fan_w = 20.0 * max(ambient_c, 0.0)
        return FacilityDraw(cooling_w=0.01 * max(ambient_c, 0.0) * it_power_w + fan_w, power_loss_w=0.0,
                            parts_w=(fan_w,))


class Step:
    def __init__(self, dry_bulb_c):
        self.dry_bulb_c = dry_bulb_c
        self.wet_bulb_c = dry_bulb_c - 3.0


@settings(max_examples=80, deadline=None)
@given(
    steps=st.lists(st.tuples(st.floats(0.0, 200.0), st.floats(-10.0, 40.0)), min_size=1, max_size=12),
    loads=st.lists(st.tuples(st.floats(0.0, 200.0), st.floats(0.0, 5000.0)), max_size=12),
    bin_s=st.sampled_from([7.0, 30.0, 3600.0]),
)
def test_scheduled_weather_equals_weather_set_at_each_step(steps, loads, bin_s):
    """A weather schedule handed over once gives the same bins as setting each step when it starts."""
    starts = sorted({round(t, 3) for t, _ in steps})
    values = [Step(c) for _, c in steps[: len(starts)]]
    end_s = 210.0

    def run(scheduled: bool):
        bins = Bins()
        meter = Meter(bin_s, WeatherPlant(), bins, intensity_g_per_kwh=300.0)
        load = meter.load("gpu", "job")
        events = [(t, 1, p) for t, p in loads]
        if scheduled:
            meter.schedule_weather(0.0, starts, values, [v.dry_bulb_c for v in values], [v.wet_bulb_c for v in values])
        else:
            events += [(t, 0, step) for t, step in zip(starts, values)]
        for t, kind, what in sorted(events, key=lambda e: (e[0], e[1])):
            if kind == 0:
                meter.set_weather(t, what, what.dry_bulb_c, what.wet_bulb_c)
            else:
                load.set_power_w(t, what)
        meter.finish(end_s)
        return bins, meter

    (by_step, a), (scheduled, b) = run(False), run(True)
    assert len(by_step) == len(scheduled)
    for x, y in zip(by_step, scheduled):
        assert (x.start_s, x.end_s) == (y.start_s, y.end_s)
        assert y.cooling_energy_j == pytest.approx(x.cooling_energy_j, rel=1e-12, abs=1e-9)
        assert y.part_energy_j[0] == pytest.approx(x.part_energy_j[0], rel=1e-12, abs=1e-9)
        assert y.ambient_time_integral == pytest.approx(x.ambient_time_integral, rel=1e-12, abs=1e-9, nan_ok=True)
        assert y.carbon_g == pytest.approx(x.carbon_g, rel=1e-12, abs=1e-12)
    assert b.weather_steps_applied == len(starts)


def test_a_new_weather_schedule_applies_the_step_in_force_now():
    bins = Bins()
    meter = Meter(10.0, WeatherPlant(), bins)
    meter.load("gpu", "job").set_power_w(0.0, 100.0)
    meter.schedule_weather(0.0, [0.0, 5.0], [Step(10.0), Step(20.0)], [10.0, 20.0], [7.0, 17.0])
    meter.schedule_weather(8.0, [6.0, 12.0], [Step(30.0), Step(40.0)], [30.0, 40.0], [27.0, 37.0])  # 30 C from 8 s
    meter.finish(20.0)
    assert bins[0].ambient_time_integral == pytest.approx(10.0 * 5 + 20.0 * 3 + 30.0 * 2)
    assert bins[1].ambient_time_integral == pytest.approx(30.0 * 2 + 40.0 * 8)


def _profile(kind: str, value_w: float, at_s: float):
    """A profile of each kind a job hands the meter: constant, periodic, cyclic with pauses, switching."""
    from sim.engine.cyclic import CyclicPower, SwitchPower

    periodic = PeriodicPower(at_s, (2.0, 1.0), (value_w, value_w / 4))
    if kind == "constant":
        return ConstantPower(value_w)
    if kind == "periodic":
        return periodic
    if kind == "cyclic":
        return CyclicPower(at_s, 11.0, 3.0, periodic, value_w / 2)
    return SwitchPower(at_s + 6.5, ConstantPower(value_w / 3), CyclicPower(at_s + 6.5, 11.0, 3.0, periodic, 5.0))


@given(
    changes=st.lists(
        st.tuples(
            st.floats(0, 99),
            st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["constant", "periodic", "cyclic", "switch"]),
                               st.sampled_from([0.0, 40.0, 700.0])), min_size=1, max_size=4),
        ),
        max_size=12,
    ),
    bin_s=st.sampled_from([4.0, 25.0, 1000.0]),
)
@settings(max_examples=150, deadline=None)
def test_several_profiles_at_one_instant_equal_one_change_at_a_time(changes, bin_s):
    """`change_many` books, bin by bin and owner by owner, exactly what one `change` per load books."""
    keys = [("gpu", "x"), ("host", "x"), ("storage", "x"), ("gpu", "y")]
    one, bins_one = make_meter(bin_s=bin_s, pue=1.3, intensity=300.0)
    many, bins_many = make_meter(bin_s=bin_s, pue=1.3, intensity=300.0)
    loads_one = [one.load(*key) for key in keys]
    loads_many = [many.load(*key) for key in keys]
    for t, batch in sorted(changes, key=lambda c: c[0]):
        for i, kind, value_w in batch:
            loads_one[i].set_profile(t, _profile(kind, value_w, t))
        many.change_many(t, [(loads_many[i], _profile(kind, value_w, t)) for i, kind, value_w in batch])
    one.finish(100.0)
    many.finish(100.0)
    assert [(b.start_s, b.channel_energy_j, b.facility_energy_j, b.carbon_g) for b in bins_one] == [
        (b.start_s, b.channel_energy_j, b.facility_energy_j, b.carbon_g) for b in bins_many]
    totals_one, totals_many = one.owner_totals(), many.owner_totals()
    assert totals_one.keys() == totals_many.keys()
    for owner, totals in totals_one.items():
        other = totals_many[owner]
        assert (totals.channel_energy_j, totals.facility_energy_j, totals.carbon_g) == (
            other.channel_energy_j, other.facility_energy_j, other.carbon_g), owner


def test_a_switching_profile_integrates_like_the_change_it_stands_for():
    """A `SwitchPower` handed over at 0 equals changing the load at its switch instant; once the switch is
    past, the meter reads the profile after it directly."""
    from sim.engine.cyclic import CyclicPower, SwitchPower

    after = CyclicPower(13.0, 11.0, 3.0, PeriodicPower(13.0, (2.0, 1.0), (700.0, 100.0)), 50.0)
    switched, bins_switched = make_meter(bin_s=10.0, pue=1.2, intensity=200.0)
    load = switched.load("gpu", "j")
    load.set_profile(0.0, SwitchPower(13.0, ConstantPower(80.0), after))
    switched.advance(25.0)
    assert load.periodic is after
    switched.finish(60.0)
    stepped, bins_stepped = make_meter(bin_s=10.0, pue=1.2, intensity=200.0)
    later = CyclicPower(13.0, 11.0, 3.0, PeriodicPower(13.0, (2.0, 1.0), (700.0, 100.0)), 50.0)
    stepped.load("gpu", "j").set_power_w(0.0, 80.0)
    stepped.load("gpu", "j")  # the same owner; the change below goes to the first load
    stepped._loads[0].set_profile(13.0, later)
    stepped.finish(60.0)
    assert [b.it_energy_j for b in bins_switched] == pytest.approx([b.it_energy_j for b in bins_stepped], rel=1e-12)
    assert switched.owner_total("j").facility_energy_j == pytest.approx(
        stepped.owner_total("j").facility_energy_j, rel=1e-12)


@settings(max_examples=80, deadline=None)
@given(
    carbon=st.lists(st.tuples(st.floats(0.0, 200.0), st.floats(0.0, 900.0)), max_size=10),
    price=st.lists(st.tuples(st.floats(0.0, 200.0), st.floats(0.0, 300.0)), max_size=6),
    # 0 W or at least 1 W: a subnormal IT load against a fan's 200 W makes the overhead per IT watt infinite
    loads=st.lists(st.tuples(st.floats(0.0, 200.0), st.one_of(st.just(0.0), st.floats(1.0, 5000.0))), max_size=8),
    periodic=st.booleans(),
    bin_s=st.sampled_from([7.0, 30.0, 3600.0]),
    on_edges=st.booleans(),
)
def test_scheduled_signals_equal_signals_set_at_each_step(carbon, price, loads, periodic, bin_s, on_edges):
    """Grid-signal steps handed over once (as the simulation does, a week at a time) give the bins and owner totals
    of setting each step when it starts: constant and periodic loads (whose stretches signal steps cut), steps
    inside bins and on bin ends, two signals, and the weather stepping at the same instants."""
    from sim.engine.footprint import ELECTRICITY_PRICE

    def steps(pairs):
        rounded = sorted({(round(t / bin_s) * bin_s if on_edges else round(t, 3)): v for t, v in pairs}.items())
        return [t for t, _ in rounded], [float(v) for _, v in rounded]

    carbon_s, carbon_v = steps(carbon)
    price_s, price_v = steps(price)
    weather_s = [float(t) for t in range(0, 210, 10)]
    weather = [Step(10.0 + t % 7) for t in range(len(weather_s))]
    end_s = 210.0

    def run(scheduled: bool):
        bins = Bins()
        meter = Meter(bin_s, WeatherPlant(), bins, intensity_g_per_kwh=300.0, signals=(ELECTRICITY_PRICE,))
        meter.schedule_weather(0.0, weather_s, weather, [w.dry_bulb_c for w in weather], [w.wet_bulb_c for w in weather])
        load = meter.load("gpu", "job")
        host = meter.load("host", "job")
        if periodic:
            host.set_profile(0.0, PeriodicPower(0.0, (1.3, 0.7), (800.0, 200.0)))
        events = [(t, 1, p) for t, p in loads]
        if scheduled:
            meter.schedule_signal("carbon", 0.0, carbon_s, carbon_v)
            meter.schedule_signal(ELECTRICITY_PRICE.key, 0.0, price_s, price_v)
        else:
            events += [(t, 0, ("carbon", v)) for t, v in zip(carbon_s, carbon_v)]
            events += [(t, 0, (ELECTRICITY_PRICE.key, v)) for t, v in zip(price_s, price_v)]
        for t, kind, what in sorted(events, key=lambda e: (e[0], e[1])):
            if kind == 0:
                meter.set_signal(what[0], t, what[1])
            else:
                load.set_power_w(t, what)
        meter.finish(end_s)
        return bins, meter.owner_totals()

    (by_step, a), (scheduled, b) = run(False), run(True)
    assert [(x.start_s, x.end_s) for x in by_step] == [(y.start_s, y.end_s) for y in scheduled]
    for x, y in zip(by_step, scheduled):
        assert y.facility_energy_j == pytest.approx(x.facility_energy_j, rel=1e-12, abs=1e-9)
        for key in ("carbon", ELECTRICITY_PRICE.key):
            assert y.signal_energy_integral[key] == pytest.approx(x.signal_energy_integral[key], rel=1e-12, abs=1e-9)
            assert y.signal_time_integral[key] == pytest.approx(x.signal_time_integral[key], rel=1e-12, abs=1e-9)
    for owner in a:
        for key in ("carbon", ELECTRICITY_PRICE.key):
            assert b[owner].signal_energy_integral.get(key, 0.0) == pytest.approx(
                a[owner].signal_energy_integral.get(key, 0.0), rel=1e-12, abs=1e-9)
        assert b[owner].facility_energy_j == pytest.approx(a[owner].facility_energy_j, rel=1e-12, abs=1e-9)


def test_a_new_signal_schedule_applies_the_step_in_force_now_and_replaces_the_rest():
    bins = Bins()
    meter = Meter(10.0, FixedPue(1.0), bins, intensity_g_per_kwh=100.0)
    meter.load("gpu", "job").set_power_w(0.0, 3.6e6)            # 1 kWh per second
    meter.schedule_signal("carbon", 0.0, [5.0, 15.0], [200.0, 900.0])
    meter.schedule_signal("carbon", 8.0, [6.0, 12.0], [300.0, 400.0])  # 300 from 8 s; the 900 at 15 s is gone
    meter.finish(20.0)
    assert bins[0].carbon_g == pytest.approx(100.0 * 5 + 200.0 * 3 + 300.0 * 2)
    assert bins[1].carbon_g == pytest.approx(300.0 * 2 + 400.0 * 8)
    with pytest.raises(KeyError):
        meter.schedule_signal("no-such-signal", 20.0, [], [])
