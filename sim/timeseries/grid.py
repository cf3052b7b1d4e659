"""Grid signals: the public entry points.

- `read_signal(path, ...)`: a carbon-intensity (or other) file -> StepSeries (rules in `grid_files`).
- `cover_run(series, start, end)`: make a series cover a run window (repeat whole weeks, with a warning).
- `regional_profile(name, start, end)`: a built-in region's hourly signal (model and sources in `regions`).
"""

from sim.timeseries.grid_files import (
    CARBON_INTENSITY_NAME,
    CARBON_INTENSITY_UNIT,
    DEFAULT_MAX_GAP_S,
    FORMATS,
    cover_run,
    read_signal,
)
from sim.timeseries.regions import REGIONS, RegionProfile, get_region, region_names, regional_profile

__all__ = [
    "CARBON_INTENSITY_NAME",
    "CARBON_INTENSITY_UNIT",
    "DEFAULT_MAX_GAP_S",
    "FORMATS",
    "REGIONS",
    "RegionProfile",
    "cover_run",
    "get_region",
    "read_signal",
    "region_names",
    "regional_profile",
]
