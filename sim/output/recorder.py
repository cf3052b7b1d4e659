"""Turns the meter's exact bins into time-series rows (kWh, kg) and streams them to Parquet."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.engine.meter import IT_CHANNELS, BinRecord
from sim.units import G_PER_KG, J_PER_KWH

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

    def __init__(self, start: datetime, part_names: tuple[str, ...] = ()):
        self.start = start
        self.part_names = part_names
        self._columns: dict[str, list] = {name: [] for name in self.column_names}
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self.rows = 0
        # Totals are summed from the same rounded kWh values that the rows hold, so the summary
        # equals the column sums.
        self.totals: dict[str, CompensatedSum] = {}

    @property
    def column_names(self) -> list[str]:
        names = ["timestamp", "interval_s", *(f"{c}_kwh" for c in IT_CHANNELS), "it_kwh", "cooling_kwh",
                 "power_loss_kwh", "misc_kwh", "facility_kwh", "pue", "ambient_c",
                 "carbon_intensity_g_per_kwh", "carbon_kg", "water_l"]
        return names + [f"cooling_{name}_kwh" for name in self.part_names]

    def on_bin(self, b: BinRecord) -> None:
        row = self._row(b)
        for name, value in row.items():
            self._columns[name].append(value)
            if name not in ("timestamp", "pue", "ambient_c", "carbon_intensity_g_per_kwh"):
                self.totals.setdefault(name, CompensatedSum()).add(value)
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
        carbon_kg = b.carbon_g / G_PER_KG
        if facility_kwh > 0:
            intensity = b.carbon_g / facility_kwh
        else:
            intensity = b.intensity_time_integral / interval_s
        row = {
            "timestamp": self.start + timedelta(seconds=b.start_s),
            "interval_s": interval_s,
            **{f"{c}_kwh": v for c, v in zip(IT_CHANNELS, channel_kwh)},
            "it_kwh": it_kwh,
            "cooling_kwh": cooling_kwh,
            "power_loss_kwh": loss_kwh,
            "misc_kwh": misc_kwh,
            "facility_kwh": facility_kwh,
            "pue": facility_kwh / it_kwh if it_kwh > 0 else math.nan,
            "ambient_c": b.ambient_time_integral / interval_s,
            "carbon_intensity_g_per_kwh": intensity,
            "carbon_kg": carbon_kg,
            "water_l": b.water_l,
        }
        for name in self.part_names:
            row[f"cooling_{name}_kwh"] = b.part_energy_j.get(name, 0.0) / J_PER_KWH
        return row

    def total(self, column: str) -> float:
        accumulator = self.totals.get(column)
        return accumulator.value if accumulator is not None else 0.0

    # ------------------------------------------------------------------ arrow
    def _batch(self) -> pa.Table:
        arrays = {}
        for name, values in self._columns.items():
            if name == "timestamp":
                arrays[name] = pa.array(values, type=pa.timestamp("us", tz="UTC"))
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
        self._writer.write_table(self._batch())
        for values in self._columns.values():
            values.clear()

    def close(self) -> None:
        if self._writer is not None:
            self.flush()
            self._writer.close()
            self._writer = None

    def table(self) -> pa.Table:
        """All rows held in memory (when no writer was opened)."""
        return self._batch()
