"""The cooling plant in the engine: the FacilityModel adapter, the [facility]/[weather] tables, the weather signal,
and the energy balance of every output row."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import SCENARIOS, read_run, run_cli
from sim.config.loader import validate_scenario
from sim.engine.simulation import Simulation
from sim.errors import ScenarioError
from sim.facility.plant import ALL_PARTS, PlantFacility, WeatherSpanError, build_plant, installed_parts
from sim.physics import cooling as C
from sim.timeseries.weather import climate_weather
from sim.units import J_PER_KWH, S_PER_H

UTC = timezone.utc
DESIGN_W = 1.0e6
REL = 1e-9

VARIANTS = [(preset, cooling, rejection) for preset in sorted(C.PRESETS) for cooling in ("air", "liquid")
            for rejection in ("towers", "dry")]


def variant_spec(preset: str, cooling: str, rejection: str) -> C.CoolingPlantSpec:
    return C.with_heat_rejection(C.with_cooling(C.preset(preset, DESIGN_W), cooling), rejection)


_FACILITIES: dict = {}


def facility(variant) -> PlantFacility:
    if variant not in _FACILITIES:
        _FACILITIES[variant] = PlantFacility(variant_spec(*variant))
    return _FACILITIES[variant]


def pue(f: PlantFacility, it_w: float, dry_bulb_c: float, wet_bulb_c: float) -> float:
    d = f.draw(it_w, f.steps_for(dry_bulb_c, wet_bulb_c)[0])
    return (it_w + d.cooling_w + d.power_loss_w + d.misc_w) / it_w


# ---------------------------------------------------------------------------------------------------------
# The adapter: same physics as sim.physics.cooling.facility_power, fast
# ---------------------------------------------------------------------------------------------------------

variants = st.sampled_from(VARIANTS)
it_fractions = st.floats(0.0, 1.3)
dry_bulbs = st.floats(-40.0, 50.0)
depressions = st.floats(0.0, 30.0)  # dry bulb - wet bulb [K]


@settings(max_examples=200, deadline=None)
@given(variant=variants, it_fraction=it_fractions, dry_bulb_c=dry_bulbs, depression_k=depressions)
def test_fast_scalar_path_equals_the_reference_plant(variant, it_fraction, dry_bulb_c, depression_k):
    spec = variant_spec(*variant)
    it_w, wet_bulb_c = it_fraction * DESIGN_W, dry_bulb_c - depression_k
    reference = C.facility_power(spec, it_w, dry_bulb_c, wet_bulb_c)
    plant = C.ScalarPlant(spec)
    fast = plant.power(it_w, plant.weather_terms([dry_bulb_c], [wet_bulb_c])[0])
    for name, value in zip(C.SCALAR_POWER_FIELDS, fast):
        assert value == pytest.approx(getattr(reference, name), rel=1e-12, abs=1e-9), name
    draw = facility(variant).draw(it_w, facility(variant).steps_for(dry_bulb_c, wet_bulb_c)[0])
    assert draw.cooling_w == pytest.approx(reference.cooling_w, rel=1e-12, abs=1e-9)
    assert draw.power_loss_w == pytest.approx(reference.power_loss_w, rel=1e-12)
    assert draw.misc_w == reference.misc_w
    assert draw.water_l_per_s == pytest.approx(reference.water_l_per_s, rel=1e-12, abs=1e-15)


@settings(max_examples=150, deadline=None)
@given(variant=variants, it_fraction=it_fractions, dry_bulb_c=dry_bulbs, depression_k=depressions)
def test_cooling_is_the_sum_of_the_parts_and_nothing_is_negative(variant, it_fraction, dry_bulb_c, depression_k):
    f = facility(variant)
    it_w = it_fraction * DESIGN_W
    d = f.draw(it_w, f.steps_for(dry_bulb_c, dry_bulb_c - depression_k)[0])
    assert len(d.parts_w) == len(f.part_names)  # one power per installed part, in part_names order
    assert d.cooling_w == pytest.approx(math.fsum(d.parts_w), rel=1e-15)
    for value in (d.cooling_w, d.power_loss_w, d.misc_w, d.water_l_per_s, *d.parts_w):
        assert value >= 0.0
    if it_w > 0.0:
        assert (it_w + d.cooling_w + d.power_loss_w + d.misc_w) / it_w >= 1.0
    if f.spec.rejection.kind == "dry_cooler":
        assert d.water_l_per_s == 0.0


@settings(max_examples=150, deadline=None)
@given(variant=variants, it_fraction=st.floats(0.05, 1.3), dry_bulb_c=dry_bulbs, depression_k=depressions,
       warmer_k=st.floats(0.0, 15.0))
def test_pue_never_falls_as_the_outdoors_warms(variant, it_fraction, dry_bulb_c, depression_k, warmer_k):
    f = facility(variant)
    it_w = it_fraction * DESIGN_W
    wet_bulb_c = dry_bulb_c - depression_k
    base = pue(f, it_w, dry_bulb_c, wet_bulb_c)
    assert pue(f, it_w, dry_bulb_c + warmer_k, wet_bulb_c) >= base * (1.0 - 1e-12)            # hotter, as humid
    assert pue(f, it_w, dry_bulb_c, min(wet_bulb_c + warmer_k, dry_bulb_c)) >= base * (1.0 - 1e-12)  # more humid
    assert pue(f, it_w, dry_bulb_c + warmer_k, wet_bulb_c + warmer_k) >= base * (1.0 - 1e-12)  # both warmer


@settings(max_examples=150, deadline=None)
@given(variant=variants, it_fraction=it_fractions, more=st.floats(0.0, 0.5), dry_bulb_c=dry_bulbs,
       depression_k=depressions)
def test_cooling_power_never_falls_as_the_it_load_grows(variant, it_fraction, more, dry_bulb_c, depression_k):
    f = facility(variant)
    step = f.steps_for(dry_bulb_c, dry_bulb_c - depression_k)[0]
    low = f.draw(it_fraction * DESIGN_W, step)
    high = f.draw((it_fraction + more) * DESIGN_W, step)
    assert high.cooling_w >= low.cooling_w * (1.0 - 1e-12) - 1e-9
    assert high.power_loss_w >= low.power_loss_w
    assert high.water_l_per_s >= low.water_l_per_s * (1.0 - 1e-12)


def test_the_plant_has_the_parts_of_its_equipment():
    assert installed_parts(C.preset("hyperscale_air", DESIGN_W)) == ("chiller", "crah_fan", "pump", "tower_fan")
    assert installed_parts(C.preset("liquid_dtc", DESIGN_W)) == (
        "chiller", "crah_fan", "cdu_pump", "pump", "dry_cooler_fan")
    assert installed_parts(C.preset("legacy_air", DESIGN_W)) == ("chiller", "crah_fan", "pump", "dry_cooler_fan")
    # Equipment a plant lacks draws exactly nothing in the reference model, so leaving it out loses nothing.
    for variant in VARIANTS:
        spec = variant_spec(*variant)
        b = C.facility_power(spec, 0.9 * DESIGN_W, np.linspace(-20, 45, 30), np.linspace(-22, 28, 30))
        for part in set(ALL_PARTS) - set(installed_parts(spec)):
            assert np.all(getattr(b, f"{part}_w") == 0.0), (variant, part)
    assert C.SCALAR_POWER_FIELDS[:len(ALL_PARTS)] == tuple(f"{p}_w" for p in ALL_PARTS)


def test_the_plant_needs_the_weather():
    f = facility(("hyperscale_air", "air", "towers"))
    with pytest.raises(RuntimeError, match="needs the weather"):
        f.draw(5e5, None)


def test_cooling_and_heat_rejection_switch_the_preset():
    liquid = C.with_cooling(C.preset("hyperscale_air", DESIGN_W), "liquid")
    assert liquid.liquid == C.DIRECT_TO_CHIP_LOOP and liquid.liquid_heat_fraction == C.DIRECT_TO_CHIP_HEAT_FRACTION
    assert C.with_cooling(liquid, "air").liquid is None
    dry = C.with_heat_rejection(C.preset("hyperscale_air", DESIGN_W), "dry")
    assert dry.rejection.kind == "dry_cooler" and dry.chiller == C.AIR_COOLED_CHILLER
    towers = C.with_heat_rejection(C.preset("legacy_air", DESIGN_W), "towers")
    assert towers.rejection.kind == "cooling_tower" and towers.chiller == C.WATER_COOLED_CHILLER
    # Unchanged when already of that kind.
    assert C.with_cooling(C.preset("liquid_dtc", DESIGN_W), "liquid") == C.preset("liquid_dtc", DESIGN_W)
    assert C.with_heat_rejection(C.preset("dry_cooled", DESIGN_W), "dry") == C.preset("dry_cooled", DESIGN_W)


def test_overrides_replace_any_parameter_by_its_path():
    base = C.preset("hyperscale_air", DESIGN_W)
    spec = C.with_overrides(base, {"air": {"supply_air_c": 27.0}, "chiller": {"reference_cop": 6.0},
                                   "power": {"ups": {"no_load_fraction": 0.01}}, "chiller_sizing_factor": 1.5})
    assert spec.air.supply_air_c == 27.0 and spec.air.return_air_c == base.air.return_air_c
    assert spec.chiller.reference_cop == 6.0
    assert spec.power.ups.no_load_fraction == 0.01
    assert spec.chiller_sizing_factor == 1.5
    with pytest.raises(ValueError, match="air.supply_air_k: unknown plant parameter"):
        C.with_overrides(base, {"air": {"supply_air_k": 27.0}})
    with pytest.raises(ValueError, match="return temperatures must exceed supply"):
        C.with_overrides(base, {"air": {"supply_air_c": 40.0}})


# ---------------------------------------------------------------------------------------------------------
# [facility] and [weather]
# ---------------------------------------------------------------------------------------------------------


def scenario(facility: dict | None = None, weather: dict | None = None, jobs: list | None = None,
             base_dir=None, **scenario_keys):
    data = {
        "scenario": {"start": datetime(2023, 7, 1, tzinfo=UTC), **scenario_keys},
        "cluster": {"node": "dgx-h100", "nodes": 4},
        "facility": {"model": "plant", "design_it_power_w": 40e3} if facility is None else facility,
        "output": {"interval": "15min"},
        "jobs": jobs if jobs is not None else [],
    }
    if weather is not None:
        data["weather"] = weather
    return validate_scenario(data, "test.toml", base_dir)


def job(name: str, gpus: int, hours: float, submit_at_s: float = 0.0) -> dict:
    """A constant-power training job (no exposed communication) of `hours` on `gpus` H100s."""
    iteration_s = 6 * 1e9 * 1e6 / (gpus * 0.4 * 989e12)
    return {"name": name, "gpus": gpus, "parameters": 1e9, "tokens": round(hours * S_PER_H / iteration_s) * 1e6,
            "batch_tokens": 1e6, "mfu": 0.4, "submit_at": submit_at_s}


def test_design_power_defaults_to_the_cluster_nameplate():
    sc = scenario(facility={"model": "plant"}, duration="1h")
    assert build_plant(sc).spec.design_it_power_w == 4 * 10_200.0  # 4 DGX H100 at their 10.2 kW rating


def test_plant_keys_are_validated_with_their_toml_path():
    def errors(facility=None, weather=None):
        with pytest.raises(ScenarioError) as info:
            scenario(facility=facility, weather=weather, duration="1h")
        return "\n".join(info.value.messages)

    assert "test.toml: facility.plant.air.supply_air_k: unknown key; expected one of: supply_air_c" in errors(
        {"model": "plant", "plant": {"air": {"supply_air_k": 20}}})
    assert "facility.plant.air.fan_efficiency = 1.5: expected less than or equal to 1" in errors(
        {"model": "plant", "plant": {"air": {"fan_efficiency": 1.5}}})
    assert "facility.preset = 'immersion': expected" in errors({"model": "plant", "preset": "immersion"})
    assert "facility.plant.liquid: this plant has no liquid" in errors(
        {"model": "plant", "plant": {"liquid": {"supply_c": 35}}})
    assert "facility.plant: return temperatures must exceed supply temperatures" in errors(
        {"model": "plant", "plant": {"air": {"supply_air_c": 40}}})
    assert "preset: only for model = 'plant'" in errors({"model": "fixed_pue", "preset": "legacy_air"})
    assert "pue: only for model = 'fixed_pue'" in errors({"model": "plant", "pue": 1.3})
    assert "weather.climate = 'tropical': expected 'cold', 'hot_dry', 'mild_coastal' or 'temperate'" in errors(
        weather={"climate": "tropical"})
    assert "weather.file = 'nowhere.epw': file not found" in errors(weather={"file": "nowhere.epw"})
    assert "weather.file = " in errors(weather={"file": __file__}) and "expected an EnergyPlus .epw, a .csv or an " \
        "Open-Meteo .json file, got 'test_facility_plant.py'" in errors(weather={"file": __file__})


def test_a_liquid_override_applies_once_the_plant_has_a_liquid_loop():
    sc = scenario(facility={"model": "plant", "cooling": "liquid", "plant": {"liquid": {"supply_c": 35.0}}},
                  duration="1h")
    assert build_plant(sc).spec.liquid.supply_c == 35.0


# ---------------------------------------------------------------------------------------------------------
# Through the engine
# ---------------------------------------------------------------------------------------------------------


def run(sc):
    result = Simulation(sc).run()
    return result.summary, result.timeseries.to_pandas()


@pytest.fixture(scope="module")
def plant_run():
    """Three days in July, temperate climate: one job all along, a second one for 10 h starting at 05:10, so the IT
    heat changes in the middle of a weather hour; 15-min rows."""
    sc = scenario(weather={"climate": "temperate"}, duration="3d",
                  jobs=[job("a", 16, 100.0), job("b", 8, 10.0, submit_at_s=5 * S_PER_H + 600)])
    return sc, *run(sc)


def test_every_row_balances(plant_run):
    sc, summary, ts = plant_run
    parts = [f"cooling_{p}_kwh" for p in ("chiller", "crah_fan", "pump", "tower_fan")]
    assert set(parts) <= set(ts.columns)
    assert not {"cooling_cdu_pump_kwh", "cooling_dry_cooler_fan_kwh"} & set(ts.columns)
    np.testing.assert_allclose(ts.facility_kwh, ts.it_kwh + ts.cooling_kwh + ts.power_loss_kwh + ts.misc_kwh,
                               rtol=REL)
    np.testing.assert_allclose(ts.cooling_kwh, ts[parts].sum(axis=1), rtol=REL)
    np.testing.assert_allclose(ts.pue, ts.facility_kwh / ts.it_kwh, rtol=REL)
    assert (ts.pue >= 1.0).all() and (ts.water_l >= 0.0).all() and (ts[parts] >= 0.0).all().all()
    assert (ts.misc_kwh > 0.0).all() and (ts.power_loss_kwh > 0.0).all()


def test_summary_totals_pue_wue_and_the_split_by_equipment(plant_run):
    _, s, ts = plant_run
    assert s["pue"] == pytest.approx(ts.facility_kwh.sum() / ts.it_kwh.sum(), rel=REL)
    assert s["water_l"] == pytest.approx(ts.water_l.sum(), rel=REL)
    assert s["wue_l_per_kwh"] == pytest.approx(s["water_l"] / s["it_energy_kwh"], rel=REL)
    assert s["water_l"] > 0.0  # cooling towers in July
    assert set(s["cooling_parts_energy_kwh"]) == {"chiller", "crah_fan", "pump", "tower_fan"}
    for part, kwh in s["cooling_parts_energy_kwh"].items():
        assert kwh == pytest.approx(ts[f"cooling_{part}_kwh"].sum(), rel=REL)
    assert math.fsum(s["cooling_parts_energy_kwh"].values()) == pytest.approx(s["cooling_energy_kwh"], rel=REL)
    assert s["facility"]["model"] == "plant" and s["facility"]["preset"] == "hyperscale_air"
    assert s["weather"]["source"].startswith("built-in climate 'temperate'")
    assert s["weather"]["steps"] == 72  # one per hour of the three days


def test_the_weather_is_a_signal_stepped_every_hour(plant_run):
    sc, _, ts = plant_run
    weather = climate_weather("temperate", sc.scenario.start, sc.scenario.start + timedelta(days=3))
    hourly_db = np.repeat(weather.dry_bulb_c.values, 4)  # four 15-min rows per weather hour
    hourly_wb = np.repeat(weather.wet_bulb_c.values, 4)
    np.testing.assert_allclose(ts.ambient_c, hourly_db, rtol=1e-12)
    np.testing.assert_allclose(ts.wet_bulb_c, hourly_wb, rtol=1e-12)
    assert (ts.wet_bulb_c <= ts.ambient_c).all()


def test_the_plant_follows_the_it_heat_and_the_weather_row_by_row(plant_run):
    sc, _, ts = plant_run
    f = build_plant(sc)
    weather = climate_weather("temperate", sc.scenario.start, sc.scenario.start + timedelta(days=3))
    steps = f.weather_steps(weather)
    hour = (np.arange(len(ts)) // 4)
    interval_s = ts.interval_s.to_numpy()
    checked = 0
    for i in range(len(ts)):
        it_w = ts.it_kwh[i] * J_PER_KWH / interval_s[i]
        start_s = i * 900.0
        # Rows with one IT power throughout (job b starts at 05:10 and ends at 15:10: rows 20 and 60 are mixed).
        if i in (20, 60):
            continue
        d = f.draw(it_w, steps[hour[i]])
        assert ts.cooling_kwh[i] == pytest.approx(d.cooling_w * interval_s[i] / J_PER_KWH, rel=1e-9), start_s
        assert ts.water_l[i] == pytest.approx(d.water_l_per_s * interval_s[i], rel=1e-9)
        checked += 1
    assert checked == len(ts) - 2
    # Within hour 5 (same weather), the second job's heat raises the cooling power.
    before, after = ts.cooling_kwh[20 - 1], ts.cooling_kwh[20 + 1]
    assert ts.it_kwh[21] > ts.it_kwh[19] and after > before


def test_fixed_pue_with_weather_fills_the_weather_columns_and_keeps_its_pue():
    sc = scenario(facility={"model": "fixed_pue", "pue": 1.3}, weather={"climate": "cold"}, duration="1d",
                  jobs=[job("a", 8, 30.0)])
    summary, ts = run(sc)
    np.testing.assert_allclose(ts.pue, 1.3, rtol=REL)
    assert ts.ambient_c.notna().all() and ts.wet_bulb_c.notna().all()
    assert summary["weather"]["steps"] == 24 and summary["facility"]["model"] == "fixed_pue"
    summary, ts = run(scenario(facility={"model": "fixed_pue", "pue": 1.3}, duration="1d", jobs=[job("a", 8, 30.0)]))
    assert ts.ambient_c.isna().all() and ts.wet_bulb_c.isna().all() and summary["weather"] is None


def test_a_plant_without_weather_gets_the_default_climate():
    summary, ts = run(scenario(duration="2h", jobs=[job("a", 8, 30.0)]))
    assert summary["weather"]["source"].startswith("built-in climate 'temperate'")
    assert ts.ambient_c.notna().all()


def test_plant_runs_are_reproducible():
    sc = scenario(weather={"climate": "hot_dry"}, duration="1d", jobs=[job("a", 16, 30.0)])
    _, first = run(sc)
    _, second = run(sc)
    assert first.equals(second)


@settings(max_examples=60, deadline=None)
@given(variant=variants, seed=st.integers(0, 2**32 - 1))
def test_the_plants_numpy_twin_gives_its_scalar_draws_bit_for_bit(variant, seed):
    f = facility(variant)
    rng = np.random.default_rng(seed)
    dry_bulb_c = rng.uniform(-40.0, 50.0, 64)
    steps = f.steps_for(dry_bulb_c, dry_bulb_c - rng.uniform(0.0, 30.0, 64))
    it_w = (rng.uniform(0.0, 1.3, 64) * DESIGN_W).tolist()
    it_w[0] = 0.0
    assert f.draws(it_w, steps) == [tuple(f.draw(h, terms)) for h, terms in zip(it_w, steps)]


@pytest.mark.parametrize("interval, exposed_fraction, grid", [
    ("15min", 0.0, None), ("15min", 0.1, None), ("1h", 0.1, None), ("2h", 0.1, None),
    ("15min", 0.0, {"region": "us-virginia"}), ("1h", 0.1, {"region": "us-virginia"}),
])
def test_a_long_crossing_evaluated_at_once_gives_the_rows_of_one_draw_per_step(monkeypatch, interval,
                                                                                exposed_fraction, grid):
    """Hours without an event are crossed in one go, with the plant's draws for all of them in one numpy call
    (`Meter._plan_draws`): the rows are those of evaluating the plant at each weather step, to the last bit,
    for constant and periodic loads, bins shorter than, equal to and longer than the weather's hour, and an
    hourly carbon intensity (whose steps the meter applies itself, and which cut a periodic load's stretches)."""
    from sim.engine import meter as meter_module

    data = {
        "scenario": {"start": datetime(2023, 7, 1, 0, 20, tzinfo=UTC), "duration": "3d"},
        "cluster": {"node": "dgx-h100", "nodes": 4},
        "facility": {"model": "plant", "design_it_power_w": 40e3},
        "weather": {"climate": "hot_dry"},
        "output": {"interval": interval},
        "jobs": [{**job("a", 16, 40.0), "exposed_communication_fraction": exposed_fraction}],
    }
    if grid is not None:
        data["grid"] = grid
    sc = validate_scenario(data, "test.toml", None)
    calls = []
    draws = PlantFacility.draws
    monkeypatch.setattr(PlantFacility, "draws", lambda self, it_w, steps: calls.append(len(steps)) or draws(self, it_w, steps))
    planned_summary, planned = run(sc)
    assert calls and max(calls) >= 24  # the plan did the work
    monkeypatch.setattr(meter_module, "_PLAN_MAX_STRETCHES", 20)
    calls.clear()
    _, chunked = run(sc)
    assert max(calls) == 20  # a long crossing planned in chunks
    if interval == "15min":
        assert len(calls) >= 3
    assert chunked.equals(planned)
    monkeypatch.setattr(meter_module, "_PLAN_MIN_STRETCHES", 10**9)
    calls.clear()
    stepwise_summary, stepwise = run(sc)
    assert not calls
    assert planned.equals(stepwise)
    assert planned_summary["pue"] == stepwise_summary["pue"]


def test_weather_blocks_kept_for_the_next_run_give_the_same_rows_and_follow_the_plant():
    from sim.facility import plant as P

    hot_air = scenario(weather={"climate": "hot_dry"}, duration="1d", jobs=[job("a", 16, 30.0)])
    hot_liquid = scenario(facility={"model": "plant", "design_it_power_w": 40e3, "cooling": "liquid"},
                          weather={"climate": "hot_dry"}, duration="1d", jobs=[job("a", 16, 30.0)])
    P._BLOCKS.clear()
    _, computed = run(hot_air)
    assert len(P._BLOCKS) == 1
    _, reused = run(hot_air)        # the block of the first run, from the cache
    assert len(P._BLOCKS) == 1
    assert reused.equals(computed)
    _, liquid = run(hot_liquid)     # another plant: its own weather terms, not the air plant's
    assert len(P._BLOCKS) == 2
    P._BLOCKS.clear()
    _, liquid_fresh = run(hot_liquid)
    assert liquid.equals(liquid_fresh)
    assert not liquid.cooling_kwh.equals(computed.cooling_kwh)


# ---------------------------------------------------------------------------------------------------------
# Weather files through the engine
# ---------------------------------------------------------------------------------------------------------


def write_csv(path, hours: int, start=datetime(2023, 7, 1, tzinfo=UTC)):
    rows = ["timestamp,dry_bulb_c,relative_humidity_pct"]
    for h in range(hours):
        rows.append(f"{(start + timedelta(hours=h)).isoformat()},{20 + h % 10},{50 + h % 7}")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_csv_weather_steps_through_the_engine(tmp_path):
    write_csv(tmp_path / "w.csv", 48)
    summary, ts = run(scenario(weather={"file": "w.csv"}, duration="1d", base_dir=tmp_path, jobs=[job("a", 8, 30.0)]))
    np.testing.assert_allclose(ts.ambient_c, np.repeat([20 + h % 10 for h in range(24)], 4))
    assert summary["weather"]["source"] == "CSV w.csv"


def test_a_weather_file_shorter_than_the_run_is_refused(tmp_path):
    write_csv(tmp_path / "w.csv", 12)
    with pytest.raises(WeatherSpanError, match=r"w.csv: the weather ends at 2023-07-01 12:00 UTC, before the run does"):
        Simulation(scenario(weather={"file": "w.csv"}, duration="1d", base_dir=tmp_path))
    # Without a duration the run's end is not known in advance: refused when the run reaches the file's end.
    sim = Simulation(scenario(weather={"file": "w.csv"}, base_dir=tmp_path, jobs=[job("a", 8, 30.0)]))
    with pytest.raises(WeatherSpanError, match="before the run does"):
        sim.run()
    with pytest.raises(WeatherSpanError, match="the run starts at 2023-06-30 00:00"):
        Simulation(scenario(weather={"file": "w.csv"}, base_dir=tmp_path, duration="1h",
                            start=datetime(2023, 6, 30, tzinfo=UTC)))


def test_open_meteo_json_through_the_engine(shared_data):
    path = shared_data / "openmeteo_US-CAL-CISO_SanJose_2023.json"
    summary, ts = run(scenario(weather={"file": str(path)}, duration="2d", jobs=[job("a", 16, 60.0)]))
    assert ts.ambient_c.between(0.2, 36.5).all()  # the file's range (shared/data/README.md)
    assert summary["weather"]["source"].startswith("Open-Meteo JSON")


def test_a_run_without_a_duration_gets_a_weather_step_every_hour_until_its_jobs_end():
    # No duration: the weather is produced in blocks that double from a day; the run ends with its job, at 30.5 h.
    summary, ts = run(scenario(jobs=[job("a", 8, 30.5)]))
    assert summary["simulated_s"] == pytest.approx(30.5 * S_PER_H, abs=1.0)  # a whole number of iterations
    assert summary["weather"]["steps"] == 31
    weather = climate_weather("temperate", datetime(2023, 7, 1, tzinfo=UTC), datetime(2023, 7, 2, 7, tzinfo=UTC))
    np.testing.assert_allclose(ts.ambient_c[::4].to_numpy(), weather.dry_bulb_c.values, rtol=1e-12)


def test_the_cli_runs_a_climate_scenario_and_writes_the_plant_columns(tmp_path):
    out = tmp_path / "run"
    result = run_cli(str(SCENARIOS / "climate" / "cold-liquid.toml"), "--out", str(out),
                     "--set", "scenario.duration='3h'")
    assert result.returncode == 0, result.stderr
    assert "cooling plant  liquid_dtc (liquid-cooled, dry coolers), design 1 MW IT" in result.stdout
    assert "weather        built-in climate 'cold', 3 steps" in result.stdout
    summary, ts, _ = read_run(out)
    assert {"wet_bulb_c", "cooling_cdu_pump_kwh", "cooling_dry_cooler_fan_kwh"} <= set(ts.columns)
    assert summary["wue_l_per_kwh"] == 0.0 and summary["facility"]["cooling"] == "liquid"
