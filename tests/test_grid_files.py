"""Grid signal readers: the real files read back to their published statistics, and every stated rule
(labels, time zones and DST, gaps, ordering, extension) holds on small files written here."""

from __future__ import annotations

import csv
import functools
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from sim.errors import DataFileError
from sim.timeseries import StepSeries
from sim.timeseries.grid_files import DEFAULT_MAX_GAP_S, LOCAL_WINDOW, cover_run, read_signal
from sim.units import S_PER_DAY, S_PER_H, S_PER_MIN, carbon_kg

UTC = timezone.utc


@functools.lru_cache(maxsize=None)
def _real_cached(path: str, options: tuple) -> StepSeries:
    return read_signal(path, **dict(options))


def real(path: Path, **options) -> StepSeries:
    """A real shared file, read once per test session (the reader is pure; the tests only look)."""
    return _real_cached(str(path), tuple(sorted(options.items())))


def epoch(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def hourly_csv(path: Path, start: datetime, values: list[float], fmt: str = "%Y-%m-%d %H:%M:%S") -> Path:
    lines = ["timestamp,value"] + [
        f"{(start + timedelta(hours=i)).strftime(fmt)},{v}" for i, v in enumerate(values)
    ]
    return write(path, "\n".join(lines) + "\n")


# ------------------------------------------------------------------------------------- the real files

# README.md of the shared data: annual means, gCO2eq/kWh, to one decimal.
@pytest.mark.parametrize(
    "name, column, readme_mean",
    [
        ("FR_2023_hourly.csv", "lca", 49.4),
        ("FR_2023_hourly.csv", "direct", 30.4),
        ("DE_2023_hourly.csv", "lca", 395.1),
        ("DE_2023_hourly.csv", "direct", 329.3),
        ("US-CAL-CISO_2023_hourly.csv", "lca", 261.2),
        ("US-CAL-CISO_2023_hourly.csv", "direct", 193.5),
    ],
)
def test_electricitymaps_annual_mean_matches_readme(shared_data, name, column, readme_mean):
    series = real(shared_data / name, column=column)
    assert series.values.size == 8760
    assert series.start_epoch_s == epoch(2023, 1, 1)
    assert series.end_epoch_s == epoch(2024, 1, 1)
    assert np.all(np.diff(series.edges_epoch_s) == S_PER_H)
    assert round(series.mean(), 1) == readme_mean
    assert series.unit == "gCO2e/kWh"


def test_electricitymaps_first_row_is_the_first_hour(shared_data):
    # FR_2023 line 2: 2023-01-01 00:00:00 ... direct 35.34, LCA 56.64
    lca = real(shared_data / "FR_2023_hourly.csv")
    direct = real(shared_data / "FR_2023_hourly.csv", column="direct")
    assert lca.value_at(epoch(2023, 1, 1, 0, 59)) == 56.64
    assert direct.value_at(epoch(2023, 1, 1)) == 35.34
    assert lca.value_at(epoch(2023, 1, 1, 1)) == 58.17


def test_electricitymaps_stamps_are_utc_whatever_timezone_says(shared_data):
    path = shared_data / "FR_2023_hourly.csv"
    assert read_signal(path, timezone="Europe/Paris").start_epoch_s == epoch(2023, 1, 1)


def test_caiso_midday_solar_dip_falls_at_20_21_utc(shared_data):
    series = real(shared_data / "US-CAL-CISO_2023_hourly.csv")
    hour_of_day = ((series.edges_epoch_s % S_PER_DAY) // S_PER_H).astype(int)
    means = np.array([series.values[hour_of_day == h].mean() for h in range(24)])
    assert int(np.argmin(means)) in (20, 21)


def test_miso_mean_matches_readme_and_blanks_are_reported(shared_data):
    series = real(shared_data / "MISO_NG_avgCI_2022.csv")
    assert series.values.size == 8760
    filled_at = [epoch(2022, 6, 6, 21), epoch(2022, 6, 9, 19), epoch(2022, 6, 9, 20)]  # hour-ending -> -1 h
    filled = np.isin(series.edges_epoch_s, filled_at)
    assert filled.sum() == 3
    # README: mean 440.5 over the 8757 valid hours; min 277.4, max 555.8.
    assert round(series.values[~filled].mean(), 1) == 440.5
    assert round(series.values.min(), 1) == 277.4 and round(series.values.max(), 1) == 555.8
    note = next(n for n in series.notes if "missing value" in n)
    assert note.startswith("3 missing value(s)")
    assert "line 3768" in note and "line 3838" in note and "linear interpolation" in note


def test_miso_blank_hours_are_linear_between_neighbours(shared_data):
    rows = list(csv.reader((shared_data / "MISO_NG_avgCI_2022.csv").open()))
    value = {i + 1: r[-1] for i, r in enumerate(rows)}  # file line -> avg_CI text
    assert value[3768] == value[3838] == value[3839] == ""
    series = real(shared_data / "MISO_NG_avgCI_2022.csv")
    before, after = float(value[3767]), float(value[3769])
    assert series.value_at(epoch(2022, 6, 6, 21)) == pytest.approx((before + after) / 2)
    before, after = float(value[3837]), float(value[3840])
    assert series.value_at(epoch(2022, 6, 9, 19)) == pytest.approx(before + (after - before) / 3)
    assert series.value_at(epoch(2022, 6, 9, 20)) == pytest.approx(before + 2 * (after - before) / 3)


def test_miso_hour_ending_is_one_hour_earlier_than_hour_beginning(shared_data):
    path = shared_data / "MISO_NG_avgCI_2022.csv"
    ending = real(path)  # eia930: hour-ending by default
    beginning = real(path, format="csv", column="avg_CI", label="start")
    np.testing.assert_array_equal(ending.edges_epoch_s, beginning.edges_epoch_s - S_PER_H)
    np.testing.assert_array_equal(ending.values, beginning.values)
    assert ending.start_epoch_s == epoch(2021, 12, 31, 23)
    assert ending.end_epoch_s == epoch(2022, 12, 31, 23)
    # line 2: "2022-01-01 00:00:00+00:00 ... 438.87526539278133" covers the hour before midnight
    assert ending.value_at(epoch(2021, 12, 31, 23, 30)) == 438.87526539278133


def test_fifteen_minute_file_mean_gaps_and_exact_integral(shared_data):
    path = shared_data / "DE_2020_15min_carbon_intensity.csv"
    series = real(path)
    # README: 37,147 rows at 15 min, mean 315.2, two missing points (2020-12-19 23:15 and 23:45).
    assert series.values.size == 37147 + 2
    assert np.all(np.diff(series.edges_epoch_s) == 15 * S_PER_MIN)
    assert round(series.mean(), 1) == 315.2
    assert any(n.startswith("2 missing timestamp(s)") for n in series.notes)

    # Constant 1 MW for the whole file: carbon = P x sum(v_i x 900 s), summed here straight from the
    # raw text with the two missing points put in by hand (midpoints of their neighbours).
    raw = {r[0]: float(r[1]) for r in list(csv.reader(path.open()))[1:]}
    raw["2020-12-19 23:15:00"] = (raw["2020-12-19 23:00:00"] + raw["2020-12-19 23:30:00"]) / 2
    raw["2020-12-19 23:45:00"] = (raw["2020-12-19 23:30:00"] + raw["2020-12-20 00:00:00"]) / 2
    power_w, step_s = 1e6, 15 * S_PER_MIN
    closed_form_kg = sum(carbon_kg(power_w * step_s, v) for v in raw.values())
    instants, values = series.steps_within(series.start_epoch_s, series.end_epoch_s)
    energy_j = power_w * np.diff(np.append(instants, series.end_epoch_s))
    integrated_kg = sum(carbon_kg(e, v) for e, v in zip(energy_j, values))
    assert integrated_kg == pytest.approx(closed_form_kg, rel=1e-12)
    assert series.value_at(epoch(2020, 12, 19, 23, 15)) == raw["2020-12-19 23:15:00"]


def test_auto_detects_every_real_format(shared_data):
    miso = shared_data / "MISO_NG_avgCI_2022.csv"
    np.testing.assert_array_equal(real(miso).edges_epoch_s, read_signal(miso, format="eia930").edges_epoch_s)
    for name in ("FR_2023_hourly.csv", "DE_2023_hourly.csv"):
        assert real(shared_data / name).mean() == real(shared_data / name, format="electricitymaps").mean()


# -------------------------------------------------------------------------------- generic CSV, Parquet


def test_generic_csv_naive_timestamps_are_utc(tmp_path):
    path = hourly_csv(tmp_path / "ci.csv", datetime(2023, 5, 1), [100.0, 200.0, 300.0])
    series = read_signal(path)
    np.testing.assert_array_equal(series.edges_epoch_s, [epoch(2023, 5, 1, h) for h in range(3)])
    assert series.end_epoch_s == epoch(2023, 5, 1, 3)
    assert series.mean() == 200.0


def test_generic_csv_offsets_and_z_suffix(tmp_path):
    path = write(
        tmp_path / "ci.csv",
        "time,value\n2023-05-01T02:00:00+02:00,10\n2023-05-01T01:00:00Z,20\n2023-05-01T04:00:00+02:00,30\n",
    )
    series = read_signal(path, timezone="America/New_York")  # ignored: the stamps carry offsets
    np.testing.assert_array_equal(series.edges_epoch_s, [epoch(2023, 5, 1, h) for h in range(3)])


def test_local_time_across_both_dst_changes(tmp_path):
    # Berlin 2023: 02:00 CET -> 03:00 CEST on 26 March; 03:00 CEST -> 02:00 CET on 29 October.
    spring = ["2023-03-26 00:00:00", "2023-03-26 01:00:00", "2023-03-26 03:00:00", "2023-03-26 04:00:00"]
    autumn = [
        "2023-10-29 01:00:00",
        "2023-10-29 01:30:00",
        "2023-10-29 02:00:00",
        "2023-10-29 02:30:00",
        "2023-10-29 02:00:00",
        "2023-10-29 02:30:00",
        "2023-10-29 03:00:00",
    ]
    expected_spring = [epoch(2023, 3, 25, 23), epoch(2023, 3, 26, 0), epoch(2023, 3, 26, 1), epoch(2023, 3, 26, 2)]
    expected_autumn = [
        epoch(2023, 10, 28, 23),
        epoch(2023, 10, 28, 23, 30),
        epoch(2023, 10, 29, 0),
        epoch(2023, 10, 29, 0, 30),
        epoch(2023, 10, 29, 1),
        epoch(2023, 10, 29, 1, 30),
        epoch(2023, 10, 29, 2),
    ]
    for stamps, expected in ((spring, expected_spring), (autumn, expected_autumn)):
        path = write(tmp_path / "local.csv", "timestamp,value\n" + "".join(f"{t},1\n" for t in stamps))
        series = read_signal(path, timezone="Europe/Berlin")
        np.testing.assert_array_equal(series.edges_epoch_s, expected)
        assert not any("missing" in n for n in series.notes)  # in UTC the steps are regular
    assert any("2 repeated fall-back local times" in n and "lines 6, 7" in n for n in series.notes)


def test_nonexistent_local_time_is_refused(tmp_path):
    path = write(tmp_path / "local.csv", "timestamp,value\n2023-03-26 01:30:00,1\n2023-03-26 02:30:00,1\n")
    with pytest.raises(DataFileError, match=r"local.csv:3: .*2023-03-26 02:30:00 does not exist in Europe/Berlin"):
        read_signal(path, timezone="Europe/Berlin")


def test_fixed_offset_timezone(tmp_path):
    path = hourly_csv(tmp_path / "ci.csv", datetime(2023, 1, 1), [1.0, 2.0])
    series = read_signal(path, timezone="-07:00")
    assert series.start_epoch_s == epoch(2023, 1, 1, 7)


def test_alternate_missing_points_over_a_long_stretch_read_as_a_coarser_step(tmp_path):
    # 15-min data with every other point missing for 2 h, then complete: the local step is 30 min there,
    # so the values are held (no interpolation) - the stated limit of telling gaps from resolution changes
    start = datetime(2023, 1, 1)
    stamps = [start + timedelta(minutes=30 * k) for k in range(5)]
    stamps += [stamps[-1] + timedelta(minutes=15 * k) for k in range(1, 4)]
    path = write(tmp_path / "alt.csv", "timestamp,value\n" + "".join(f"{t},{i}\n" for i, t in enumerate(stamps)))
    series = read_signal(path)
    assert series.values.size == len(stamps) and series.notes == ()


def test_mixed_resolution_is_not_a_gap(tmp_path):
    stamps = [datetime(2023, 1, 1) + timedelta(hours=h) for h in range(10)]
    stamps += [stamps[-1] + timedelta(minutes=15 * k) for k in range(1, 21)]
    path = write(
        tmp_path / "mixed.csv",
        "timestamp,value\n" + "".join(f"{t.isoformat()},{i}\n" for i, t in enumerate(stamps)),
    )
    series = read_signal(path)
    assert series.values.size == len(stamps)
    assert series.notes == ()
    assert series.value_at(epoch(2023, 1, 1, 8, 59)) == 8.0
    assert series.value_at(epoch(2023, 1, 1, 9, 20)) == 10.0
    assert series.end_epoch_s == epoch(2023, 1, 1, 14, 15)


def test_leap_day_is_an_ordinary_day(tmp_path):
    path = hourly_csv(tmp_path / "leap.csv", datetime(2024, 2, 28), list(range(72)))
    series = read_signal(path)
    assert series.values.size == 72 and series.notes == ()
    assert series.value_at(epoch(2024, 2, 29, 12)) == 36.0
    assert series.end_epoch_s == epoch(2024, 3, 2)


def test_gap_filled_linearly_with_a_note(tmp_path):
    text = "timestamp,value\n2023-01-01 00:00,0\n2023-01-01 01:00,10\n2023-01-01 05:00,50\n2023-01-01 06:00,60\n"
    series = read_signal(write(tmp_path / "gap.csv", text))
    np.testing.assert_array_equal(series.values, [0, 10, 20, 30, 40, 50, 60])
    assert np.all(np.diff(series.edges_epoch_s) == S_PER_H)
    assert any("3 missing timestamp(s)" in n and "after line 3" in n for n in series.notes)


def test_gap_above_the_maximum_is_refused(tmp_path):
    start = datetime(2023, 1, 1)
    path = write(
        tmp_path / "gap.csv",
        f"timestamp,value\n{start},1\n{start + timedelta(hours=1)},1\n{start + timedelta(hours=9)},1\n"
        f"{start + timedelta(hours=10)},1\n",
    )
    with pytest.raises(DataFileError, match=r"gap.csv:3: 7 h of missing data from 2023-01-01T02:00:00Z to 2023-01-01T09:00:00Z; .*at most 6 h"):
        read_signal(path)
    assert read_signal(path, max_gap_s=7 * S_PER_H).values.size == 11
    assert DEFAULT_MAX_GAP_S == 6 * S_PER_H


def test_blank_rows_at_the_ends_are_dropped_not_invented(tmp_path):
    path = hourly_csv(tmp_path / "ends.csv", datetime(2023, 1, 1), ["", 5.0, 6.0, 7.0, ""])
    series = read_signal(path)
    np.testing.assert_array_equal(series.values, [5.0, 6.0, 7.0])
    assert series.start_epoch_s == epoch(2023, 1, 1, 1)
    assert any("2 blank row(s)" in n for n in series.notes)


def test_parquet_with_timestamp_column(tmp_path):
    frame = pd.DataFrame(
        {
            "timestamp": pd.date_range("2023-07-01", periods=4, freq="15min", tz="UTC"),
            "value": [1.0, 2.0, 3.0, 4.0],
        }
    )
    frame.to_parquet(tmp_path / "ci.parquet")
    series = read_signal(tmp_path / "ci.parquet")
    assert series.start_epoch_s == epoch(2023, 7, 1)
    assert series.end_epoch_s == epoch(2023, 7, 1, 1)
    assert series.mean() == 2.5


def test_parquet_naive_timestamps_take_the_timezone(tmp_path):
    frame = pd.DataFrame({"time": pd.date_range("2023-07-01", periods=3, freq="h"), "ci": [1.0, 2.0, 3.0]})
    frame.to_parquet(tmp_path / "ci.parquet")
    series = read_signal(tmp_path / "ci.parquet", timezone="Europe/Paris")
    assert series.start_epoch_s == epoch(2023, 6, 30, 22)


def test_parquet_errors_name_the_row(tmp_path):
    frame = pd.DataFrame({"timestamp": ["2023-07-01 00:00", "2023-07-01 01:00", "2023-07-01 02:00"],
                          "value": [1.0, -2.0, 3.0]})
    frame.to_parquet(tmp_path / "ci.parquet")
    with pytest.raises(DataFileError, match=r"ci.parquet: row 2: value -2.0"):
        read_signal(tmp_path / "ci.parquet")


@settings(max_examples=30, deadline=None)
@given(
    values=st.lists(st.floats(0, 1000, allow_nan=False), min_size=12, max_size=60),
    drop=st.sets(st.integers(1, 58), max_size=20),
)
def test_dropped_rows_come_back_on_the_grid_between_their_neighbours(tmp_path_factory, values, drop):
    # isolated drops, at least LOCAL_WINDOW + 1 rows apart, so that the file's step stays the commonest
    # interval around each gap (denser alternate drops read as a coarser resolution: see the docstring)
    kept: list[int] = []
    for i in sorted(i for i in drop if i < len(values) - 1):
        if not kept or i - kept[-1] > LOCAL_WINDOW:
            kept.append(i)
    drop = set(kept)
    start = datetime(2023, 1, 1)
    path = tmp_path_factory.mktemp("p") / "drop.csv"
    lines = ["timestamp,value"] + [
        f"{start + timedelta(minutes=15 * i)},{v!r}" for i, v in enumerate(values) if i not in drop
    ]
    series = read_signal(write(path, "\n".join(lines) + "\n"))
    assert series.values.size == len(values)
    assert np.all(np.diff(series.edges_epoch_s) == 15 * S_PER_MIN)
    for i, v in enumerate(values):
        if i in drop:
            assert series.values[i] == pytest.approx((values[i - 1] + values[i + 1]) / 2)
        else:
            assert series.values[i] == v


# ------------------------------------------------------------------------------------------------ errors


def _mutate(shared_data: Path, tmp_path: Path, name: str, line: int, new: str | None) -> Path:
    """A copy of a real file with one line replaced (or removed when `new` is None)."""
    lines = (shared_data / name).read_text(encoding="utf-8").splitlines(keepends=True)
    if new is None:
        del lines[line - 1]
    else:
        lines[line - 1] = new + "\n"
    out = tmp_path / name
    out.write_text("".join(lines), encoding="utf-8")
    return out


def test_missing_file(tmp_path):
    with pytest.raises(DataFileError, match=r"nope.csv: file not found"):
        read_signal(tmp_path / "nope.csv")


def test_non_numeric_value_names_the_line(shared_data, tmp_path):
    bad = "2023-01-01 03:00:00,France,France,FR,35.0,abc,92.0,40.0,x,false,"
    path = _mutate(shared_data, tmp_path, "FR_2023_hourly.csv", 5, bad)
    with pytest.raises(DataFileError, match=r"FR_2023_hourly.csv:5: value 'abc' is not a number") as err:
        read_signal(path)
    assert err.value.line == 5


def test_negative_intensity_is_refused(shared_data, tmp_path):
    bad = "2022-01-01 02:00:00+00:00,1,0,1,0,1,1,1,1,-3.5"
    path = _mutate(shared_data, tmp_path, "MISO_NG_avgCI_2022.csv", 4, bad)
    with pytest.raises(DataFileError, match=r":4: value -3.5; expected a finite intensity >= 0"):
        read_signal(path)
    assert read_signal(path, allow_negative=True).value_at(epoch(2022, 1, 1, 1)) == -3.5


def test_missing_column(shared_data, tmp_path):
    with pytest.raises(DataFileError, match=r"FR_2023_hourly.csv:1: missing column 'Carbon Intensity gCO₂eq/kWh \(market\)'"):
        read_signal(shared_data / "FR_2023_hourly.csv", column="Carbon Intensity gCO₂eq/kWh (market)")
    path = write(tmp_path / "three.csv", "timestamp,a,b\n2023-01-01,1,2\n2023-01-01 01:00,1,2\n")
    with pytest.raises(DataFileError, match=r"three.csv:1: cannot tell the value column"):
        read_signal(path)


def test_duplicated_timestamp_is_refused(shared_data, tmp_path):
    dup = "2023-01-01 00:00:00,France,France,FR,35.34,56.64,92.78,40.96,x,false,"
    path = _mutate(shared_data, tmp_path, "FR_2023_hourly.csv", 3, dup)
    with pytest.raises(DataFileError, match=r":3: timestamp 2023-01-01T00:00:00Z duplicates line 2"):
        read_signal(path)


def test_timestamps_going_back_are_refused(tmp_path):
    text = "timestamp,value\n2023-01-01 02:00,1\n2023-01-01 01:00,1\n"
    with pytest.raises(DataFileError, match=r"back.csv:3: .*goes back before line 2"):
        read_signal(write(tmp_path / "back.csv", text))


def test_bad_timestamp(shared_data, tmp_path):
    bad = "01/01/2023 02:00,France,France,FR,35.0,50.0,92.0,40.0,x,false,"
    path = _mutate(shared_data, tmp_path, "FR_2023_hourly.csv", 4, bad)
    with pytest.raises(DataFileError, match=r":4: timestamp '01/01/2023 02:00'; expected ISO 8601"):
        read_signal(path)


def test_too_few_rows(tmp_path):
    with pytest.raises(DataFileError, match=r"one.csv: 1 valid row\(s\); expected at least 2"):
        read_signal(write(tmp_path / "one.csv", "timestamp,value\n2023-01-01,5\n"))
    with pytest.raises(DataFileError, match=r"empty.csv:1: empty file"):
        read_signal(write(tmp_path / "empty.csv", ""))
    with pytest.raises(DataFileError, match=r"blank.csv: no numeric values"):
        read_signal(write(tmp_path / "blank.csv", "timestamp,value\n2023-01-01,\n2023-01-02,\n"))


def test_not_utf8_and_unknown_options(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("timestamp,valeur é\n2023-01-01,1\n".encode("latin-1"))
    with pytest.raises(DataFileError, match="not UTF-8"):
        read_signal(path)
    ok = hourly_csv(tmp_path / "ok.csv", datetime(2023, 1, 1), [1.0, 2.0])
    with pytest.raises(DataFileError, match="unknown format 'xlsx'"):
        read_signal(ok, format="xlsx")
    with pytest.raises(DataFileError, match="unknown timezone 'Mars/Olympus'"):
        read_signal(ok, timezone="Mars/Olympus")
    with pytest.raises(DataFileError, match="unknown label 'middle'"):
        read_signal(ok, label="middle")


# ----------------------------------------------------------------------------------------- extension


def test_run_inside_the_span_is_unchanged(shared_data):
    series = real(shared_data / "FR_2023_hourly.csv")
    same, warning = cover_run(series, epoch(2023, 3, 1), epoch(2023, 4, 1))
    assert same is series and warning is None


def test_run_starting_outside_the_span_is_refused(shared_data):
    series = real(shared_data / "FR_2023_hourly.csv")
    with pytest.raises(DataFileError, match=r"starts at 2022-12-31T00:00:00Z.*spans 2023-01-01T00:00:00Z to 2024-01-01T00:00:00Z"):
        cover_run(series, epoch(2022, 12, 31), epoch(2023, 2, 1))
    with pytest.raises(DataFileError, match="spans"):
        cover_run(series, epoch(2024, 1, 1), epoch(2024, 2, 1))


def test_run_outlasting_the_file_repeats_whole_weeks(shared_data):
    series = real(shared_data / "US-CAL-CISO_2023_hourly.csv")
    run_end = epoch(2025, 6, 1)
    extended, warning = cover_run(series, epoch(2023, 12, 1), run_end)
    assert "52 weeks (364 days) are repeated" in warning and "drift by 1 day" in warning
    assert warning in extended.notes
    assert extended.end_epoch_s == run_end
    probes = np.arange(series.end_epoch_s, run_end, 7777.0)
    for t in probes:
        k = np.ceil((t - series.end_epoch_s + 1) / (364 * S_PER_DAY))
        back = t - k * 364 * S_PER_DAY
        assert series.start_epoch_s <= back < series.end_epoch_s
        assert extended.value_at(t) == series.value_at(back)
        # same weekday and hour of day as the copied instant
        assert datetime.fromtimestamp(t, UTC).strftime("%a %H") == datetime.fromtimestamp(back, UTC).strftime("%a %H")
    # inside the file nothing changed
    inside = np.searchsorted(extended.edges_epoch_s, series.end_epoch_s)
    np.testing.assert_array_equal(extended.values[:inside], series.values)


def test_short_file_holds_its_last_value(tmp_path):
    series = read_signal(hourly_csv(tmp_path / "day.csv", datetime(2023, 1, 1), [1.0, 2.0, 3.0]))
    extended, warning = cover_run(series, epoch(2023, 1, 1), epoch(2023, 1, 5))
    assert "last value 3 gCO2e/kWh is held" in warning
    assert extended.value_at(epoch(2023, 1, 4, 23)) == 3.0
    assert extended.end_epoch_s == epoch(2023, 1, 5)


def test_constant_series_needs_no_extension():
    constant = StepSeries.constant("carbon_intensity_g_per_kwh", "gCO2e/kWh", 429.0)
    assert cover_run(constant, 0.0, 1e12) == (constant, None)
