"""Readers of grid signal files (carbon intensity, and any other timestamp/value signal) into StepSeries.

Formats (``format=``):

- ``"electricitymaps"``: the Electricity Maps Data Portal yearly CSV export (e.g. ``FR_2023_hourly.csv``).
  Column ``Datetime (UTC)``, hour-BEGINNING labels; ``column="lca"`` (default) reads
  ``Carbon Intensity gCO₂eq/kWh (LCA)``, ``column="direct"`` reads ``... (direct)``.
- ``"eia930"``: EIA-930 derived hourly files as in HewlettPackard/dc-rl (``MISO_NG_avgCI_2022.csv``):
  column ``timestamp`` (UTC with offset), value column ``avg_CI`` by default. EIA-930 labels are
  hour-ENDING: the value stamped ``t`` covers ``[t - 1 h, t)``, so it is placed one step earlier.
- ``"csv"``: generic CSV. The timestamp column is the one named ``timestamp``/``time``/``datetime``/``date``
  (any case), else the first column; the value column is ``column=``, else ``value``, else the only other
  column (so ``Time,DE`` files such as ``DE_2020_15min_carbon_intensity.csv`` read as they are).
- ``"parquet"``: the same two-column convention in a Parquet file (timestamp column of timestamp or
  string type).
- ``"auto"`` (default): ``.parquet``/``.pq`` -> parquet; a CSV header holding the Electricity Maps LCA
  column -> electricitymaps; a header holding ``avg_CI`` -> eia930; otherwise generic csv.

Rules (each application is written into the StepSeries ``notes``):

- Time: ISO 8601 timestamps. Those carrying an offset are used as they are. Naive ones are UTC unless
  ``timezone=`` is given (an IANA name such as ``"Europe/Berlin"`` or a fixed offset ``"+01:00"``); local
  times are converted with ``zoneinfo``. DST: a local time that occurs twice (the fall-back hour) is
  read as its first occurrence (summer time, ``fold=0``) until the file's clock goes back, after which
  the repeated local times are read as the second occurrence (``fold=1``); a local time that does not
  exist (the spring-forward hour) is refused, since no instant can be assigned to it.
- Labels: ``label="start"`` (hour-beginning) or ``"end"`` (hour-ending: each value covers the interval
  up to its timestamp, so every value moves one interval earlier). The last value of a start-labelled
  file holds for as long as the interval before it.
- Ordering: timestamps must be strictly increasing after conversion to UTC; a duplicate or a step
  back is refused with both lines named.
- Resolution: steps may vary (hourly, 15 min, mixed). An interval is a GAP (missing rows) when it is at
  least 1.5 times the local step, the commonest interval among the 6 on either side of it (ties: the
  shorter); the missing instants are put back at the local step. Limit: where most points of a
  stretch are missing in alternation (every other 15-min point for hours), the stretch reads as a
  coarser resolution and its values are held, not interpolated.
- Blanks and gaps are filled by LINEAR INTERPOLATION IN TIME between the nearest valid values before
  and after. A run of missing data longer than ``max_gap_s`` (default 6 h) is refused. Blank rows at the
  very start or end of the file are dropped (the span shrinks), never invented.
- Values must be finite and (unless ``allow_negative=True``, e.g. for prices) not negative; at least two
  valid rows are needed to know how long the last value holds.

Every error is a DataFileError naming the file, the line (row for Parquet), the value and what was
expected.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone as dt_timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from sim.errors import DataFileError
from sim.timeseries.series import StepSeries, from_epoch_s
from sim.units import S_PER_DAY, S_PER_H, S_PER_MIN

CARBON_INTENSITY_NAME = "carbon_intensity_g_per_kwh"
CARBON_INTENSITY_UNIT = "gCO2e/kWh"

# Assumed, not from a source: the longest run of missing data interpolated rather than refused. Long
# enough for the real outages in the shared files (at most 2 h, MISO 2022-06-09), short enough that a
# missing day is refused instead of being made up.
DEFAULT_MAX_GAP_S = 6.0 * S_PER_H

# An interval at least this many times the local step is missing rows (a single
# missing point doubles the interval); a resolution change (15 min -> 1 h) is not.
GAP_FACTOR = 1.5

# Intervals on either side looked at to learn the local step of a file whose resolution varies.
LOCAL_WINDOW = 6

MIN_ROWS = 2

FORMATS = ("auto", "electricitymaps", "eia930", "csv", "parquet")

EMAPS_TIME_COLUMN = "Datetime (UTC)"
EMAPS_COLUMNS = {
    "lca": "Carbon Intensity gCO₂eq/kWh (LCA)",
    "direct": "Carbon Intensity gCO₂eq/kWh (direct)",
}
EIA930_TIME_COLUMN = "timestamp"
EIA930_VALUE_COLUMN = "avg_CI"
GENERIC_TIME_COLUMNS = ("timestamp", "time", "datetime", "date", "datetime (utc)")

_MAX_LISTED = 10
_OFFSET_RE = re.compile(r"^(?:UTC)?([+-])(\d{1,2}):?(\d{2})?$", re.IGNORECASE)


@dataclass(frozen=True)
class _RawRows:
    """Rows as read from a file: timestamps as text or datetime, values with NaN for blanks."""

    stamps: list[object]
    values: np.ndarray
    lines: np.ndarray
    where: str  # "line" for text files, "row" for Parquet


def read_signal(
    path: str | Path,
    *,
    format: str = "auto",
    column: str | None = None,
    timezone: str | None = None,
    label: str | None = None,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    allow_negative: bool = False,
    name: str = CARBON_INTENSITY_NAME,
    unit: str = CARBON_INTENSITY_UNIT,
) -> StepSeries:
    """Read a signal file into a step-hold StepSeries on UTC epoch seconds.

    `format`: one of FORMATS (see the module docstring). `column`: ``"lca"``/``"direct"`` for Electricity
    Maps files, else the value column's name. `timezone`: the zone of naive timestamps (default UTC).
    `label`: ``"start"`` or ``"end"``; default ``"end"`` for eia930 and ``"start"`` otherwise.
    `max_gap_s` [s]: longest run of missing data that is filled. `allow_negative`: accept values < 0.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError(path, "file not found (expected a grid signal file: CSV or Parquet)")
    if format not in FORMATS:
        raise DataFileError(path, f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
    tz = _parse_timezone(path, timezone)
    fmt = _detect_format(path) if format == "auto" else format

    notes: list[str] = []
    if fmt == "parquet":
        raw = _read_parquet(path, column)
    else:
        header, rows = _read_csv_rows(path)
        if fmt == "electricitymaps":
            raw = _emaps_rows(path, header, rows, column)
            tz = None  # the column is "Datetime (UTC)": a timezone= cannot apply
            notes.append(
                f"Electricity Maps export, {_emaps_column_key(column)} column, hour-beginning UTC labels"
            )
        elif fmt == "eia930":
            raw = _columns_rows(path, header, rows, EIA930_TIME_COLUMN, column or EIA930_VALUE_COLUMN)
        else:
            time_col = _generic_time_column(header)
            raw = _columns_rows(path, header, rows, time_col, _generic_value_column(path, header, time_col, column))

    if label is None:
        label = "end" if fmt == "eia930" else "start"
    if label not in ("start", "end"):
        raise DataFileError(path, f"unknown label {label!r}; expected 'start' or 'end'")

    _check_values(path, raw, allow_negative)
    epoch_s, tz_notes = _to_epoch_s(path, raw, tz)
    notes.extend(tz_notes)
    _check_increasing(path, raw, epoch_s)

    epoch_s, values, lines, fill_notes = _fill_missing(path, raw, epoch_s, max_gap_s)
    notes.extend(fill_notes)
    if values.size < MIN_ROWS:
        raise DataFileError(
            path, f"{values.size} valid row(s); expected at least {MIN_ROWS} to know how long each value holds"
        )

    steps_s = np.diff(epoch_s)
    if label == "end":
        edges_s = np.concatenate(([epoch_s[0] - steps_s[0]], epoch_s[:-1]))
        end_s = float(epoch_s[-1])
        notes.append(
            "interval-ending labels: each value covers the interval before its timestamp "
            f"(placed {steps_s[0] / S_PER_H:g} h earlier at the first row)"
        )
    else:
        edges_s = epoch_s
        end_s = float(epoch_s[-1] + steps_s[-1])
    return StepSeries(
        name=name,
        unit=unit,
        edges_epoch_s=edges_s,
        values=values,
        end_epoch_s=end_s,
        source=str(path),
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------------------------- parsing


def _at(path: Path, where: str, number: int, message: str) -> DataFileError:
    """An error at a line of a text file (path:line: ...) or a row of a Parquet file (path: row N: ...)."""
    if where == "line":
        return DataFileError(path, message, number)
    return DataFileError(path, f"{where} {number}: {message}")


def _detect_format(path: Path) -> str:
    if path.suffix.lower() in (".parquet", ".pq"):
        return "parquet"
    header, _ = _read_csv_rows(path, header_only=True)
    if EMAPS_COLUMNS["lca"] in header:
        return "electricitymaps"
    if EIA930_VALUE_COLUMN in header:
        return "eia930"
    return "csv"


def _read_csv_rows(path: Path, header_only: bool = False) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise DataFileError(path, "empty file; expected a header line and data rows", 1)
            header = [h.strip() for h in header]
            if header_only:
                return header, []
            rows = [(reader.line_num, row) for row in reader if row and any(cell.strip() for cell in row)]
    except UnicodeDecodeError as exc:
        raise DataFileError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start}); expected a CSV file")
    return header, rows


