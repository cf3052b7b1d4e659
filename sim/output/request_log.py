"""requests.parquet as the run goes: rows of every request-level service, written in row groups once final.

A request's row is final once its energy share is (sim/workloads/service.py: at the close of the next output
interval in which a request completes, or at the end of the run), so the services hand over rows batch by
batch and memory holds one row group, not one row per request of the run. Without a path (the in-memory API)
the batches are kept and `table()` returns them as one table in the order of the services and their request
ids. Rows in the file are in the order they became final; sort by (service, request_id) for arrival order.

Summary percentiles are exact without holding every value: `percentiles` reads the file back one row group at
a time, counts the values in a fine histogram, then reads again only the values of the bins that hold the
wanted order statistics (numpy's linear interpolation between the two around rank p (n - 1)).
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.timeseries.series import to_epoch_s
from sim.units import US_PER_S

ROWS_PER_ROW_GROUP = 16_384
_STRING_COLUMNS = ("service", "status")
_INT_COLUMNS = ("request_id", "replica", "prompt_tokens", "output_tokens")
# Histogram of the first pass: log-spaced edges from 1 us to 1e9 s, plus everything below and above.
_EDGES = np.concatenate(([-np.inf, 0.0], np.geomspace(1e-6, 1e9, 8192), [np.inf]))


def _schema(metadata: dict[bytes, bytes] | None) -> pa.Schema:
    from sim.output.columns import REQUEST_COLUMNS

    fields = []
    for column in REQUEST_COLUMNS:
        name = column.name
        if name == "arrival_at":
            fields.append(pa.field(name, pa.timestamp("us", tz="UTC")))
        elif name in _STRING_COLUMNS:
            fields.append(pa.field(name, pa.string()))
        elif name in _INT_COLUMNS:
            fields.append(pa.field(name, pa.int64()))
        else:
            fields.append(pa.field(name, pa.float64()))
    return pa.schema(fields, metadata=metadata)


class RequestLog:
    """Collects request rows (a dict of equal-length columns per batch) and writes them in row groups."""

    def __init__(self, start: datetime, metadata: dict[bytes, bytes] | None = None, service_order: tuple[str, ...] = ()):
        self.schema = _schema(metadata)
        self._start_us = round(to_epoch_s(start) * US_PER_S)
        self._service_order = {name: i for i, name in enumerate(service_order)}
        self._buffer: list[pa.RecordBatch] = []
        self._buffered_rows = 0
        self._kept: list[pa.RecordBatch] = []       # in-memory mode: every batch
        self._writer: pq.ParquetWriter | None = None
        self.path: Path | None = None
        self.rows = 0

    def open(self, path: Path) -> None:
        """Stream the rows to `path` (call before the run; without it the rows are kept in memory)."""
        self.path = Path(path)
        self._writer = pq.ParquetWriter(self.path, self.schema, compression="zstd")

    def add(self, columns: dict) -> None:
        """Append rows: `columns` maps every column except arrival_at to a list or array (arrival_s gives it).
        A large batch is converted a row group at a time, so that its Arrow copy stays small too."""
        n = len(columns["request_id"])
        if n > ROWS_PER_ROW_GROUP:
            for a in range(0, n, ROWS_PER_ROW_GROUP):
                self.add({name: values[a:a + ROWS_PER_ROW_GROUP] for name, values in columns.items()})
            return
        if n == 0:
            return
        arrays = []
        for field in self.schema:
            name = field.name
            if name == "arrival_at":
                micros = self._start_us + np.round(np.asarray(columns["arrival_s"], dtype=float) * US_PER_S)
                arrays.append(pa.array(micros.astype(np.int64), type=pa.int64()).cast(field.type))
            else:
                arrays.append(pa.array(columns[name], type=field.type))
        batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        self.rows += n
        if self._writer is None:
            self._kept.append(batch)
            return
        self._buffer.append(batch)
        self._buffered_rows += n
        if self._buffered_rows >= ROWS_PER_ROW_GROUP:
            self.flush(whole_groups_only=True)

    def flush(self, whole_groups_only: bool = False) -> None:
        """Write the buffered rows in row groups of ROWS_PER_ROW_GROUP (keeping a partial group unless closing)."""
        if self._writer is None or not self._buffer:
            return
        table = pa.Table.from_batches(self._buffer, schema=self.schema)
        size = ROWS_PER_ROW_GROUP
        cut = (table.num_rows // size) * size if whole_groups_only else table.num_rows
        if cut:
            self._writer.write_table(table.slice(0, cut), row_group_size=size)
        rest = table.slice(cut)
        self._buffer = rest.to_batches() if rest.num_rows else []
        self._buffered_rows = rest.num_rows

    def close(self) -> None:
        if self._writer is not None:
            self.flush()
            self._writer.close()
            self._writer = None

    def table(self) -> pa.Table:
        """Every row kept in memory, in the order of the services and their request ids."""
        table = pa.Table.from_batches(self._kept, schema=self.schema)
        if table.num_rows == 0:
            return table
        names = pa.array(list(self._service_order), type=pa.string())
        order = pc.fill_null(pc.index_in(table.column("service"), value_set=names), len(self._service_order))
        order = order.to_numpy().astype(np.int64)
        ids = table.column("request_id").to_numpy()
        return table.take(pa.array(np.lexsort((ids, order))))

    # ---------------------------------------------------------------------------------- percentiles
    def _values(self, service: str, column: str):
        """The finite values of `column` over the completed requests of `service`, batch by batch."""
        if self.path is not None and self._writer is None:
            source = pq.ParquetFile(self.path)
            batches = (source.read_row_group(i, columns=["service", "status", column])
                       for i in range(source.num_row_groups))
        else:
            batches = (pa.Table.from_batches([b]) for b in self._kept)
        for batch in batches:
            mine = pc.and_(pc.equal(batch.column("service"), service), pc.equal(batch.column("status"), "completed"))
            values = batch.column(column).filter(mine).to_numpy()
            yield values[np.isfinite(values)]

    def percentiles(self, service: str, column: str, percents: tuple[float, ...]) -> list[float | None]:
        """Exact percentiles (numpy's linear interpolation) of a column over a service's completed requests,
        reading the rows twice with memory bounded by a row group (after `close`, or in memory)."""
        counts = np.zeros(_EDGES.size - 1, dtype=np.int64)
        for values in self._values(service, column):
            counts += np.bincount(np.searchsorted(_EDGES, values, side="right") - 1, minlength=counts.size)
        n = int(counts.sum())
        if n == 0:
            return [None] * len(percents)
        cumulative = np.cumsum(counts)
        wanted: dict[int, int] = {}              # order statistic -> its bin
        ranks = []
        for p in percents:
            rank = p / 100.0 * (n - 1)
            lo = math.floor(rank)
            hi = min(lo + 1, n - 1)
            ranks.append((rank, lo, hi))
            for r in (lo, hi):
                wanted[r] = int(np.searchsorted(cumulative, r, side="right"))
        bins = sorted(set(wanted.values()))
        collected = {b: [] for b in bins}
        for values in self._values(service, column):
            index = np.searchsorted(_EDGES, values, side="right") - 1
            for b in bins:
                collected[b].append(values[index == b])
        sorted_bins = {b: np.sort(np.concatenate(v)) if v else np.empty(0) for b, v in collected.items()}
        before = {b: int(cumulative[b] - counts[b]) for b in bins}

        def order_statistic(r: int) -> float:
            b = wanted[r]
            return float(sorted_bins[b][r - before[b]])

        out = []
        for rank, lo, hi in ranks:
            x_lo, x_hi = order_statistic(lo), order_statistic(hi)
            out.append(x_lo + (rank - lo) * (x_hi - x_lo))
        return out
