"""What the cooling plant must show, through the engine, with the real weather files: the shipped climate scenarios
(scenarios/climate/) run for a year on the NREL TMY3 EPW files of ../shared/data.

The cluster trains all year at about 94 % of the plant's design IT power (125 DGX H100 at the training activity,
0.94 MW, in a plant designed for 1.0 MW); here the job has no exposed communication (a constant load, so that the
twelve year-long runs stay fast) and the output is daily. Bad weather files end the CLI with exit code 2, a line
naming the file and line, and nothing written.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from helpers import SCENARIOS, run_cli
from sim.config import load_scenario
from sim.engine.simulation import Simulation
from sim.errors import DataFileError
from sim.runner import run_to_directory

EPW = {
    "hot_dry": "USA_AZ_Phoenix-Sky.Harbor.Intl.AP.722780_TMY3.epw",
    "temperate": "USA_VA_Sterling-Washington.Dulles.Intl.AP.724030_TMY3.epw",
    "cold": "USA_MN_Minneapolis-St.Paul.Intl.AP.726580_TMY3.epw",
}
# plant -> (scenario file pattern, preset override or None)
PLANTS = {
    "hyperscale_air": ("{climate}-air.toml", None),
    "liquid_dtc": ("{climate}-liquid.toml", None),
    "legacy_air": ("temperate-legacy.toml", None),
    "dry_cooled": ("{climate}-air.toml", "dry_cooled"),
}
REL = 1e-9


@pytest.fixture(scope="module")
def year(shared_data_module):
    """(climate, plant) -> (summary, daily time series) of a year-long engine run on the real EPW file."""

    @functools.cache
    def run(climate: str, plant: str):
        pattern, preset = PLANTS[plant]
        overrides = [f"weather.file='{shared_data_module / EPW[climate]}'", "jobs.0.exposed_communication_fraction=0",
                     "output.interval='1d'"]
        if preset is not None:
            overrides.append(f"facility.preset='{preset}'")
        scenario = load_scenario(SCENARIOS / "climate" / pattern.format(climate=climate), overrides)
        result = Simulation(scenario).run()
        return result.summary, result.timeseries.to_pandas()

    return run


@pytest.fixture(scope="module")
def shared_data_module():
    from conftest import shared_data_path

    path = shared_data_path()
    if not path.is_dir():
        pytest.skip(f"real data not found at {path} (set SIM_SHARED_DATA to the shared/data folder)")
    return path


def pue(year, climate, plant) -> float:
    return year(climate, plant)[0]["pue"]


def test_the_runs_are_a_year_of_hourly_weather_at_near_design_load(year):
    summary, ts = year("temperate", "hyperscale_air")
    assert summary["simulated_s"] == 365 * 86400 and len(ts) == 365
    assert summary["weather"]["steps"] == 8760
    assert summary["weather"]["source"] == f"EPW typical year {EPW['temperate']}"
    it_mean_w = summary["it_energy_kwh"] * 3.6e6 / summary["simulated_s"]
    assert 0.9 < it_mean_w / summary["facility"]["design_it_power_w"] < 1.0


def test_every_row_balances_all_year(year):
    for climate in EPW:
        for plant in PLANTS:
            summary, ts = year(climate, plant)
            parts = [f"cooling_{p}_kwh" for p in summary["cooling_parts_energy_kwh"]]
            np.testing.assert_allclose(ts.facility_kwh, ts.it_kwh + ts.cooling_kwh + ts.power_loss_kwh + ts.misc_kwh,
                                       rtol=REL)
            np.testing.assert_allclose(ts.cooling_kwh, ts[parts].sum(axis=1), rtol=REL)
            assert (ts.pue >= 1.0).all() and (ts.water_l >= 0.0).all()


def test_hyperscale_air_pue_in_temperate_and_cold_and_higher_when_hot_and_dry(year):
    for climate in ("temperate", "cold"):
        assert 1.08 <= pue(year, climate, "hyperscale_air") <= 1.25, climate
    assert pue(year, "hot_dry", "hyperscale_air") > pue(year, "temperate", "hyperscale_air") \
        > pue(year, "cold", "hyperscale_air")


def test_legacy_plant_pue(year):
    for climate in EPW:
        assert 1.4 <= pue(year, climate, "legacy_air") <= 1.8, climate


def test_liquid_cooling_beats_air_cooling_in_every_climate(year):
    for climate in EPW:
        for air in ("hyperscale_air", "dry_cooled", "legacy_air"):
            assert pue(year, climate, "liquid_dtc") < pue(year, climate, air), (climate, air)


def test_on_site_water(year):
    # shared/REFERENCE.md: large operators report an on-site WUE of about 0.18-0.55 L/kWh.
    temperate = year("temperate", "hyperscale_air")[0]["wue_l_per_kwh"]
    assert 0.18 <= temperate <= 0.55
    assert year("hot_dry", "hyperscale_air")[0]["wue_l_per_kwh"] > temperate
    for climate in EPW:
        for dry in ("dry_cooled", "liquid_dtc", "legacy_air"):
            summary, ts = year(climate, dry)
            assert summary["water_l"] == 0.0 and (ts.water_l == 0.0).all(), (climate, dry)


# ---------------------------------------------------------------------------------------------------------
# Bad weather files: one line naming the file and line, exit code 2, nothing written
# ---------------------------------------------------------------------------------------------------------


def _epw_wrong_length(source: str) -> str:
    return "\n".join(source.splitlines()[:-1]) + "\n"           # 8759 records


def _epw_non_numeric(source: str) -> str:
    lines = source.splitlines()
    fields = lines[100].split(",")
    fields[6] = "warm"                                           # dry bulb of the record on line 101
    lines[100] = ",".join(fields)
    return "\n".join(lines) + "\n"


BAD_FILES = [
    ("bad.csv", lambda _: "timestamp,dry_bulb_c\n2023-01-01T00:00Z,5\n",
     "bad.csv:1: missing column(s) relative_humidity_pct"),
    ("short.epw", _epw_wrong_length, "short.epw:8767: expected 8760 hourly records"),
    ("words.epw", _epw_non_numeric, "words.epw:101: dry bulb [C] (field 7): 'warm' is not a number"),
]


def test_a_bad_weather_file_stops_the_cli_with_its_file_and_line_and_nothing_is_written(tmp_path, shared_data_module):
    name, make, expected = BAD_FILES[2]
    (tmp_path / name).write_text(make((shared_data_module / EPW["temperate"]).read_text()))
    out = tmp_path / "run"
    result = run_cli(str(SCENARIOS / "climate" / "temperate-air.toml"), "--out", str(out),
                     "--set", f"weather.file='{tmp_path / name}'", "--set", "scenario.duration='1d'")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"error: {tmp_path / expected}"
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == [name]


@pytest.mark.parametrize("name, make, expected", BAD_FILES[:2], ids=[case[0] for case in BAD_FILES[:2]])
def test_bad_weather_files_name_the_file_and_line(tmp_path, shared_data_module, name, make, expected):
    (tmp_path / name).write_text(make((shared_data_module / EPW["temperate"]).read_text()))
    scenario = load_scenario(SCENARIOS / "climate" / "temperate-air.toml",
                             [f"weather.file='{tmp_path / name}'", "scenario.duration='1d'"])
    out = tmp_path / "run"
    with pytest.raises(DataFileError) as info:
        run_to_directory(scenario, out)
    assert str(info.value).startswith(str(tmp_path / expected))
    assert info.value.line is not None
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == [name]