def _emaps_column_key(column: str | None) -> str:
    return "lca" if column is None else column


def _emaps_rows(path: Path, header: list[str], rows: list, column: str | None) -> _RawRows:
    key = _emaps_column_key(column)
    value_col = EMAPS_COLUMNS.get(key.lower(), key)
    return _columns_rows(path, header, rows, EMAPS_TIME_COLUMN, value_col)


def _generic_time_column(header: list[str]) -> str:
    for h in header:
        if h.lower() in GENERIC_TIME_COLUMNS:
            return h
    return header[0]


def _generic_value_column(path: Path, header: list[str], time_col: str, column: str | None) -> str:
    if column is not None:
        return column
    if "value" in header:
        return "value"
    others = [h for h in header if h != time_col]
    if len(others) == 1:
        return others[0]
    raise DataFileError(
        path,
        f"cannot tell the value column among {others}; expected a 'value' column or column= naming one",
        1,
    )


def _column_index(path: Path, header: list[str], col: str) -> int:
    if col not in header:
        raise DataFileError(path, f"missing column {col!r}; the header has {header}", 1)
    return header.index(col)


def _parse_number(path: Path, text: str, line: int, where: str) -> float:
    text = text.strip()
    if text == "":
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise _at(path, where, line, f"value {text!r} is not a number; expected a number or blank") from None


