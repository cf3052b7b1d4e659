"""Turns the meter's exact bins into time-series rows (kWh, kg) and streams them to Parquet."""

from __future__ import annotations

import functools
import math
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from typing import Callable

from sim.engine.meter import CARBON, IT_CHANNELS, BinRecord, EnergySignal
from sim.timeseries.series import to_epoch_s
from sim.units import J_PER_KWH, US_PER_S


# Columns that are not additive over rows (rates, ratios, means): never summed into totals.
_NOT_ADDITIVE_SUFFIXES = ("_per_kwh", "_per_mwh", "_c", "_pct")

@functools.lru_cache(maxsize=None)  # asked for every value of every row: memoised by column name
def _is_additive(name: str) -> bool:
    if name in ("timestamp", "pue"):
        return False
    if any(name.endswith(suffix) for suffix in _NOT_ADDITIVE_SUFFIXES):
        return False
    return not any(tag in name for tag in ("_p50", "_p90", "_p95", "_p99", "_mean", "_max", "_min"))


class CompensatedSum:
    """Neumaier summation: a running total whose rounding error does not grow with the row count."""

    __slots__ = ("total", "compensation")

    def __init__(self) -> None:
        self.total = 0.0
        self.compensation = 0.0

    def add(self, value: float) -> None:
        t = self.total + value
        if abs(self.total) >= abs(value):
            self.compensation += (self.total - t) + value
        else:
            self.compensation += (value - t) + self.total
        self.total = t

    @property
    def value(self) -> float:
        return self.total + self.compensation


ROWS_PER_ROW_GROUP = 8784  # a leap year of hourly rows: memory stays flat on year-long runs


