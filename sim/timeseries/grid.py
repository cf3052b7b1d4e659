"""Grid signals: the public entry points.

- `read_signal(path, ...)`: a carbon-intensity (or other) file -> StepSeries (rules in `grid_files`).
- `cover_run(series, start, end)`: make a series cover a run window (repeat whole weeks, with a warning).
"""

from sim.timeseries.grid_files import (
    CARBON_INTENSITY_NAME,
    CARBON_INTENSITY_UNIT,
    DEFAULT_MAX_GAP_S,
    FORMATS,
    cover_run,
    read_signal,
)

__all__ = [
    "CARBON_INTENSITY_NAME",
    "CARBON_INTENSITY_UNIT",
    "DEFAULT_MAX_GAP_S",
    "FORMATS",
    "cover_run",
    "read_signal",
]