def _columns_rows(path: Path, header: list[str], rows: list, time_col: str, value_col: str) -> _RawRows:
    ti = _column_index(path, header, time_col)
    vi = _column_index(path, header, value_col)
    stamps: list[object] = []
    values = np.empty(len(rows))
    lines = np.empty(len(rows), dtype=np.int64)
    for k, (line, row) in enumerate(rows):
        if len(row) <= max(ti, vi):
            raise _at(path, "line", line, f"{len(row)} field(s); expected {len(header)} as in the header")
        stamps.append(row[ti].strip())
        values[k] = _parse_number(path, row[vi], line, "line")
        lines[k] = line
    return _RawRows(stamps, values, lines, "line")


def _read_parquet(path: Path, column: str | None) -> _RawRows:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise DataFileError(path, f"not a readable Parquet file ({exc}); expected timestamp,value columns") from None
    header = list(table.column_names)
    time_col = _generic_time_column(header)
    value_col = _generic_value_column(path, header, time_col, column)
    _column_index(path, header, value_col)
    stamps = table.column(time_col).to_pylist()
    raw_values = table.column(value_col).to_pylist()
    values = np.empty(len(raw_values))
    for k, v in enumerate(raw_values):
        if v is None:
            values[k] = math.nan
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            values[k] = float(v)
        else:
            values[k] = _parse_number(path, str(v), k + 1, "row")
    return _RawRows(stamps, values, np.arange(1, len(values) + 1), "row")


