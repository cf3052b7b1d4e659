"""Outdoor weather for the cooling plant: dry bulb, humidity, wet bulb (derived) and pressure, hour by hour.

Sources, each read into the same frozen `Weather` (hourly `StepSeries` on UTC epoch seconds):

- **EnergyPlus EPW** typical-year files (TMY3, TMYx, ...): 8 header lines, then 8760 hourly records of a
  non-leap year. The `LOCATION` line gives the time zone (hours from UTC, local *standard* time) and the
  elevation. Record fields (1-based): 2 month, 3 day, 4 hour 1..24, **hour-ending, local standard time, no
  daylight saving**; 7 dry bulb [C]; 8 dew point [C]; 9 relative humidity [%]; 10 station pressure [Pa].
  Missing-value codes 99.9 (temperatures), 999 (RH), 999999 (pressure). Source: EnergyPlus "Auxiliary
  Programs", ch. 2 "Weather Converter Program", section "EnergyPlus Weather File (EPW) Data Dictionary"
  (U.S. DOE); Wilcox & Marion 2008, "Users Manual for TMY3 Data Sets", NREL/TP-581-43156.
  A typical year is mapped onto any calendar window [start, end) in UTC by (month, day, hour) of local
  standard time: the record "month m, day d, hour h" covers local standard time [h-1, h) on day m/d of every
  year. **February 29 takes the records of February 28.** Windows longer than a year tile the typical year.
- **CSV** with a header `timestamp,dry_bulb_c,relative_humidity_pct[,pressure_pa]`: ISO 8601 timestamps (UTC
  when no offset is written); each row holds from its timestamp until the next row's (the last row holds for
  the previous row's step). Without a pressure column the standard atmosphere at `elevation_m` is used.
- **Open-Meteo JSON** (the Historical Weather API response): `hourly.time` local times at the one fixed offset
  `utc_offset_seconds`, so UTC = time - offset; `temperature_2m` [C], `relative_humidity_2m` [%]. No pressure:
  the standard atmosphere at the response's `elevation`. Each value holds for the hour starting at its time.
- **Built-in climates** (no file named): a seasonal plus diurnal sinusoid per named climate, its parameters
  fitted (by `fit_climate_model`) to the real hourly files in ../shared/data, so any scenario runs without
  external data. See `CLIMATES`.

Wet bulb is derived with `sim.physics.psychrometrics` (ASHRAE 2017 Fundamentals ch. 1): from the dew point for
EPW records (field 8 is given to 0.1 C where RH is an integer percent), from RH for CSV and JSON.
Bad files raise `sim.errors.DataFileError` naming the file and line.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Mapping

import numpy as np

from sim.errors import DataFileError, SimInputError
from sim.physics import psychrometrics as psy
from sim.timeseries.series import StepSeries, to_epoch_s
from sim.units import S_PER_DAY, S_PER_H

HOURS_PER_DAY = int(S_PER_DAY / S_PER_H)
DAYS_PER_TYPICAL_YEAR = 365
HOURS_PER_TYPICAL_YEAR = DAYS_PER_TYPICAL_YEAR * HOURS_PER_DAY  # 8760
# Days in each month of the non-leap typical year.
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_FIRST_DAY_OF_MONTH = np.concatenate(([0], np.cumsum(_DAYS_IN_MONTH)[:-1]))

EPW_HEADER_LINES = 8
# 0-based field indices of an EPW data record (EnergyPlus EPW data dictionary; 1-based numbers 2, 3, 4, 7-10).
_EPW_MONTH, _EPW_DAY, _EPW_HOUR = 1, 2, 3
_EPW_DRY_BULB, _EPW_DEW_POINT, _EPW_RH, _EPW_PRESSURE = 6, 7, 8, 9
# Missing-value codes of the EPW data dictionary: 99.9 for temperatures, 999 for RH, 999999 for pressure.
EPW_MISSING_TEMPERATURE_C = 99.9
EPW_MISSING_RH_PCT = 999.0
EPW_MISSING_PRESSURE_PA = 999999.0
# LOCATION line fields (0-based): 8 time zone [h from UTC], 9 elevation [m].
_EPW_LOC_TZ, _EPW_LOC_ELEVATION = 8, 9

# Plausible outdoor values, to reject corrupt inputs. Bounds on the measured extremes: -89.2 C (Vostok, 1983)
# and 56.7 C (Death Valley, 1913), WMO World Weather and Climate Extremes Archive; the margin is assumed.
MIN_OUTDOOR_DRY_BULB_C = -95.0
MAX_OUTDOOR_DRY_BULB_C = 65.0
# Station pressures from the highest inhabited sites (~50 kPa at 5,100 m) to sea-level highs (~108.4 kPa record,
# WMO archive); margin assumed.
MIN_STATION_PRESSURE_PA = 40_000.0
MAX_STATION_PRESSURE_PA = 110_000.0


@dataclass(frozen=True)
class Weather:
    """Outdoor conditions as hourly step signals on UTC epoch seconds, all on the same steps.

    `wet_bulb_c` is derived (psychrometrics); `notes` say where each quantity came from and what was filled.
    """

    dry_bulb_c: StepSeries
    relative_humidity_pct: StepSeries
    wet_bulb_c: StepSeries
    pressure_pa: StepSeries
    source: str
    notes: tuple[str, ...] = field(default=())

    @property
    def start_epoch_s(self) -> float:
        return self.dry_bulb_c.start_epoch_s

    @property
    def end_epoch_s(self) -> float:
        return self.dry_bulb_c.end_epoch_s

    def hourly_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Step durations [s], dry bulb [C], wet bulb [C] and RH [%] of every step, for vectorised physics."""
        edges = self.dry_bulb_c.edges_epoch_s
        durations_s = np.diff(np.append(edges, self.end_epoch_s))
        return durations_s, self.dry_bulb_c.values, self.wet_bulb_c.values, self.relative_humidity_pct.values