class TimeseriesRecorder:
    """Receives closed bins from the meter; buffers rows; flushes row groups to a writer if given."""

    def __init__(
        self,
        start: datetime,
        part_names: tuple[str, ...] = (),
        signals: tuple[EnergySignal, ...] = (CARBON,),
    ):
        self.start = start
        self.part_names = part_names
        self._part_columns = tuple(f"cooling_{name}_kwh" for name in part_names)
        # Each row's cooling energy by part [J], made into columns only when the rows are read or written: one
        # numpy division for them all instead of a dict entry per part and row. Flat (row after row), so that a
        # year of rows holds floats, not 8,760 lists for the garbage collector to walk.
        self._pending_parts: list[float] = []
        self.signals = signals
        self._providers: list[tuple[tuple[str, ...], Callable[[float, float], dict]]] = []
        self._columns: dict[str, list] = {name: [] for name in self.column_names}
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self.rows = 0
        self._start_us = round(to_epoch_s(start) * US_PER_S)
        # Totals are summed from the same rounded kWh values that the rows hold, so the summary
        # equals the column sums.
        self.totals: dict[str, CompensatedSum] = {}
        self._additive: tuple[str, ...] | None = None
        self._rows_folded = 0  # buffered rows already added to `totals`

    @property
    def column_names(self) -> list[str]:
        names = ["timestamp", "interval_s", *(f"{c}_kwh" for c in IT_CHANNELS), "it_kwh", "cooling_kwh",
                 "power_loss_kwh", "misc_kwh", "facility_kwh", "pue", "ambient_c", "wet_bulb_c"]
        for signal in self.signals:
            names += [signal.rate_column, signal.amount_column]
        names.append("water_l")
        names += list(self._part_columns)
        for columns, _ in self._providers:
            names += list(columns)
        return names

    def add_provider(self, columns: tuple[str, ...], provider: Callable[[float, float], dict]) -> None:
        """Extra per-interval columns: `provider(start_s, end_s)` returns a value for each column name.

        Register before the run starts. Column names follow the unit-in-name rule; columns whose names end
        in a rate or mean suffix (`_per_kwh`, `_c`, `_pct`) or contain `_p50`/`_p99`... are not summed.
        """
        if self.rows:
            raise RuntimeError("providers must be registered before the first interval closes")
        self._providers.append((tuple(columns), provider))
        for name in columns:
            self._columns[name] = []

    def on_bin(self, b: BinRecord) -> None:
        row = self._row(b)
        for columns, provider in self._providers:
            values = provider(b.start_s, b.end_s)
            for name in columns:
                row[name] = values[name]
        if self._additive is None:
            self._additive = tuple(name for name in self._columns if _is_additive(name))
            self.totals = {name: CompensatedSum() for name in self._additive}
        columns = self._columns
        for name, value in row.items():
            columns[name].append(value)
        if self._part_columns:
            self._pending_parts.extend(b.part_energy_j)
        self.rows += 1
        if self._writer is not None and len(self._columns["timestamp"]) >= ROWS_PER_ROW_GROUP:
            self.flush()

    def _row(self, b: BinRecord) -> dict:
        interval_s = b.interval_s
        channel_kwh = [e / J_PER_KWH for e in b.channel_energy_j]
        it_kwh = math.fsum(channel_kwh)
        cooling_kwh = b.cooling_energy_j / J_PER_KWH
        loss_kwh = b.power_loss_energy_j / J_PER_KWH
        misc_kwh = b.misc_energy_j / J_PER_KWH
        facility_kwh = math.fsum((it_kwh, cooling_kwh, loss_kwh, misc_kwh))
        row = {
            "timestamp": self._start_us + round(b.start_s * US_PER_S),
            "interval_s": interval_s,
            **{f"{c}_kwh": v for c, v in zip(IT_CHANNELS, channel_kwh)},
            "it_kwh": it_kwh,
            "cooling_kwh": cooling_kwh,
            "power_loss_kwh": loss_kwh,
            "misc_kwh": misc_kwh,
            "facility_kwh": facility_kwh,
            "pue": facility_kwh / it_kwh if it_kwh > 0 else math.nan,
            "ambient_c": b.ambient_time_integral / interval_s,
            "wet_bulb_c": b.wet_bulb_time_integral / interval_s,
        }
        for signal in self.signals:
            energy_integral = b.signal_energy_integral[signal.key]
            # energy-weighted rate, so that amount = facility_kwh x rate holds row by row
            rate = energy_integral / facility_kwh if facility_kwh > 0 else b.signal_time_integral[signal.key] / interval_s
            row[signal.rate_column] = rate
            row[signal.amount_column] = energy_integral * signal.amount_per_rate_kwh
        row["water_l"] = b.water_l
        return row

    def _fold_totals(self) -> None:
        """Add the buffered rows not yet counted to the running totals: one exact fsum per column and
        flush instead of one addition per column and row (rows are cheap; totals are rarely read)."""
        if self._additive is None:
            return
        self._materialise_parts()
        first = self._rows_folded
        for name in self._additive:
            values = self._columns[name][first:] if first else self._columns[name]
            try:
                total = math.fsum(values)
            except TypeError:  # a provider left gaps (None) in this column: the generator only then
                total = math.fsum(v for v in values if v is not None)
            self.totals[name].add(total)
        self._rows_folded = len(self._columns["timestamp"])

    def total(self, column: str) -> float:
        self._fold_totals()
        accumulator = self.totals.get(column)
        return accumulator.value if accumulator is not None else 0.0

    # ------------------------------------------------------------------ arrow
    def _materialise_parts(self) -> None:
        """Append the pending rows' cooling energy by part to the part columns, in kWh."""
        if not self._pending_parts:
            return
        by_row = np.array(self._pending_parts, dtype=np.float64).reshape(-1, len(self._part_columns))
        for column, energy_j in zip(self._part_columns, by_row.T):
            self._columns[column].extend((energy_j / J_PER_KWH).tolist())
        self._pending_parts.clear()

    def _batch(self) -> pa.Table:
        self._materialise_parts()
        arrays = {}
        for name, values in self._columns.items():
            if name == "timestamp":
                arrays[name] = pa.array(values, type=pa.timestamp("us", tz="UTC"))
            elif values and isinstance(values[0], str):
                arrays[name] = pa.array(values, type=pa.string())
            else:
                arrays[name] = pa.array(np.asarray(values, dtype=np.float64))
        table = pa.table(arrays)
        return table if self._schema is None else table.cast(self._schema)

    def open(self, path, schema_metadata: dict[bytes, bytes]) -> None:
        """Stream rows to `path` in row groups as the run goes."""
        empty = self._batch().slice(0, 0)
        self._schema = empty.schema.with_metadata(schema_metadata)
        self._writer = pq.ParquetWriter(path, self._schema, compression="zstd")

    def flush(self) -> None:
        if self._writer is None or not self._columns["timestamp"]:
            return
        self._fold_totals()
        self._writer.write_table(self._batch())
        for values in self._columns.values():
            values.clear()
        self._rows_folded = 0

    def close(self) -> None:
        if self._writer is not None:
            self.flush()
            self._writer.close()
            self._writer = None

    def table(self) -> pa.Table:
        """All rows held in memory (when no writer was opened)."""
        return self._batch()