def _check_values(path: Path, raw: _RawRows, allow_negative: bool) -> None:
    bad = np.isinf(raw.values)
    if not allow_negative:
        bad |= raw.values < 0
    if np.any(bad):
        k = int(np.argmax(bad))
        line = int(raw.lines[k])
        expected = "a finite number" if allow_negative else "a finite intensity >= 0"
        raise _at(path, raw.where, line, f"value {float(raw.values[k])!r}; expected {expected}")


# ------------------------------------------------------------------------------------------------ time


def _parse_timezone(path: Path, name: str | None) -> tzinfo | None:
    if name is None:
        return None
    match = _OFFSET_RE.match(name.strip())
    if match:
        sign = 1 if match.group(1) == "+" else -1
        offset = timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0))
        return dt_timezone(sign * offset)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DataFileError(
            path, f"unknown timezone {name!r}; expected an IANA name like 'Europe/Berlin' or an offset like '+01:00'"
        ) from None


def _parse_stamp(path: Path, stamp: object, line: int, where: str) -> datetime:
    if isinstance(stamp, datetime):
        return stamp
    if hasattr(stamp, "to_pydatetime"):
        return stamp.to_pydatetime()
    text = str(stamp).strip()
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise _at(path, where, line, f"timestamp {text!r}; expected ISO 8601 like 2023-01-01 00:00:00") from None


def _is_nonexistent(local: datetime, tz: tzinfo) -> bool:
    aware = local.replace(tzinfo=tz, fold=0)
    back = aware.astimezone(dt_timezone.utc).astimezone(tz).replace(tzinfo=None)
    return back != local.replace(fold=0)


def _is_ambiguous(local: datetime, tz: tzinfo) -> bool:
    return local.replace(tzinfo=tz, fold=0).utcoffset() != local.replace(tzinfo=tz, fold=1).utcoffset()


def _to_epoch_s(path: Path, raw: _RawRows, tz: tzinfo | None) -> tuple[np.ndarray, list[str]]:
    """UTC epoch seconds of each row, by the DST rule in the module docstring."""
    out = np.empty(len(raw.stamps))
    notes: list[str] = []
    n_local = 0
    second_pass_lines: list[int] = []
    previous_local: datetime | None = None
    repeating = False
    for k, stamp in enumerate(raw.stamps):
        line = int(raw.lines[k])
        instant = _parse_stamp(path, stamp, line, raw.where)
        if instant.tzinfo is not None:
            out[k] = instant.timestamp()
            continue
        if tz is None:
            out[k] = instant.replace(tzinfo=dt_timezone.utc).timestamp()
            continue
        n_local += 1
        if _is_nonexistent(instant, tz):
            raise _at(
                path,
                raw.where,
                line,
                f"local time {instant.isoformat(sep=' ')} does not exist in {tz} "
                "(clocks jump forward there); expected a time that occurs on the wall clock",
            )
        fold = 0
        if _is_ambiguous(instant, tz):
            # First occurrence = summer time; once the file's clock steps back, the second one.
            if previous_local is not None and instant <= previous_local:
                repeating = True
            if repeating:
                fold = 1
                second_pass_lines.append(line)
        else:
            repeating = False
        out[k] = instant.replace(tzinfo=tz, fold=fold).timestamp()
        previous_local = instant
    if n_local:
        note = f"{n_local} naive timestamps read as local time in {tz} and converted to UTC"
        if second_pass_lines:
            note += (
                f"; {len(second_pass_lines)} repeated fall-back local times read as standard time "
                f"(second occurrence), lines {_list_lines(second_pass_lines)}"
            )
        notes.append(note)
    return out, notes


def _list_lines(lines: list[int]) -> str:
    shown = ", ".join(str(x) for x in lines[:_MAX_LISTED])
    return shown + (f" and {len(lines) - _MAX_LISTED} more" if len(lines) > _MAX_LISTED else "")


def _check_increasing(path: Path, raw: _RawRows, epoch_s: np.ndarray) -> None:
    d = np.diff(epoch_s)
    if np.any(d <= 0):
        k = int(np.argmax(d <= 0))
        a, b = int(raw.lines[k]), int(raw.lines[k + 1])
        what = "duplicates" if d[k] == 0 else "goes back before"
        raise _at(
            path,
            raw.where,
            b,
            f"timestamp {_iso(epoch_s[k + 1])} {what} {raw.where} {a} ({_iso(epoch_s[k])}); "
            "expected strictly increasing timestamps",
        )


