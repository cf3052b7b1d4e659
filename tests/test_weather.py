"""Weather input: EPW typical years mapped onto UTC windows, CSV, Open-Meteo JSON, built-in climates, bad files."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from sim.errors import DataFileError, SimInputError
from sim.physics import psychrometrics as psy
from sim.timeseries import weather as W
from sim.timeseries.series import to_epoch_s
from sim.units import S_PER_H, S_PER_MIN

PHOENIX = "USA_AZ_Phoenix-Sky.Harbor.Intl.AP.722780_TMY3.epw"
STERLING = "USA_VA_Sterling-Washington.Dulles.Intl.AP.724030_TMY3.epw"
MINNEAPOLIS = "USA_MN_Minneapolis-St.Paul.Intl.AP.726580_TMY3.epw"
SAN_JOSE = "openmeteo_US-CAL-CISO_SanJose_2023.json"
FRANKFURT = "openmeteo_DE_Frankfurt_2023.json"

UTC = timezone.utc
YEAR_2023 = (datetime(2023, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC))


@lru_cache(maxsize=None)
def _typical_year(path: str) -> W.TypicalYear:
    return W.read_epw(path)


def _raw_epw_records(path: Path) -> list[list[str]]:
    """The data records of an EPW as split text, read independently of the module under test."""
    return [line.split(",") for line in path.read_text().splitlines()[8:]]


# ---------------------------------------------------------------------------------------------------------
# EPW typical years
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, mean_dry_bulb_c, mean_rh_pct, utc_offset_h, elevation_m",
    # Summary statistics of ../shared/data/README.md; LOCATION lines of the files.
    [(PHOENIX, 23.8, 34.0, -7.0, 337.0), (STERLING, 12.7, 69.0, -5.0, 82.0), (MINNEAPOLIS, 7.7, 66.0, -6.0, 254.0)],
)
def test_epw_annual_means_match_the_data_readme(shared_data, name, mean_dry_bulb_c, mean_rh_pct, utc_offset_h,
                                                 elevation_m):
    year = _typical_year(str(shared_data / name))
    assert (year.utc_offset_h, year.elevation_m) == (utc_offset_h, elevation_m)
    weather = W.typical_year_weather(year, *YEAR_2023)
    assert weather.dry_bulb_c.edges_epoch_s.size == 8760
    # A calendar year in UTC covers every record of the typical year exactly once.
    assert weather.dry_bulb_c.mean() == pytest.approx(mean_dry_bulb_c, abs=0.05)
    assert weather.relative_humidity_pct.mean() == pytest.approx(mean_rh_pct, abs=0.5)
    assert np.all(weather.wet_bulb_c.values <= weather.dry_bulb_c.values + 1e-9)
    assert weather.dry_bulb_c.source == str(shared_data / name)


@pytest.mark.parametrize("name", [PHOENIX, STERLING, MINNEAPOLIS])
def test_epw_records_are_hour_ending_local_standard_time(shared_data, name):
    path = shared_data / name
    records = _raw_epw_records(path)
    utc_offset_h = float(path.read_text().splitlines()[0].split(",")[8])
    weather = W.typical_year_weather(_typical_year(str(path)), *YEAR_2023)
    for i in (0, 2, 4000, 8759):
        month, day, hour = (int(x) for x in records[i][1:4])
        # Record 'hour h' covers local standard time [h-1, h); UTC = local - offset.
        local_start = datetime(2023, month, day, tzinfo=UTC) + timedelta(hours=hour - 1)
        utc_start = local_start - timedelta(hours=utc_offset_h)
        if utc_start >= YEAR_2023[1]:          # Dec 31 evening local is at the start of the window (wrapped)
            utc_start -= timedelta(days=365)
        mid_s = to_epoch_s(utc_start + timedelta(minutes=30))
        assert weather.dry_bulb_c.value_at(mid_s) == float(records[i][6])
        assert weather.relative_humidity_pct.value_at(mid_s) == float(records[i][8])
        assert weather.pressure_pa.value_at(mid_s) == float(records[i][9])


def test_sterling_first_hours_in_utc(shared_data):
    # Sterling is UTC-5: 'Jan 1, hour 1' (0.0 C) covers 05:00-06:00 UTC, 'hour 3' (-0.6 C) 07:00-08:00 UTC.
    weather = W.typical_year_weather(_typical_year(str(shared_data / STERLING)), *YEAR_2023)
    at = lambda h, m: weather.dry_bulb_c.value_at(to_epoch_s(datetime(2023, 1, 1, h, m, tzinfo=UTC)))
    assert at(5, 0) == 0.0 and at(6, 59) == 0.0
    assert at(7, 0) == -0.6 and at(7, 59) == -0.6


def test_feb_29_takes_feb_28_and_years_tile(shared_data):
    year = _typical_year(str(shared_data / STERLING))
    leap = W.typical_year_weather(year, datetime(2024, 2, 28, 5, tzinfo=UTC), datetime(2024, 3, 1, 5, tzinfo=UTC))
    day = leap.dry_bulb_c.values
    assert day.size == 48
    assert np.array_equal(day[:24], day[24:])       # Feb 29 (local) repeats Feb 28
    two_years = W.typical_year_weather(year, datetime(2025, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    one_year = W.typical_year_weather(year, *YEAR_2023)
    assert two_years.dry_bulb_c.edges_epoch_s.size == 2 * 8760
    assert two_years.dry_bulb_c.mean() == pytest.approx(one_year.dry_bulb_c.mean(), abs=1e-12)
    assert np.array_equal(two_years.wet_bulb_c.values[:8760], two_years.wet_bulb_c.values[8760:])


def test_window_not_on_the_hour_starts_exactly_at_start(shared_data):
    year = _typical_year(str(shared_data / STERLING))
    start = datetime(2023, 6, 1, 0, 20, tzinfo=UTC)
    end = datetime(2023, 6, 1, 3, 10, tzinfo=UTC)
    weather = W.typical_year_weather(year, start, end)
    edges = weather.dry_bulb_c.edges_epoch_s
    assert edges[0] == to_epoch_s(start) and weather.end_epoch_s == to_epoch_s(end)
    assert list(np.diff(edges)) == [40 * S_PER_MIN, S_PER_H, S_PER_H]
    durations_s, *_ = weather.hourly_arrays()
    assert durations_s.sum() == pytest.approx(to_epoch_s(end) - to_epoch_s(start))


def test_typical_year_index_rule():
    # Local standard instants -> record index: month/day/hour, Feb 29 -> Feb 28, the year ignored.
    at = lambda *a: to_epoch_s(datetime(*a, tzinfo=UTC))
    idx = W.typical_year_index(np.array([at(2023, 1, 1, 0), at(2023, 12, 31, 23, 59), at(2024, 2, 29, 5),
                                         at(2024, 2, 28, 5), at(1999, 3, 1, 0)]))
    assert list(idx) == [0, 8759, 58 * 24 + 5, 58 * 24 + 5, 59 * 24]


# ---------------------------------------------------------------------------------------------------------
# Bad EPW files
# ---------------------------------------------------------------------------------------------------------


def _mutated_copy(shared_data: Path, tmp_path: Path, edit) -> Path:
    lines = (shared_data / STERLING).read_text().splitlines()
    edit(lines)
    out = tmp_path / "mutated.epw"
    out.write_text("\n".join(lines) + "\n")
    return out


def test_missing_epw_file_is_named(tmp_path):
    missing = tmp_path / "nowhere.epw"
    with pytest.raises(DataFileError, match="nowhere.epw"):
        W.read_epw(missing)


def test_epw_wrong_length_names_the_line(shared_data, tmp_path):
    path = _mutated_copy(shared_data, tmp_path, lambda lines: lines.pop())
    with pytest.raises(DataFileError, match=r"mutated.epw:8767: expected 8760 hourly records.*found 8759"):
        W.read_epw(path)


def test_epw_non_numeric_value_names_file_line_field_and_value(shared_data, tmp_path):
    def edit(lines):
        fields = lines[8 + 99].split(",")
        fields[6] = "warm"
        lines[8 + 99] = ",".join(fields)

    path = _mutated_copy(shared_data, tmp_path, edit)
    with pytest.raises(DataFileError, match=r"mutated.epw:108: dry bulb \[C\] \(field 7\): 'warm' is not a number"):
        W.read_epw(path)


def test_epw_missing_column_names_the_line(shared_data, tmp_path):
    def edit(lines):
        lines[8 + 10] = ",".join(lines[8 + 10].split(",")[:8])

    path = _mutated_copy(shared_data, tmp_path, edit)
    with pytest.raises(DataFileError, match=r"mutated.epw:19: record has 8 fields, expected at least 10"):
        W.read_epw(path)


def test_epw_records_out_of_order_names_the_line(shared_data, tmp_path):
    def edit(lines):
        lines[8 + 30], lines[8 + 31] = lines[8 + 31], lines[8 + 30]

    path = _mutated_copy(shared_data, tmp_path, edit)
    with pytest.raises(DataFileError, match=r"mutated.epw:39: records out of order"):
        W.read_epw(path)


def test_epw_without_location_header(shared_data, tmp_path):
    path = _mutated_copy(shared_data, tmp_path, lambda lines: lines.__setitem__(0, "NOT AN EPW"))
    with pytest.raises(DataFileError, match=r"mutated.epw:1: expected an EPW 'LOCATION"):
        W.read_epw(path)


def test_epw_missing_value_codes_are_filled_and_noted(shared_data, tmp_path):
    def edit(lines):
        fields = lines[8 + 100].split(",")
        fields[6], fields[7], fields[9] = "99.9", "99.9", "999999"
        lines[8 + 100] = ",".join(fields)

    original = W.read_epw(shared_data / STERLING)
    filled = W.read_epw(_mutated_copy(shared_data, tmp_path, edit))
    # Dry bulb interpolated between its neighbours; pressure from the standard atmosphere at 82 m;
    # humidity from the RH field (field 9, still present).
    assert filled.dry_bulb_c[100] == pytest.approx(0.5 * (original.dry_bulb_c[99] + original.dry_bulb_c[101]))
    assert filled.pressure_pa[100] == pytest.approx(psy.standard_atmosphere_pressure_pa(82.0))
    rh = float(_raw_epw_records(shared_data / STERLING)[100][8])
    assert filled.vapour_pressure_pa[100] == pytest.approx(
        rh / psy.PERCENT_PER_FRACTION * psy.saturation_vapour_pressure_pa(filled.dry_bulb_c[100]))
    notes = " ".join(filled.notes)
    assert "1 missing dry-bulb hours" in notes and "1 missing pressure hours" in notes and "humidity from RH" in notes
    assert np.array_equal(np.delete(filled.dry_bulb_c, 100), np.delete(original.dry_bulb_c, 100))


# ---------------------------------------------------------------------------------------------------------
# Open-Meteo JSON and CSV
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, mean_c, offset_s, elevation_m", [(SAN_JOSE, 14.9, -25200, 7.0),
                                                                 (FRANKFURT, 12.1, 3600, 111.0)])
def test_openmeteo_json_fixed_offset_and_standard_pressure(shared_data, name, mean_c, offset_s, elevation_m):
    path = shared_data / name
    doc = json.loads(path.read_text())
    weather = W.read_openmeteo_json(path)
    assert weather.dry_bulb_c.mean() == pytest.approx(mean_c, abs=0.05)   # README summary table
    # UTC = local time - utc_offset_seconds; the first value holds for the hour after it.
    first_utc = datetime(2023, 1, 1, tzinfo=UTC) - timedelta(seconds=offset_s)
    assert weather.start_epoch_s == to_epoch_s(first_utc)
    assert weather.dry_bulb_c.value_at(to_epoch_s(first_utc) + 0.5 * S_PER_H) == doc["hourly"]["temperature_2m"][0]
    assert np.all(weather.pressure_pa.values == psy.standard_atmosphere_pressure_pa(elevation_m))
    inside = W.load_weather(path, datetime(2023, 3, 1, tzinfo=UTC), datetime(2023, 3, 8, tzinfo=UTC))
    assert inside.dry_bulb_c.edges_epoch_s.size == 7 * 24
    with pytest.raises(SimInputError, match="not the whole window"):
        W.load_weather(path, datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC))


def test_openmeteo_bad_value_names_key_index_and_line(shared_data, tmp_path):
    doc = json.loads((shared_data / FRANKFURT).read_text())
    doc["hourly"]["temperature_2m"][5] = None
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc, indent=4))
    line = path.read_text().splitlines().index("            null,") + 1
    with pytest.raises(DataFileError, match=rf"bad.json:{line}: 'hourly.temperature_2m'\[5\] = None is not a number"):
        W.read_openmeteo_json(path)
    del doc["hourly"]["relative_humidity_2m"]
    path.write_text(json.dumps(doc))
    with pytest.raises(DataFileError, match=r"missing array 'hourly.relative_humidity_2m'"):
        W.read_openmeteo_json(path)


def test_csv_step_hold_and_standard_pressure(tmp_path):
    path = tmp_path / "site.csv"
    path.write_text("timestamp,dry_bulb_c,relative_humidity_pct\n"
                    "2024-07-01T00:00:00Z,30.0,40\n2024-07-01T01:00:00Z,28.0,50\n2024-07-01T02:00:00Z,26.0,60\n")
    weather = W.read_weather_csv(path, elevation_m=500.0)
    assert list(weather.dry_bulb_c.values) == [30.0, 28.0, 26.0]
    assert weather.end_epoch_s - weather.start_epoch_s == 3 * S_PER_H
    assert weather.pressure_pa.values[0] == pytest.approx(95461.0, abs=1.0)
    assert weather.wet_bulb_c.values[0] == pytest.approx(
        psy.wet_bulb_from_relative_humidity_c(30.0, 40.0, weather.pressure_pa.values[0]))
    assert any("no pressure column" in note for note in weather.notes)


def test_csv_with_pressure_column(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("timestamp,dry_bulb_c,relative_humidity_pct,pressure_pa\n"
                    "2024-07-01T00:00:00+00:00,20,50,100000\n2024-07-01T00:30:00+00:00,21,50,99000\n")
    weather = W.read_weather_csv(path)
    assert list(weather.pressure_pa.values) == [100000.0, 99000.0]
    assert weather.end_epoch_s - weather.start_epoch_s == S_PER_H


@pytest.mark.parametrize(
    "text, message",
    [("time,dry_bulb_c,relative_humidity_pct\n", r"bad.csv:1: missing column\(s\) timestamp"),
     ("timestamp,dry_bulb_c,relative_humidity_pct\n2024-01-01T00:00Z,5,50\n2024-01-01T01:00Z,five,50\n",
      r"bad.csv:3: dry_bulb_c: 'five' is not a number"),
     ("timestamp,dry_bulb_c,relative_humidity_pct\n2024-01-01T00:00Z,5,50\n2024-01-01T01:00Z,6\n",
      r"bad.csv:3: row has 2 fields, the header has 3"),
     ("timestamp,dry_bulb_c,relative_humidity_pct\n2024-01-01T00:00Z,5,50\n2024-01-01T01:00Z,6,150\n",
      r"bad.csv:3: relative humidity \[%\] 150 outside \[0, 100\]"),
     ("timestamp,dry_bulb_c,relative_humidity_pct\n2024-01-01T01:00Z,5,50\n2024-01-01T00:00Z,6,50\n",
      r"bad.csv:3: timestamps must be strictly increasing")],
)
def test_bad_csv_names_file_and_line(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataFileError, match=message):
        W.read_weather_csv(path)


def test_unknown_weather_file_type(tmp_path):
    with pytest.raises(DataFileError, match="unknown weather file type '.txt'"):
        W.load_weather(tmp_path / "x.txt", *YEAR_2023)


# ---------------------------------------------------------------------------------------------------------
# Built-in climates
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("climate, name", [("hot_dry", PHOENIX), ("temperate", STERLING), ("cold", MINNEAPOLIS),
                                           ("mild_coastal", SAN_JOSE)])
def test_builtin_climates_are_the_fits_to_the_real_files(shared_data, climate, name):
    stored = W.CLIMATES[climate]
    fitted = W.fit_climate_model_to_file(climate, shared_data / name)
    for field in ("mean_dry_bulb_c", "seasonal_amplitude_k", "diurnal_amplitude_k", "mean_dew_point_c",
                  "dew_point_amplitude_k", "coldest_day_of_year", "coldest_hour_local", "driest_day_of_year"):
        assert getattr(stored, field) == pytest.approx(getattr(fitted, field), abs=0.051), field
    assert (stored.utc_offset_h, stored.elevation_m) == (fitted.utc_offset_h, fitted.elevation_m)
    assert name in stored.source


def test_builtin_climate_weather_over_a_year():
    weather = W.load_weather(None, *YEAR_2023, climate="hot_dry")
    assert weather.dry_bulb_c.edges_epoch_s.size == 8760
    model = W.CLIMATES["hot_dry"]
    assert weather.dry_bulb_c.mean() == pytest.approx(model.mean_dry_bulb_c, abs=0.01)
    # Hottest in July afternoons, coldest on January mornings (local time UTC-7).
    july_3pm = to_epoch_s(datetime(2023, 7, 15, 22, 30, tzinfo=UTC))
    jan_4am = to_epoch_s(datetime(2023, 1, 15, 11, 30, tzinfo=UTC))
    assert weather.dry_bulb_c.value_at(july_3pm) > 35.0 > 10.0 > weather.dry_bulb_c.value_at(jan_4am)
    assert np.all(weather.wet_bulb_c.values <= weather.dry_bulb_c.values + 1e-9)
    assert np.all((weather.relative_humidity_pct.values > 0.0) & (weather.relative_humidity_pct.values <= 100.0))


def test_unknown_climate_lists_the_valid_ones():
    with pytest.raises(SimInputError, match="unknown climate 'arctic'; expected one of cold, hot_dry, mild_coastal"):
        W.load_weather(None, *YEAR_2023, climate="arctic")