def _weather(
    edges_epoch_s: np.ndarray,
    end_epoch_s: float,
    dry_bulb_c: np.ndarray,
    relative_humidity_pct: np.ndarray,
    wet_bulb_c: np.ndarray,
    pressure_pa: np.ndarray,
    source: str,
    notes: tuple[str, ...],
) -> Weather:
    def series(name: str, unit: str, values: np.ndarray) -> StepSeries:
        return StepSeries(name, unit, edges_epoch_s, values, end_epoch_s, source, notes)

    return Weather(
        dry_bulb_c=series("dry_bulb", "C", dry_bulb_c),
        relative_humidity_pct=series("relative_humidity", "%", relative_humidity_pct),
        wet_bulb_c=series("wet_bulb", "C", wet_bulb_c),
        pressure_pa=series("pressure", "Pa", pressure_pa),
        source=source,
        notes=notes,
    )


# ---------------------------------------------------------------------------------------------------------
# Typical year (EPW)
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TypicalYear:
    """8760 hourly records of a non-leap typical year in local standard time.

    Record i covers local standard time [i, i+1) hours after Jan 1 00:00 (EPW hour-ending label i % 24 + 1).
    `vapour_pressure_pa` carries the humidity (from the dew point, or RH where the dew point is missing).
    """

    dry_bulb_c: np.ndarray
    relative_humidity_pct: np.ndarray
    vapour_pressure_pa: np.ndarray
    pressure_pa: np.ndarray
    utc_offset_h: float
    elevation_m: float
    source: str
    notes: tuple[str, ...] = field(default=())