def _iso(epoch_s: float) -> str:
    return from_epoch_s(float(epoch_s)).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------------------------------ gaps


def _local_step_s(intervals_s: np.ndarray, i: int) -> float:
    """The commonest interval among the LOCAL_WINDOW intervals on either side of interval `i` and itself
    (ties: the shorter). A lone missing point, or several in alternation, leaves the commonest interval
    at the file's step; a change of resolution does not look like a gap, since the new step is as common
    on its side as the old one on the other."""
    window = intervals_s[max(i - LOCAL_WINDOW, 0) : i + LOCAL_WINDOW + 1]
    steps, counts = np.unique(window, return_counts=True)
    return float(steps[int(np.argmax(counts))])  # np.unique sorts, argmax takes the first (shortest) tie


def _fill_missing(
    path: Path, raw: _RawRows, epoch_s: np.ndarray, max_gap_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Insert the instants of missing rows, then fill every NaN by linear interpolation in time."""
    notes: list[str] = []
    values = raw.values.copy()
    lines = raw.lines.copy()
    inserted = np.zeros(values.size, dtype=bool)
    where = raw.where

    # Blank rows at either end are dropped: nothing to interpolate from on one side.
    valid = ~np.isnan(values)
    if not np.any(valid):
        raise DataFileError(path, f"no numeric values in {values.size} row(s); expected at least {MIN_ROWS}")
    first, last = int(np.argmax(valid)), int(values.size - 1 - np.argmax(valid[::-1]))
    if first > 0 or last < values.size - 1:
        notes.append(
            f"{first + values.size - 1 - last} blank row(s) at the start/end dropped; "
            f"the series spans {where}s {int(lines[first])}-{int(lines[last])}"
        )
        epoch_s, values, lines = epoch_s[first : last + 1], values[first : last + 1], lines[first : last + 1]
        inserted = inserted[first : last + 1]

    # Missing rows: an interval >= GAP_FACTOR x the local step (the commonest interval around it).
    d = np.diff(epoch_s)
    inserts_t: list[np.ndarray] = []
    inserts_at: list[int] = []
    missing_runs: list[tuple[int, int, float]] = []  # (line before, count, step)
    candidates = np.flatnonzero(d >= GAP_FACTOR * d.min()) if d.size else np.array([], dtype=int)
    for i in candidates:
        step = _local_step_s(d, int(i))
        if d[i] >= GAP_FACTOR * step:
            count = int(round(d[i] / step)) - 1
            inserts_t.append(epoch_s[i] + step * np.arange(1, count + 1))
            inserts_at.append(int(i) + 1)
            missing_runs.append((int(lines[i]), count, step))
    if inserts_t:
        positions = np.concatenate([np.full(t.size, at) for t, at in zip(inserts_t, inserts_at)])
        new_t = np.concatenate(inserts_t)
        epoch_s = np.insert(epoch_s, positions, new_t)
        values = np.insert(values, positions, np.nan)
        inserted = np.insert(inserted, positions, True)
        lines = np.insert(lines, positions, np.repeat([r[0] for r in missing_runs], [r[1] for r in missing_runs]))
        total = sum(r[1] for r in missing_runs)
        listed = "; ".join(
            f"{r[1]} x {r[2] / S_PER_MIN:g} min after {where} {r[0]}" for r in missing_runs[:_MAX_LISTED]
        )
        more = f" and {len(missing_runs) - _MAX_LISTED} more gaps" if len(missing_runs) > _MAX_LISTED else ""
        notes.append(f"{total} missing timestamp(s) put back at the local step ({listed}{more})")

    # Fill NaN runs by linear interpolation in time between the valid neighbours.
    nan = np.isnan(values)
    if np.any(nan):
        starts = np.flatnonzero(nan & ~np.concatenate(([False], nan[:-1])))
        ends = np.flatnonzero(nan & ~np.concatenate((nan[1:], [False])))
        described = []
        for s, e in zip(starts, ends):
            p, q = s - 1, e + 1  # valid neighbours exist: the ends were trimmed above
            missing_s = epoch_s[q] - epoch_s[s]
            if missing_s > max_gap_s:
                raise _at(
                    path,
                    where,
                    int(lines[p]),
                    f"{missing_s / S_PER_H:g} h of missing data from {_iso(epoch_s[s])} to {_iso(epoch_s[q])}; "
                    f"expected gaps of at most {max_gap_s / S_PER_H:g} h (max_gap_s)",
                )
            frac = (epoch_s[s : e + 1] - epoch_s[p]) / (epoch_s[q] - epoch_s[p])
            values[s : e + 1] = values[p] + frac * (values[q] - values[p])
            origin = f"after {where} {int(lines[p])}" if inserted[s] else f"{where} {int(lines[s])}"
            described.append(f"{e - s + 1} from {_iso(epoch_s[s])} ({origin})")
        more = f" and {len(described) - _MAX_LISTED} more runs" if len(described) > _MAX_LISTED else ""
        notes.append(
            f"{int(nan.sum())} missing value(s) in {len(described)} run(s) filled by linear interpolation in time "
            f"between the neighbouring values: {'; '.join(described[:_MAX_LISTED])}{more}"
        )
    return epoch_s, values, lines, notes


# ------------------------------------------------------------------------------------------- extension

WEEK_S = 7.0 * S_PER_DAY


def cover_run(series: StepSeries, start_epoch_s: float, end_epoch_s: float) -> tuple[StepSeries, str | None]:
    """The series made to cover the run window [start, end) [UTC epoch s], and a warning when it was extended.

    Rules:
    - The run must START inside the file's span [first edge, end); otherwise DataFileError naming the span
      (a signal is never invented backwards).
    - If the run OUTLASTS the file, the file's last whole weeks are repeated: period = the span rounded
      down to whole weeks (364 days for a year file), and the value at t beyond the file's end is the
      value at t - k x period, for the smallest k that lands inside the file. Weekday and hour of day stay
      aligned (weekly and daily patterns, the solar dip, are kept); seasons drift by span - period (1 day
      per repeat of a 365-day year). A file shorter than one week cannot be repeated that way: its last
      value is held instead. Either way the returned warning says so, and it is added to the notes.
    - A constant series, or a run inside the span, comes back unchanged with no warning.
    """
    if series.is_constant:
        return series, None
    if end_epoch_s <= start_epoch_s:
        raise ValueError(f"run end {end_epoch_s} must be after its start {start_epoch_s}")
    span = f"{_iso(series.start_epoch_s)} to {_iso(series.end_epoch_s)}"
    if not series.start_epoch_s <= start_epoch_s < series.end_epoch_s:
        raise DataFileError(
            series.source or series.name,
            f"the run starts at {_iso(start_epoch_s)}, outside the {series.name} data, which spans {span}; "
            "expected a run start inside that span",
        )
    if end_epoch_s <= series.end_epoch_s:
        return series, None

    span_s = series.end_epoch_s - series.start_epoch_s
    period_s = math.floor(span_s / WEEK_S) * WEEK_S
    if period_s <= 0:
        edges, values = series.edges_epoch_s, series.values
        rule = f"its last value {series.values[-1]:g} {series.unit} is held (the file is shorter than a week)"
    else:
        seg_start = series.end_epoch_s - period_s
        seg_t, seg_v = series.steps_within(seg_start, series.end_epoch_s)
        repeats = math.ceil((end_epoch_s - series.end_epoch_s) / period_s)
        shifts = period_s * np.arange(1, repeats + 1)
        edges = np.concatenate([series.edges_epoch_s] + [seg_t + s for s in shifts])
        values = np.concatenate([series.values] + [seg_v] * repeats)
        drift_days = (span_s - period_s) / S_PER_DAY
        rule = (
            f"its last {period_s / WEEK_S:g} weeks ({period_s / S_PER_DAY:g} days) are repeated {repeats} time(s), "
            f"aligned by weekday and hour; seasons drift by {drift_days:g} day(s) per repeat"
        )
    keep = edges < end_epoch_s
    warning = (
        f"{series.name} from {series.source or 'its source'} covers {span} but the run ends {_iso(end_epoch_s)}: {rule}"
    )
    extended = StepSeries(
        name=series.name,
        unit=series.unit,
        edges_epoch_s=edges[keep],
        values=values[keep],
        end_epoch_s=float(end_epoch_s),
        source=series.source,
        notes=series.notes + (warning,),
    )
    return extended, warning
