"""The meter's log of load changes (`Load.set_power_w`, `Meter.flush`) changes nothing but speed: a run whose
changes are logged and replayed (in Python, or by the compiled loops of sim/engine/meter_kernel.py) gives the
same bins, owner totals and readings, bit for bit, as one whose changes are integrated one at a time."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import sim.engine.meter as meter_module
from sim.engine.footprint import ELECTRICITY_PRICE, WATER_OFFSITE
from sim.engine.meter import Meter
from sim.engine.profiles import PeriodicPower
from sim.physics import cooling as C
from sim.facility.plant import PlantFacility
from sim.physics.fixed_pue import FixedPue

pytest.importorskip("numba")

LOADS = [(channel, owner) for channel in ("gpu", "host", "storage") for owner in ("job", "service", "idle")]
POWERS_W = [0.0, 50.0, 100.0, 1234.5, 7.25e5, 1.0e7 / 3.0]
PLANT = PlantFacility(C.preset("hyperscale_air", 2.0e6))


def facility(kind: str):
    if kind == "fixed_pue":
        return FixedPue(1.23, cooling_share=0.7, wue_l_per_kwh=1.8)
    return PLANT


def weather_terms(dry_bulb_c: float):
    return PLANT.steps_for(dry_bulb_c, dry_bulb_c - 6.0)[0]


def exact(x) -> object:
    """A value as its exact bits (floats by hex, so 0.0 and -0.0 differ and NaN equals NaN)."""
    if isinstance(x, float):
        return x.hex()
    if isinstance(x, (list, tuple)):
        return tuple(exact(v) for v in x)
    if isinstance(x, dict):
        return tuple((k, exact(v)) for k, v in x.items())
    return x


def record(bin_) -> tuple:
    return exact((bin_.start_s, bin_.end_s, bin_.channel_energy_j, bin_.cooling_energy_j, bin_.power_loss_energy_j,
                  bin_.misc_energy_j, bin_.water_l, bin_.ambient_time_integral, bin_.wet_bulb_time_integral,
                  bin_.part_energy_j, bin_.signal_energy_integral, bin_.signal_time_integral))


def totals(t) -> tuple:
    return exact((t.channel_energy_j, t.facility_energy_j, t.water_l, t.signal_energy_integral))


def run(ops, facility_kind: str, mode: str, bin_s: float, refresh_every: int, monkeypatch, read=None) -> tuple:
    """The ops on a fresh meter; mode: 'direct' (no log), 'python' (logged, replayed in Python) or 'compiled'
    (logged, every log replayed by meter_kernel where it can). A 'read' op records read(meter, owner) (default:
    the owner's totals)."""
    monkeypatch.setattr(meter_module, "_COMPILED_MIN_CHANGES", 1 if mode == "compiled" else 10**9)
    bins = []
    meter = Meter(bin_s, facility(facility_kind), bins.append, 300.0, signals=(ELECTRICITY_PRICE, WATER_OFFSITE))
    meter.defer_changes = mode != "direct"
    meter._REFRESH_EVERY = refresh_every
    if facility_kind == "plant":
        meter.set_weather(0.0, weather_terms(20.0), 20.0, 14.0)
    loads = [meter.load(channel, owner) for channel, owner in LOADS]
    readings = []
    t_s = 0.0
    for kind, dt_s, a, b in ops:
        t_s += dt_s
        if kind == "set":
            loads[a].set_power_w(t_s, POWERS_W[b])
        elif kind == "signal":
            meter.set_signal(("carbon", "electricity_price", "water_offsite")[a % 3], t_s, 100.0 + 7.0 * b)
        elif kind == "read":
            owner = LOADS[a][1]
            readings.append(totals(meter.owner_total(owner)) if read is None else read(meter, owner))
        elif kind == "weather":
            dry_bulb_c = -5.0 + 6.0 * b
            meter.set_weather(t_s, weather_terms(dry_bulb_c) if facility_kind == "plant" else None, dry_bulb_c,
                              dry_bulb_c - 6.0)
        elif kind == "periodic":
            loads[a].set_profile(t_s, PeriodicPower(t_s, (2.0, 1.0), (POWERS_W[b] + 10.0, 5.0)))
        elif kind == "both":
            meter.set_constants(t_s, [(loads[a], POWERS_W[b]), (loads[(a + 1) % len(loads)], POWERS_W[-1 - b])])
    meter.finish(t_s + 1.0)
    owners = {name: totals(t) for name, t in meter.owner_totals().items()}
    return [record(b) for b in bins], owners, readings, exact(meter.it_power_w)


op = st.one_of(
    st.tuples(st.just("set"), st.sampled_from([0.0, 0.0, 0.5, 1.0, 3.0, 17.0]), st.integers(0, len(LOADS) - 1),
              st.integers(0, len(POWERS_W) - 1)),
    st.tuples(st.sampled_from(["signal", "read", "weather", "periodic", "both"]), st.sampled_from([0.0, 2.0, 40.0]),
              st.integers(0, len(LOADS) - 1), st.integers(0, len(POWERS_W) - 1)),
)


@settings(max_examples=60, deadline=None)
@given(
    ops=st.lists(st.one_of(op, *[st.tuples(st.just("set"), st.sampled_from([0.0, 1.0, 2.5]),
                                           st.integers(0, len(LOADS) - 1), st.integers(1, len(POWERS_W) - 1))] * 6),
                 min_size=1, max_size=250),
    facility_kind=st.sampled_from(["fixed_pue", "plant"]),
    bin_s=st.sampled_from([10.0, 60.0, 3600.0]),
    refresh_every=st.sampled_from([3, 50, 4096]),
)
def test_logged_changes_replay_to_the_same_bits_as_changes_made_one_by_one(ops, facility_kind, bin_s,
                                                                            refresh_every):
    with pytest.MonkeyPatch.context() as monkeypatch:
        direct = run(ops, facility_kind, "direct", bin_s, refresh_every, monkeypatch)
        python = run(ops, facility_kind, "python", bin_s, refresh_every, monkeypatch)
        compiled = run(ops, facility_kind, "compiled", bin_s, refresh_every, monkeypatch)
    assert python == direct
    assert compiled == direct


@pytest.mark.parametrize("facility_kind", ["fixed_pue", "plant"])
@pytest.mark.parametrize("signals", [False, True])
def test_a_long_log_of_changes_is_replayed_by_the_compiled_loops(facility_kind, signals, monkeypatch):
    """Thousands of changes between two bin edges go to meter_kernel (not to the Python replay), chunked where the
    sums are refreshed, and land on the same bits; with every third a signal's change, too."""
    ops = [("signal", 0.25, i, i % 5) if signals and i % 3 == 2 else
           ("set", 0.25, i % len(LOADS), 1 + (i * 7) % (len(POWERS_W) - 1)) for i in range(9000)]
    direct = run(ops, facility_kind, "direct", 3600.0, 4096, monkeypatch)
    calls = []
    original = Meter._replay_chunk

    def counted(self, *args):
        replayed = original(self, *args)
        calls.append(replayed)
        return replayed

    monkeypatch.setattr(Meter, "_replay_chunk", counted)
    monkeypatch.setattr(meter_module, "_COMPILED_MIN_CHANGES", 64)
    compiled = run(ops, facility_kind, "compiled", 3600.0, 4096, monkeypatch)
    assert compiled == direct
    # every change but the first (it ends a stretch with no IT load: Python's) replayed by the kernel, in chunks:
    # 9,000 (or 6,000) load changes refresh the sums twice (once)
    assert None not in calls
    assert sum(done for done, _ in calls) == 8999
    assert len(calls) >= (2 if signals else 3)


def test_a_stretch_with_no_it_load_is_replayed_in_python(monkeypatch):
    """Overhead with no IT load goes to UNATTRIBUTED, which only the Python meter books: the kernel hands the log
    back, and the result is still exact."""
    ops = [("set", 1.0, 0, 3), ("set", 1.0, 0, 0)] * 100
    direct = run(ops, "fixed_pue", "direct", 3600.0, 4096, monkeypatch)
    compiled = run(ops, "fixed_pue", "compiled", 3600.0, 4096, monkeypatch)
    assert compiled == direct
    assert "unattributed" not in direct[1]   # fixed_pue draws nothing at zero IT load


def test_the_meter_clock_moves_with_a_logged_change_and_readers_see_it():
    meter = Meter(3600.0, FixedPue(1.5), lambda b: None, 200.0)
    load = meter.load("gpu", "job")
    load.set_power_w(10.0, 1000.0)
    load.set_power_w(30.0, 3000.0)
    assert meter.now_s == 30.0
    assert len(meter._pending) == 6           # logged, not yet integrated
    assert load.profile.power_w == 3000.0     # a reader replays the log first
    assert meter._pending == []
    totals = meter.owner_total("job")
    assert totals.channel_energy_j[0] == 1000.0 * 20.0
    assert totals.facility_energy_j == pytest.approx(1.5 * 20_000.0)
    assert totals.carbon_g == pytest.approx(1.5 * 20_000.0 / 3.6e6 * 200.0)
    with pytest.raises(ValueError, match="back in time"):
        load.set_power_w(20.0, 1.0)
    assert math.isclose(meter.it_power_w, 3000.0)


class LinearCooling:
    """A facility model of a user's own, with `draw` only (no `draw_table`): its logs are replayed in Python."""

    part_names = ()

    def draw(self, it_power_w, weather=None):
        from sim.engine.meter import FacilityDraw

        return FacilityDraw(cooling_w=0.1 * it_power_w + 500.0, power_loss_w=0.02 * it_power_w)


def test_a_facility_model_without_draw_table_gets_the_python_replay(monkeypatch):
    def run_with(defer: bool):
        monkeypatch.setattr(meter_module, "DEFER_CHANGES", defer)
        bins = []
        meter = Meter(60.0, LinearCooling(), bins.append, 250.0)
        loads = [meter.load(channel, owner) for channel, owner in LOADS]
        for i in range(2000):
            loads[i % len(loads)].set_power_w(0.5 * i, POWERS_W[1 + i % (len(POWERS_W) - 1)])
        meter.finish(1001.0)
        return [record(b) for b in bins], {name: totals(t) for name, t in meter.owner_totals().items()}

    assert run_with(True) == run_with(False)


@settings(max_examples=40, deadline=None)
@given(ops=st.lists(op, min_size=1, max_size=150), mode=st.sampled_from(["direct", "python", "compiled"]))
# an owner that stops drawing inside a compiled replay (no longer active when the hour closes)
@example(ops=[("set", 1.0, 0, 3), ("set", 1.0, 1, 3), ("set", 1.0, 0, 0), ("read", 1.0, 0, 0)], mode="compiled")
def test_changed_owner_totals_names_every_owner_whose_totals_changed(ops, mode):
    """Hourly matching asks only for the owners whose totals changed since it last asked: none may be missed."""
    seen = {}

    def check(meter, _owner):
        changed = meter.changed_owner_totals()
        now = {name: totals(t) for name, t in meter.owner_totals().items()}
        if seen:   # (the first reading, at 0 s, is the baseline)
            assert {name for name in now if now[name] != seen.get(name)} <= set(changed)
        assert all(totals(t) == now[name] for name, t in changed.items())
        seen.clear()
        seen.update(now)
        return len(changed)

    with pytest.MonkeyPatch.context() as monkeypatch:
        run([("read", 0.0, 0, 0), *ops], "fixed_pue", mode, 30.0, 4096, monkeypatch, read=check)