def _fill_circular(values: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """Linear interpolation over missing hours, the typical year treated as a circle (Dec 31 joins Jan 1)."""
    if not missing.any():
        return values
    n = values.size
    good = np.flatnonzero(~missing)
    x = np.concatenate((good - n, good, good + n))
    y = np.tile(values[good], 3)
    out = values.copy()
    out[missing] = np.interp(np.flatnonzero(missing), x, y)
    return out


def _parse_float(text: str, path: Path, line: int, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataFileError(path, f"{what}: {text.strip()!r} is not a number", line) from None
    if not math.isfinite(value):
        raise DataFileError(path, f"{what}: {text.strip()!r} is not a finite number", line)
    return value


def read_epw(path: str | Path) -> TypicalYear:
    """Read an EnergyPlus EPW typical-year file (8760 hourly records, hour-ending local standard time).

    Missing values (99.9 / 999 / 999999) are filled and each fill is stated in `notes`: dry bulb by linear
    interpolation between the neighbouring good hours; humidity from RH where the dew point is missing (and by
    interpolation where both are); pressure by the standard atmosphere at the file's elevation.
    Raises DataFileError (file and line) for a missing file, a bad LOCATION line, a record count other than
    8760, records out of calendar order, or a non-numeric value.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise DataFileError(path, f"cannot read weather file: {exc.strerror or exc}") from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines or not lines[0].upper().startswith("LOCATION"):
        raise DataFileError(path, "expected an EPW 'LOCATION,...' header on the first line", 1)
    location = lines[0].split(",")
    if len(location) <= _EPW_LOC_ELEVATION:
        raise DataFileError(path, "LOCATION line has fewer than 10 fields (needs time zone and elevation)", 1)
    utc_offset_h = _parse_float(location[_EPW_LOC_TZ], path, 1, "LOCATION time zone [h]")
    elevation_m = _parse_float(location[_EPW_LOC_ELEVATION], path, 1, "LOCATION elevation [m]")
    if not -12.0 <= utc_offset_h <= 14.0:
        raise DataFileError(path, f"LOCATION time zone {utc_offset_h} h is outside [-12, 14]", 1)

    records = lines[EPW_HEADER_LINES:]
    if len(records) != HOURS_PER_TYPICAL_YEAR:
        # The last line for a short file, the first surplus line for a long one.
        where = EPW_HEADER_LINES + min(len(records), HOURS_PER_TYPICAL_YEAR + 1)
        raise DataFileError(
            path,
            f"expected {HOURS_PER_TYPICAL_YEAR} hourly records of a non-leap typical year after "
            f"{EPW_HEADER_LINES} header lines, found {len(records)}",
            where,
        )
    data = np.empty((HOURS_PER_TYPICAL_YEAR, 4))
    month_day_hour = _typical_year_month_day_hour()
    names = ("dry bulb [C] (field 7)", "dew point [C] (field 8)", "relative humidity [%] (field 9)",
             "pressure [Pa] (field 10)")
    columns = (_EPW_DRY_BULB, _EPW_DEW_POINT, _EPW_RH, _EPW_PRESSURE)
    for i, record in enumerate(records):
        line_no = EPW_HEADER_LINES + 1 + i
        fields = record.split(",")
        if len(fields) <= _EPW_PRESSURE:
            raise DataFileError(path, f"record has {len(fields)} fields, expected at least 10", line_no)
        expected = month_day_hour[i]
        try:
            found = (int(fields[_EPW_MONTH]), int(fields[_EPW_DAY]), int(fields[_EPW_HOUR]))
        except ValueError:
            raise DataFileError(path, "month, day and hour (fields 2-4) must be integers", line_no) from None
        if found != expected:
            raise DataFileError(
                path,
                f"records out of order: found month/day/hour {found}, expected {expected} "
                "(a non-leap year, hours 1-24)",
                line_no,
            )
        for j, (col, name) in enumerate(zip(columns, names)):
            data[i, j] = _parse_float(fields[col], path, line_no, name)

    dry_bulb_c, dew_point_c, rh_pct, pressure_pa = data.T
    notes: list[str] = [
        f"EPW typical year, LOCATION {location[1].strip()}, UTC{utc_offset_h:+g} h standard time, "
        f"elevation {elevation_m:g} m; records hour-ending local standard time"
    ]
    missing_db = dry_bulb_c >= EPW_MISSING_TEMPERATURE_C
    missing_dp = dew_point_c >= EPW_MISSING_TEMPERATURE_C
    missing_rh = (rh_pct >= EPW_MISSING_RH_PCT) | (rh_pct < 0.0) | (rh_pct > psy.PERCENT_PER_FRACTION)
    missing_p = pressure_pa >= EPW_MISSING_PRESSURE_PA
    if missing_db.all():
        raise DataFileError(path, "every dry-bulb value (field 7) is the missing code 99.9")
    _check_range(path, dry_bulb_c[~missing_db], MIN_OUTDOOR_DRY_BULB_C, MAX_OUTDOOR_DRY_BULB_C, "dry bulb [C]",
                 first_line=EPW_HEADER_LINES + 1, index=np.flatnonzero(~missing_db))
    if missing_db.any():
        notes.append(f"{int(missing_db.sum())} missing dry-bulb hours filled by linear interpolation")
        dry_bulb_c = _fill_circular(dry_bulb_c, missing_db)
    if missing_p.any():
        notes.append(f"{int(missing_p.sum())} missing pressure hours set to the standard atmosphere at {elevation_m:g} m")
        pressure_pa = np.where(missing_p, psy.standard_atmosphere_pressure_pa(elevation_m), pressure_pa)
    _check_range(path, pressure_pa, MIN_STATION_PRESSURE_PA, MAX_STATION_PRESSURE_PA, "pressure [Pa]",
                 first_line=EPW_HEADER_LINES + 1, index=np.arange(HOURS_PER_TYPICAL_YEAR))

    saturation_pa = psy.saturation_vapour_pressure_pa(dry_bulb_c)
    safe_dp = np.where(missing_dp, 0.0, np.minimum(dew_point_c, dry_bulb_c))
    from_dew_pa = psy.saturation_vapour_pressure_pa(safe_dp)
    from_rh_pa = np.where(missing_rh, 0.0, rh_pct) / psy.PERCENT_PER_FRACTION * saturation_pa
    vapour_pa = np.where(~missing_dp, from_dew_pa, np.where(~missing_rh, from_rh_pa, np.nan))
    no_humidity = missing_dp & missing_rh
    if no_humidity.all():
        raise DataFileError(path, "every dew point (field 8) and RH (field 9) value is missing")
    if (missing_dp & ~missing_rh).any():
        notes.append(f"{int((missing_dp & ~missing_rh).sum())} hours without dew point: humidity from RH")
    if no_humidity.any():
        notes.append(f"{int(no_humidity.sum())} hours without dew point or RH: vapour pressure interpolated")
        vapour_pa = _fill_circular(vapour_pa, no_humidity)
    vapour_pa = np.minimum(vapour_pa, saturation_pa)
    rh_out = np.where(missing_rh, vapour_pa / saturation_pa * psy.PERCENT_PER_FRACTION, rh_pct)
    return TypicalYear(
        dry_bulb_c=dry_bulb_c,
        relative_humidity_pct=rh_out,
        vapour_pressure_pa=vapour_pa,
        pressure_pa=pressure_pa,
        utc_offset_h=utc_offset_h,
        elevation_m=elevation_m,
        source=str(path),
        notes=tuple(notes),
    )


def _check_range(path, values, lo, hi, what, first_line, index) -> None:
    bad = np.flatnonzero((values < lo) | (values > hi))
    if bad.size:
        k = bad[0]
        raise DataFileError(path, f"{what} {values[k]:g} outside the plausible range [{lo:g}, {hi:g}]",
                            first_line + int(index[k]))


def _typical_year_month_day_hour() -> list[tuple[int, int, int]]:
    """(month, day, hour-ending 1..24) of each of the 8760 records of a non-leap year, in file order."""
    out = []
    for month, days in enumerate(_DAYS_IN_MONTH, start=1):
        for day in range(1, days + 1):
            for hour in range(1, HOURS_PER_DAY + 1):
                out.append((month, day, hour))
    return out


def typical_year_index(local_standard_epoch_s: np.ndarray) -> np.ndarray:
    """Index into the 8760 typical-year records of the local-standard-time hour containing each instant.

    The instant's calendar month, day and hour select the record (hour h of the day -> hour-ending label h+1);
    February 29 maps to February 28. The year itself is ignored, so the typical year tiles every year.
    """
    seconds = np.floor(np.asarray(local_standard_epoch_s, dtype=float)).astype("int64")
    instants = seconds.astype("datetime64[s]")
    months = instants.astype("datetime64[M]")
    days = instants.astype("datetime64[D]")
    month_index = (months.astype("int64") % 12).astype(int)  # 0 = January
    day_of_month = (days - months.astype("datetime64[D]")).astype("int64")  # 0-based
    day_of_month = np.where((month_index == 1) & (day_of_month == 28), 27, day_of_month)  # Feb 29 -> Feb 28
    hour = ((seconds - days.astype("datetime64[s]").astype("int64")) // int(S_PER_H)).astype(int)
    day_of_year = _FIRST_DAY_OF_MONTH[month_index] + day_of_month
    return day_of_year * HOURS_PER_DAY + hour


def _hour_grid(start_epoch_s: float, end_epoch_s: float, utc_offset_s: float) -> np.ndarray:
    """Step edges for [start, end): `start`, then every boundary of a local-standard-time hour after it."""
    if not end_epoch_s > start_epoch_s:
        raise SimInputError(f"weather window end must be after its start (start {start_epoch_s}, end {end_epoch_s})")
    first = math.floor((start_epoch_s + utc_offset_s) / S_PER_H) * S_PER_H - utc_offset_s
    boundaries = np.arange(first + S_PER_H, end_epoch_s, S_PER_H)
    return np.concatenate(([start_epoch_s], boundaries))


def typical_year_weather(year: TypicalYear, start: datetime, end: datetime) -> Weather:
    """Map a typical year onto the UTC window [start, end), tiling it over as many years as needed.

    Each step is one local-standard-time hour (clipped at the window's ends); its values are those of the
    typical-year record with the same month, day and hour (Feb 29 takes Feb 28). Example: Sterling, VA
    (UTC-5): the record 'Jan 1, hour 1' covers 05:00-06:00 UTC on every Jan 1.
    """
    start_s, end_s = to_epoch_s(start), to_epoch_s(end)
    offset_s = year.utc_offset_h * S_PER_H
    edges = _hour_grid(start_s, end_s, offset_s)
    index = typical_year_index(edges + offset_s)
    dry_bulb_c = year.dry_bulb_c[index]
    pressure_pa = year.pressure_pa[index]
    humidity_ratio = psy.humidity_ratio_from_vapour_pressure(year.vapour_pressure_pa[index], pressure_pa)
    wet_bulb_c = psy.wet_bulb_from_humidity_ratio_c(dry_bulb_c, humidity_ratio, pressure_pa)
    notes = year.notes + (
        "typical year mapped onto the window by local-standard-time month/day/hour; Feb 29 uses Feb 28",
        "wet bulb derived from dew point (or RH) and station pressure, ASHRAE 2017 Fundamentals ch. 1",
    )
    return _weather(edges, end_s, dry_bulb_c, year.relative_humidity_pct[index], wet_bulb_c, pressure_pa,
                    year.source, notes)


# ---------------------------------------------------------------------------------------------------------
# Actual-time series (CSV, Open-Meteo JSON)
# ---------------------------------------------------------------------------------------------------------

CSV_COLUMNS_REQUIRED = ("timestamp", "dry_bulb_c", "relative_humidity_pct")
CSV_COLUMN_PRESSURE = "pressure_pa"


def _parse_utc(text: str, path: Path, line: int | None, what: str, offset_s: float = 0.0) -> float:
    try:
        instant = datetime.fromisoformat(text.strip())
    except ValueError:
        raise DataFileError(path, f"{what}: {text.strip()!r} is not an ISO 8601 timestamp", line) from None
    if instant.tzinfo is None:
        return instant.replace(tzinfo=timezone.utc).timestamp() - offset_s
    return instant.timestamp()


def _series_weather(
    path: Path,
    starts_s: np.ndarray,
    dry_bulb_c: np.ndarray,
    rh_pct: np.ndarray,
    pressure_pa: np.ndarray,
    notes: list[str],
    locate: Callable[[str, int], int | None],
) -> Weather:
    """Check and wrap actual-time series; `locate(quantity, index)` gives the file line of a value."""
    if starts_s.size < 2:
        raise DataFileError(path, f"need at least 2 rows to know the time step, found {starts_s.size}")
    steps = np.diff(starts_s)
    if np.any(steps <= 0):
        k = int(np.flatnonzero(steps <= 0)[0]) + 1
        raise DataFileError(path, "timestamps must be strictly increasing", locate("timestamp", k))
    for values, lo, hi, what, quantity in (
        (dry_bulb_c, MIN_OUTDOOR_DRY_BULB_C, MAX_OUTDOOR_DRY_BULB_C, "dry bulb [C]", "dry_bulb"),
        (rh_pct, 0.0, psy.PERCENT_PER_FRACTION, "relative humidity [%]", "relative_humidity"),
        (pressure_pa, MIN_STATION_PRESSURE_PA, MAX_STATION_PRESSURE_PA, "pressure [Pa]", "pressure"),
    ):
        bad = np.flatnonzero((values < lo) | (values > hi))
        if bad.size:
            k = int(bad[0])
            raise DataFileError(path, f"{what} {values[k]:g} outside [{lo:g}, {hi:g}]", locate(quantity, k))
    end_s = float(starts_s[-1] + steps[-1])
    wet_bulb_c = psy.wet_bulb_from_relative_humidity_c(dry_bulb_c, rh_pct, pressure_pa)
    notes = notes + ["wet bulb derived from RH and pressure, ASHRAE 2017 Fundamentals ch. 1"]
    return _weather(starts_s, end_s, dry_bulb_c, rh_pct, wet_bulb_c, pressure_pa, str(path), tuple(notes))


def read_weather_csv(path: str | Path, elevation_m: float = 0.0) -> Weather:
    """Read `timestamp,dry_bulb_c,relative_humidity_pct[,pressure_pa]` (UTC ISO 8601 timestamps).

    Each row's values hold from its timestamp until the next row's; the last row holds for the step before
    it. Without `pressure_pa` the standard atmosphere at `elevation_m` [m] is used (and noted).
    """
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise DataFileError(path, f"cannot read weather file: {exc.strerror or exc}") from None
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise DataFileError(path, "empty file; expected a header " + ",".join(CSV_COLUMNS_REQUIRED), 1)
        header = [h.strip() for h in header]
        missing = [c for c in CSV_COLUMNS_REQUIRED if c not in header]
        if missing:
            raise DataFileError(
                path, f"missing column(s) {', '.join(missing)}; header is {','.join(header)!r}, expected "
                f"{','.join(CSV_COLUMNS_REQUIRED)}[,{CSV_COLUMN_PRESSURE}]", 1)
        cols = {name: header.index(name) for name in CSV_COLUMNS_REQUIRED}
        has_pressure = CSV_COLUMN_PRESSURE in header
        if has_pressure:
            cols[CSV_COLUMN_PRESSURE] = header.index(CSV_COLUMN_PRESSURE)
        starts, db, rh, pr, lines = [], [], [], [], []
        for row in reader:
            line_no = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise DataFileError(path, f"row has {len(row)} fields, the header has {len(header)}", line_no)
            starts.append(_parse_utc(row[cols["timestamp"]], path, line_no, "timestamp"))
            db.append(_parse_float(row[cols["dry_bulb_c"]], path, line_no, "dry_bulb_c"))
            rh.append(_parse_float(row[cols["relative_humidity_pct"]], path, line_no, "relative_humidity_pct"))
            if has_pressure:
                pr.append(_parse_float(row[cols[CSV_COLUMN_PRESSURE]], path, line_no, CSV_COLUMN_PRESSURE))
            lines.append(line_no)
    notes = ["CSV, each row holds from its UTC timestamp until the next"]
    if has_pressure:
        pressure = np.asarray(pr)
    else:
        pressure = np.full(len(starts), psy.standard_atmosphere_pressure_pa(elevation_m))
        notes.append(f"no pressure column: standard atmosphere at {elevation_m:g} m")
    return _series_weather(path, np.asarray(starts), np.asarray(db), np.asarray(rh), pressure, notes,
                           lambda _quantity, k: lines[k])


def _json_array_element_line(text: str, key: str, index: int) -> int | None:
    """Line number of element `index` of the array under `"key": [` (for error messages)."""
    match = re.search(r'"%s"\s*:\s*\[' % re.escape(key), text)
    if match is None:
        return None
    pos, depth, count = match.end(), 0, 0
    while pos < len(text) and count < index:
        ch = text[pos]
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            if depth == 0:
                return None
            depth -= 1
        elif ch == "," and depth == 0:
            count += 1
        pos += 1
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return text.count("\n", 0, pos) + 1


def read_openmeteo_json(path: str | Path) -> Weather:
    """Read an Open-Meteo Historical Weather API response with hourly temperature_2m and relative_humidity_2m.

    `hourly.time` is local time at the fixed offset `utc_offset_seconds`; UTC = time - offset. No pressure in
    the response: the standard atmosphere at `elevation` [m] (ASHRAE 2017 ch. 1 eq. 3).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataFileError(path, f"cannot read weather file: {exc.strerror or exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFileError(path, f"not valid JSON: {exc.msg}", exc.lineno) from None
    if not isinstance(doc, dict):
        raise DataFileError(path, "expected a JSON object (an Open-Meteo response)", 1)
    for key in ("utc_offset_seconds", "elevation", "hourly"):
        if key not in doc:
            raise DataFileError(path, f"missing key {key!r} of an Open-Meteo response")
    hourly = doc["hourly"]
    for key in ("time", "temperature_2m", "relative_humidity_2m"):
        if not isinstance(hourly, dict) or not isinstance(hourly.get(key), list):
            raise DataFileError(path, f"missing array 'hourly.{key}'")
    times = hourly["time"]
    n = len(times)
    offset_s = float(doc["utc_offset_seconds"])
    elevation_m = float(doc["elevation"])

    def numbers(key: str) -> np.ndarray:
        values = hourly[key]
        if len(values) != n:
            raise DataFileError(path, f"'hourly.{key}' has {len(values)} values, 'hourly.time' has {n}",
                                _json_array_element_line(text, key, min(len(values), n)))
        for i, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise DataFileError(path, f"'hourly.{key}'[{i}] = {v!r} is not a number",
                                    _json_array_element_line(text, key, i))
        return np.asarray(values, dtype=float)

    dry_bulb_c = numbers("temperature_2m")
    rh_pct = numbers("relative_humidity_2m")
    starts = np.empty(n)
    for i, t in enumerate(times):
        if not isinstance(t, str):
            raise DataFileError(path, f"'hourly.time'[{i}] = {t!r} is not a timestamp",
                                _json_array_element_line(text, "time", i))
        try:
            starts[i] = _parse_utc(t, path, None, "hourly.time", offset_s)
        except DataFileError:
            starts[i] = _parse_utc(t, path, _json_array_element_line(text, "time", i), f"hourly.time[{i}]", offset_s)
    keys = {"timestamp": "time", "dry_bulb": "temperature_2m", "relative_humidity": "relative_humidity_2m"}

    def locate(quantity: str, k: int) -> int | None:
        return _json_array_element_line(text, keys[quantity], k) if quantity in keys else None

    pressure = np.full(n, psy.standard_atmosphere_pressure_pa(elevation_m))
    notes = [
        f"Open-Meteo hourly, local time at fixed UTC offset {offset_s:+g} s; each value holds for the hour after it",
        f"no pressure in the response: standard atmosphere at the response elevation {elevation_m:g} m",
    ]
    return _series_weather(path, starts, dry_bulb_c, rh_pct, pressure, notes, locate)


def window(weather: Weather, start: datetime, end: datetime) -> Weather:
    """The part of actual-time weather inside [start, end); the window must lie within the data's span."""
    start_s, end_s = to_epoch_s(start), to_epoch_s(end)
    if not end_s > start_s:
        raise SimInputError(f"weather window end {end} must be after its start {start}")
    if start_s < weather.start_epoch_s or end_s > weather.end_epoch_s:
        raise SimInputError(
            f"{weather.source}: the weather covers {_iso(weather.start_epoch_s)} to {_iso(weather.end_epoch_s)} "
            f"UTC, not the whole window {_iso(start_s)} to {_iso(end_s)}; use a file for those dates, an EPW "
            "typical year, or a built-in climate")
    edges = weather.dry_bulb_c.edges_epoch_s
    lo = int(np.searchsorted(edges, start_s, side="right")) - 1
    hi = int(np.searchsorted(edges, end_s, side="left"))
    new_edges = edges[lo:hi].copy()
    new_edges[0] = start_s

    def cut(s: StepSeries) -> np.ndarray:
        return s.values[lo:hi]

    return _weather(new_edges, end_s, cut(weather.dry_bulb_c), cut(weather.relative_humidity_pct),
                    cut(weather.wet_bulb_c), cut(weather.pressure_pa), weather.source, weather.notes)


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")


# ---------------------------------------------------------------------------------------------------------
# Built-in climates
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClimateModel:
    """Seasonal + diurnal sinusoid of the dry bulb and a seasonal sinusoid of the dew point.

    dry_bulb(t) = mean - seasonal_amplitude cos(2 pi (day - coldest_day) / 365)
                       - diurnal_amplitude cos(2 pi (hour - coldest_hour) / 24)
    dew_point(t) = dew_point_mean - dew_point_amplitude cos(2 pi (day - driest_day) / 365), capped at dry_bulb
    with `day` the fractional day of the year from Jan 1 00:00 and `hour` the hour of the day, both in local
    standard time (UTC + utc_offset_h). Pressure: standard atmosphere at `elevation_m`.
    """

    name: str
    mean_dry_bulb_c: float
    seasonal_amplitude_k: float
    coldest_day_of_year: float
    diurnal_amplitude_k: float
    coldest_hour_local: float
    mean_dew_point_c: float
    dew_point_amplitude_k: float
    driest_day_of_year: float
    utc_offset_h: float
    elevation_m: float
    source: str

    def evaluate(self, local_standard_epoch_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Dry bulb [C] and dew point [C] at instants given as local-standard seconds since 1970."""
        t_s = np.asarray(local_standard_epoch_s, dtype=float)
        day = _day_of_year(t_s)
        hour = np.mod(t_s, S_PER_DAY) / S_PER_H
        season = 2.0 * np.pi * (day - self.coldest_day_of_year) / DAYS_PER_TYPICAL_YEAR
        daily = 2.0 * np.pi * (hour - self.coldest_hour_local) / HOURS_PER_DAY
        dry_bulb_c = (self.mean_dry_bulb_c - self.seasonal_amplitude_k * np.cos(season)
                      - self.diurnal_amplitude_k * np.cos(daily))
        dew_season = 2.0 * np.pi * (day - self.driest_day_of_year) / DAYS_PER_TYPICAL_YEAR
        dew_point_c = self.mean_dew_point_c - self.dew_point_amplitude_k * np.cos(dew_season)
        return dry_bulb_c, np.minimum(dew_point_c, dry_bulb_c)


def _day_of_year(local_epoch_s: np.ndarray) -> np.ndarray:
    """Fractional day of the year (0 at Jan 1 00:00) of local instants given in seconds since 1970."""
    seconds = np.asarray(local_epoch_s, dtype=float)
    whole = np.floor(seconds).astype("int64").astype("datetime64[s]")
    year_start = whole.astype("datetime64[Y]").astype("datetime64[s]").astype("int64")
    return (seconds - year_start) / S_PER_DAY


def fit_climate_model(
    name: str,
    dry_bulb_c: np.ndarray,
    dew_point_c: np.ndarray,
    midpoint_local_epoch_s: np.ndarray,
    utc_offset_h: float,
    elevation_m: float,
    source: str,
) -> ClimateModel:
    """Least-squares fit of `ClimateModel` to hourly data (first harmonics of the year and of the day).

    T = a0 + a1 cos(w_y d) + b1 sin(w_y d) + a2 cos(w_d h) + b2 sin(w_d h); amplitude sqrt(a^2 + b^2), and the
    minimum at the phase atan2(-b, -a). The mean is the data's mean exactly (the intercept of the fit).
    """
    day = _day_of_year(midpoint_local_epoch_s)
    hour = np.mod(np.asarray(midpoint_local_epoch_s, dtype=float), S_PER_DAY) / S_PER_H
    wy = 2.0 * np.pi * day / DAYS_PER_TYPICAL_YEAR
    wd = 2.0 * np.pi * hour / HOURS_PER_DAY
    design = np.column_stack((np.ones_like(wy), np.cos(wy), np.sin(wy), np.cos(wd), np.sin(wd)))
    coef_t, *_ = np.linalg.lstsq(design, np.asarray(dry_bulb_c, dtype=float), rcond=None)
    coef_dp, *_ = np.linalg.lstsq(design[:, :3], np.asarray(dew_point_c, dtype=float), rcond=None)

    def amplitude_and_minimum(a: float, b: float, period: float) -> tuple[float, float]:
        return float(math.hypot(a, b)), float(math.atan2(-b, -a) / (2.0 * np.pi) * period % period)

    seasonal_k, coldest_day = amplitude_and_minimum(coef_t[1], coef_t[2], DAYS_PER_TYPICAL_YEAR)
    diurnal_k, coldest_hour = amplitude_and_minimum(coef_t[3], coef_t[4], HOURS_PER_DAY)
    dew_k, driest_day = amplitude_and_minimum(coef_dp[1], coef_dp[2], DAYS_PER_TYPICAL_YEAR)
    return ClimateModel(name, float(coef_t[0]), seasonal_k, coldest_day, diurnal_k, coldest_hour,
                        float(coef_dp[0]), dew_k, driest_day, utc_offset_h, elevation_m, source)


def fit_climate_model_to_file(name: str, path: str | Path) -> ClimateModel:
    """`fit_climate_model` on an EPW typical year or an Open-Meteo JSON year (how `CLIMATES` was made).

    Each hourly value is placed at the middle of the hour it covers, in local standard time; the dew point is
    recovered from the vapour pressure (EPW) or from RH and dry bulb (Open-Meteo).
    """
    path = Path(path)
    if path.suffix.lower() == ".epw":
        year = read_epw(path)
        # Local standard seconds of each record's mid-hour in a non-leap year (1970 is one).
        mid_local_s = (np.arange(HOURS_PER_TYPICAL_YEAR) + 0.5) * S_PER_H
        dew_point_c = psy.dew_point_from_vapour_pressure_c(year.vapour_pressure_pa)
        return fit_climate_model(name, year.dry_bulb_c, dew_point_c, mid_local_s, year.utc_offset_h,
                                 year.elevation_m, str(path.name))
    weather = read_openmeteo_json(path)
    offset_s = float(json.loads(path.read_text(encoding="utf-8"))["utc_offset_seconds"])
    edges = weather.dry_bulb_c.edges_epoch_s
    mid_local_s = 0.5 * (edges + np.append(edges[1:], weather.end_epoch_s)) + offset_s
    vapour_pa = psy.vapour_pressure_from_relative_humidity_pa(weather.dry_bulb_c.values,
                                                              weather.relative_humidity_pct.values)
    dew_point_c = psy.dew_point_from_vapour_pressure_c(np.maximum(vapour_pa, 1e-3))
    elevation_m = float(json.loads(path.read_text(encoding="utf-8"))["elevation"])
    return fit_climate_model(name, weather.dry_bulb_c.values, dew_point_c, mid_local_s, offset_s / S_PER_H,
                             elevation_m, str(path.name))


# Parameters from `fit_climate_model` on the real hourly files of ../shared/data (tests/test_weather.py refits
# them and checks these numbers), rounded to 0.1 K, 0.1 day and 0.1 h.
CLIMATES: Mapping[str, ClimateModel] = MappingProxyType({
    "hot_dry": ClimateModel(
        "hot_dry", 23.8, 11.7, 15.9, 5.5, 3.7, 4.7, 6.0, 40.9, -7.0, 337.0,
        "fitted to NREL TMY3 Phoenix Sky Harbor (WMO 722780) EPW, USA_AZ_Phoenix-Sky.Harbor.Intl.AP.722780_TMY3.epw"),
    "temperate": ClimateModel(
        "temperate", 12.7, 12.1, 16.0, 4.5, 2.4, 6.4, 12.8, 20.5, -5.0, 82.0,
        "fitted to NREL TMY3 Washington Dulles (WMO 724030) EPW, USA_VA_Sterling-Washington.Dulles.Intl.AP.724030_TMY3.epw"),
    "cold": ClimateModel(
        "cold", 7.7, 16.1, 12.8, 3.3, 2.9, 1.3, 15.0, 17.8, -6.0, 254.0,
        "fitted to NREL TMY3 Minneapolis-St Paul (WMO 726580) EPW, USA_MN_Minneapolis-St.Paul.Intl.AP.726580_TMY3.epw"),
    "mild_coastal": ClimateModel(
        "mild_coastal", 14.9, 5.8, 41.3, 4.5, 4.0, 8.7, 3.9, 40.1, -7.0, 7.0,
        "fitted to Open-Meteo (ERA5) 2023 hourly San Jose, CA, openmeteo_US-CAL-CISO_SanJose_2023.json"),
})


def climate_weather(climate: str | ClimateModel, start: datetime, end: datetime) -> Weather:
    """Weather of a built-in climate over [start, end): hourly steps (local standard hours), values at mid-step."""
    if isinstance(climate, str):
        if climate not in CLIMATES:
            raise SimInputError(f"unknown climate {climate!r}; expected one of {', '.join(sorted(CLIMATES))}")
        model = CLIMATES[climate]
    else:
        model = climate
    start_s, end_s = to_epoch_s(start), to_epoch_s(end)
    offset_s = model.utc_offset_h * S_PER_H
    edges = _hour_grid(start_s, end_s, offset_s)
    mid_s = 0.5 * (edges + np.append(edges[1:], end_s))
    dry_bulb_c, dew_point_c = model.evaluate(mid_s + offset_s)
    pressure_pa = np.full(edges.size, psy.standard_atmosphere_pressure_pa(model.elevation_m))
    rh_pct = psy.relative_humidity_from_dew_point_pct(dry_bulb_c, dew_point_c)
    wet_bulb_c = psy.wet_bulb_from_dew_point_c(dry_bulb_c, dew_point_c, pressure_pa)
    notes = (
        f"built-in climate {model.name!r}: seasonal + diurnal sinusoid {model.source}",
        f"pressure: standard atmosphere at {model.elevation_m:g} m; wet bulb from the modelled dew point",
    )
    return _weather(edges, end_s, dry_bulb_c, rh_pct, wet_bulb_c, pressure_pa, f"climate:{model.name}", notes)


def load_weather(
    path: str | Path | None,
    start: datetime,
    end: datetime,
    climate: str = "temperate",
    elevation_m: float = 0.0,
) -> Weather:
    """Weather over [start, end) from a file (.epw, .csv, .json) or, with no path, the built-in `climate`.

    EPW typical years are mapped onto the window (and tiled); CSV and Open-Meteo JSON must cover it.
    `elevation_m` only serves a CSV without a pressure column.
    """
    if path is None:
        return climate_weather(climate, start, end)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".epw":
        return typical_year_weather(read_epw(path), start, end)
    if suffix == ".csv":
        return window(read_weather_csv(path, elevation_m), start, end)
    if suffix == ".json":
        return window(read_openmeteo_json(path), start, end)
    raise DataFileError(path, f"unknown weather file type {suffix!r}; expected .epw, .csv or .json")
