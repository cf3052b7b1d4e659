"""Experiments: sweeps over scenario keys, executors (local processes, Dask), capacity search, Pareto fronts.

- `spec`: the sweep file (base scenario, axes, seeds), expanded into points whose scenarios are resolved
  and validated before anything runs.
- `worker`: the pure function every executor maps: resolved scenario -> summary + the run's files.
- `executors`: one process (serial), a local process pool, Dask distributed; the same interface.
- `runner`: runs points into a Hive-partitioned tree of run directories, resumes, writes points.parquet.
- `capacity`: bisection over a monotone integer axis for the smallest (or largest) value meeting a target.
- `pareto`: the non-dominated points of two objectives, as a table and a plot.
"""
