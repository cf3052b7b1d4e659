"""jobs.parquet as the run goes: a job's row is written once it is final, in row groups.

A finished job's energy, carbon and footprint no longer change once the output row that contains its end has
been emitted (under hourly clean-energy matching that row comes when its hour closes, and with it the job's
market-based carbon). `due(start_s, end_s)`, called as each output row is emitted, writes the rows of the jobs
finished by then; `close(end_s)` writes the others (running or queued when the run ended). Rows are therefore in
the order jobs finished, then the unfinished ones in scenario order; buffered rows are written in row groups of
`ROWS_PER_ROW_GROUP`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.parquet as pq

ROWS_PER_ROW_GROUP = 4096


class JobLog:
    def __init__(self, path: Path, schema: pa.Schema, jobs: list, table: Callable[[list, float], pa.Table]):
        self._writer = pq.ParquetWriter(path, schema, compression="zstd")
        self._table = table
        # Each output row looks only at the jobs submitted by its end (a job cannot finish before): a year of a
        # generated queue holds tens of thousands of jobs that are not submitted yet, or long done.
        self._order = {id(job): i for i, job in enumerate(jobs)}   # rows keep the jobs' order within a batch
        self._unsubmitted = sorted(jobs, key=lambda job: job.spec.submit_at)
        self._next = 0
        self._waiting: list = []            # submitted, row not written yet
        self._buffer: list[pa.Table] = []
        self._buffered = 0

    def due(self, start_s: float, end_s: float) -> dict:
        """Recorder provider with no columns: write the rows of the jobs finished by `end_s`."""
        unsubmitted, i = self._unsubmitted, self._next
        while i < len(unsubmitted) and unsubmitted[i].spec.submit_at <= end_s:
            self._waiting.append(unsubmitted[i])
            i += 1
        self._next = i
        done = [job for job in self._waiting
                if job.state.finished_at_s is not None and job.state.finished_at_s <= end_s]
        if done:
            written = {id(job) for job in done}   # (a list's `in` compares jobs field by field: quadratic)
            self._waiting = [job for job in self._waiting if id(job) not in written]
            self._add(self._table(sorted(done, key=self._index), end_s))
        return {}

    def _index(self, job) -> int:
        return self._order[id(job)]

    def _add(self, table: pa.Table) -> None:
        self._buffer.append(table)
        self._buffered += table.num_rows
        if self._buffered >= ROWS_PER_ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            self._writer.write_table(pa.concat_tables(self._buffer), row_group_size=ROWS_PER_ROW_GROUP)
            self._buffer, self._buffered = [], 0

    def close(self, end_s: float) -> None:
        """The jobs not written yet (unfinished, or finished in the last row), then the file's end."""
        rest = self._waiting + self._unsubmitted[self._next:]
        if rest:
            self._add(self._table(sorted(rest, key=self._index), end_s))
            self._waiting, self._next = [], len(self._unsubmitted)
        self._flush()
        self._writer.close()
