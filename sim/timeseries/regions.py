"""Built-in regional grid profiles: an hourly carbon-intensity signal for a named region, when no file is given.

Model (stated, not fitted per run):

    intensity(t) [gCO2e/kWh] = annual_mean x diurnal[UTC hour of t] x monthly[UTC month of t]

- `annual_mean_g_per_kwh` is a published annual figure (source in each entry).
- `diurnal` (24 factors, UTC hours 0-23) and `monthly` (12 factors) are the hour-of-day and month means
  of a real hourly file divided by its annual mean, where such a file exists (each entry names it);
  they are written rounded to 3 decimals and renormalised here so that the diurnal factors average 1
  over a day and the monthly factors average 1 over the 8760 hours of a non-leap year. A whole UTC
  calendar year of a profile therefore averages exactly `annual_mean`; a leap year averages
  annual_mean x (365 + monthly[February]) / 366 (France: +0.2 %).
- Regions without an hourly file at hand have FLAT shapes, which is said in their entry: no shape is
  invented.
- The shapes are separable: the diurnal shape is the year's average day in every month (so California's
  midday solar dip, 20-21 UTC, has its annual-average depth all year).

Other per-region figures (water intensity of generation) are given only where a source is at hand;
otherwise they are None rather than guessed. Marginal intensity and electricity price: no citable
built-in values were found, so none are given (use a file).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from sim.errors import SimInputError
from sim.timeseries.grid_files import CARBON_INTENSITY_NAME, CARBON_INTENSITY_UNIT
from sim.timeseries.series import StepSeries, to_epoch_s
from sim.units import S_PER_DAY, S_PER_H

# Days per month of a non-leap year: the weights of the monthly factors.
_DAYS_PER_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)
_FLAT_DIURNAL = (1.0,) * 24
_FLAT_MONTHLY = (1.0,) * 12


@dataclass(frozen=True)
class RegionProfile:
    """A named region's built-in grid signal and figures. Factors are as written (renormalised on use)."""

    name: str
    description: str
    annual_mean_g_per_kwh: float
    mean_source: str
    diurnal_factors: tuple[float, ...]
    monthly_factors: tuple[float, ...]
    shape_source: str
    emissions_basis: str  # "life-cycle" or "direct (combustion) CO2"
    water_intensity_l_per_kwh: float | None = None
    water_source: str = ""
    aliases: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if len(self.diurnal_factors) != 24 or len(self.monthly_factors) != 12:
            raise ValueError(f"region {self.name}: expected 24 diurnal and 12 monthly factors")

    @property
    def diurnal(self) -> np.ndarray:
        """Hour-of-day (UTC) factors, averaging exactly 1 over a day."""
        d = np.asarray(self.diurnal_factors, dtype=float)
        return d / d.mean()

    @property
    def monthly(self) -> np.ndarray:
        """Month factors, averaging exactly 1 over the hours of a non-leap year."""
        m = np.asarray(self.monthly_factors, dtype=float)
        return m / (np.dot(m, _DAYS_PER_MONTH) / _DAYS_PER_MONTH.sum())


# Electricity Maps Data Portal, 2023 hourly (zone exports, ODbL 1.0), life-cycle (LCA) column; the
# annual means are those of the files (shared/data README: FR 49.4, DE 395.1, US-CAL-CISO 261.2), and
# the shapes are the files' UTC hour-of-day and month means over their annual mean.
_EMAPS_2023 = "Electricity Maps Data Portal, 2023 hourly export, life-cycle column"

REGIONS: tuple[RegionProfile, ...] = (
    RegionProfile(
        name="france",
        description="France (nuclear, low carbon)",
        annual_mean_g_per_kwh=49.4,
        mean_source=f"{_EMAPS_2023}, zone FR (mean of 8760 hours).",
        diurnal_factors=(
            0.975, 0.959, 0.935, 0.934, 0.978, 1.023, 1.050, 1.044, 1.020, 0.978, 0.952, 0.921,
            0.900, 0.896, 0.900, 0.939, 1.019, 1.105, 1.135, 1.113, 1.090, 1.087, 1.054, 0.994,
        ),
        monthly_factors=(1.462, 1.816, 1.472, 0.933, 0.649, 0.852, 0.855, 0.847, 0.676, 0.641, 0.939, 0.917),
        shape_source=f"{_EMAPS_2023}, zone FR: FR_2023_hourly.csv",
        emissions_basis="life-cycle",
        aliases=("fr",),
    ),
    RegionProfile(
        name="germany",
        description="Germany (wind and coal)",
        annual_mean_g_per_kwh=395.1,
        mean_source=f"{_EMAPS_2023}, zone DE (mean of 8760 hours).",
        diurnal_factors=(
            1.039, 1.035, 1.037, 1.049, 1.058, 1.053, 1.026, 0.972, 0.904, 0.846, 0.815, 0.802,
            0.811, 0.843, 0.903, 0.987, 1.070, 1.121, 1.140, 1.136, 1.122, 1.106, 1.075, 1.050,
        ),
        monthly_factors=(1.134, 1.261, 1.034, 1.038, 0.848, 0.909, 0.783, 0.950, 1.037, 0.977, 1.055, 1.001),
        shape_source=f"{_EMAPS_2023}, zone DE: DE_2023_hourly.csv",
        emissions_basis="life-cycle",
        aliases=("de",),
    ),
    RegionProfile(
        name="us-california",
        description="California ISO (solar: midday dip at 20-21 UTC)",
        annual_mean_g_per_kwh=261.2,
        mean_source=f"{_EMAPS_2023}, zone US-CAL-CISO (mean of 8760 hours)",
        diurnal_factors=(
            0.938, 1.062, 1.145, 1.164, 1.168, 1.178, 1.181, 1.181, 1.175, 1.174, 1.176, 1.178,
            1.189, 1.164, 1.057, 0.911, 0.792, 0.741, 0.729, 0.722, 0.716, 0.716, 0.735, 0.807,
        ),
        monthly_factors=(1.131, 1.090, 0.984, 0.824, 0.643, 0.729, 0.998, 1.071, 0.983, 1.186, 1.156, 1.203),
        shape_source=f"{_EMAPS_2023}, zone US-CAL-CISO: US-CAL-CISO_2023_hourly.csv",
        emissions_basis="life-cycle",
        aliases=("caiso", "us-cal-ciso"),
    ),
    RegionProfile(
        name="us-midwest",
        description="MISO, US Midwest (coal-heavy)",
        # U.S. EIA Form EIA-930 (Hourly Electric Grid Monitor) 2022, balancing authority MISO, generation-
        # weighted IPCC AR5 life-cycle factors, as in HewlettPackard/dc-rl MISO_NG_&_avgCI.csv; mean of the
        # 8757 non-blank hours (shared/data README: 440.5). Production-based: imports not included.
        annual_mean_g_per_kwh=440.5,
        mean_source="U.S. EIA Form EIA-930 2022, MISO, life-cycle factors (HewlettPackard/dc-rl), mean of valid hours",
        diurnal_factors=(
            1.035, 1.034, 1.021, 1.004, 0.988, 0.971, 0.957, 0.949, 0.947, 0.952, 0.964, 0.977,
            0.992, 1.008, 1.019, 1.024, 1.025, 1.023, 1.019, 1.015, 1.012, 1.014, 1.020, 1.029,
        ),
        monthly_factors=(1.029, 0.999, 0.942, 0.934, 0.975, 1.046, 1.133, 1.113, 1.003, 0.935, 0.886, 1.002),
        shape_source=(
            "EIA-930 2022 MISO: MISO_NG_avgCI_2022.csv, hour-ending labels moved one hour earlier, "
            "3 blank hours linearly interpolated"
        ),
        emissions_basis="life-cycle",
        aliases=("miso",),
    ),
    RegionProfile(
        name="us-average",
        description="United States average",
        # U.S. EIA, FAQ "How much carbon dioxide is produced per kilowatthour of U.S. electricity
        # generation?": 2022, utility-scale plants, 4,230,672 million kWh and 1,650 million metric tons
        # of CO2 -> 1.650e15 g / 4.230672e12 kWh = 390.0 g/kWh (EIA rounds it to 0.86 lb/kWh).
        annual_mean_g_per_kwh=390.0,
        mean_source="U.S. EIA FAQ id=74 (2022 data): 1,650 Mt CO2 / 4,230,672 GWh",
        diurnal_factors=_FLAT_DIURNAL,
        monthly_factors=_FLAT_MONTHLY,
        shape_source="flat: no hourly file for the whole US at hand",
        emissions_basis="direct (combustion) CO2",
        # Li, Yang, Islam, Ren 2023, "Making AI Less 'Thirsty'" (arXiv:2304.03271): U.S. average off-site
        # electricity water intensity factor, about 3.1 L/kWh consumed. Read in secondary sources quoting
        # the paper's table, not in the table itself.
        water_intensity_l_per_kwh=3.1,
        water_source="Li et al. 2023, arXiv:2304.03271, U.S. average EWIF (as quoted, about 3.1 L/kWh)",
        aliases=("us", "usa"),
    ),
    RegionProfile(
        name="us-virginia",
        description="Northern Virginia (eGRID subregion SRVC)",
        # Lacoste, Luccioni, Schmidt, Dandres 2019, "Quantifying the Carbon Emissions of Machine Learning"
        # (ML CO2 Impact calculator, data/impact.csv): us-east4 / us-east-1 / eastus, Virginia, 367.8
        # gCO2e/kWh from EPA eGRID.
        annual_mean_g_per_kwh=367.8,
        mean_source="Lacoste et al. 2019 (ML CO2 Impact, impact.csv), Virginia regions, from EPA eGRID",
        diurnal_factors=_FLAT_DIURNAL,
        monthly_factors=_FLAT_MONTHLY,
        shape_source="flat: no hourly file for Virginia (PJM) at hand",
        emissions_basis="direct (combustion) CO2",
        aliases=("virginia",),
    ),
    RegionProfile(
        name="quebec",
        description="Québec, Canada (hydro)",
        # Lacoste et al. 2019, ML CO2 Impact impact.csv: ca-central-1 / canadaeast / OVH bhs, 20 gCO2e/kWh,
        # source "Hydro-Québec".
        annual_mean_g_per_kwh=20.0,
        mean_source="Lacoste et al. 2019 (ML CO2 Impact, impact.csv), Québec regions, source Hydro-Québec",
        diurnal_factors=_FLAT_DIURNAL,
        monthly_factors=_FLAT_MONTHLY,
        shape_source="flat: no hourly file for Québec at hand (hydro-dominated supply)",
        emissions_basis="life-cycle",
        aliases=("ca-qc",),
    ),
    RegionProfile(
        name="world",
        description="World average",
        # Ember, Global Electricity Review 2024: CO2 intensity of global power generation 480 gCO2/kWh in
        # 2023 (486 in 2022); Ember's emissions "aim to include full lifecycle emissions".
        annual_mean_g_per_kwh=480.0,
        mean_source="Ember, Global Electricity Review 2024 (2023 world average)",
        diurnal_factors=_FLAT_DIURNAL,
        monthly_factors=_FLAT_MONTHLY,
        shape_source="flat: a world average has no meaningful hour of day",
        emissions_basis="life-cycle",
        aliases=("global",),
    ),
)

_BY_NAME: dict[str, RegionProfile] = {}
for _region in REGIONS:
    for _key in (_region.name, *_region.aliases):
        _BY_NAME[_key] = _region


def region_names() -> tuple[str, ...]:
    """The built-in region names (aliases not included)."""
    return tuple(r.name for r in REGIONS)


def get_region(name: str) -> RegionProfile:
    """The region called `name` (case-insensitive; aliases accepted); SimInputError listing the valid names."""
    region = _BY_NAME.get(name.strip().lower())
    if region is None:
        raise SimInputError(
            f"unknown grid region {name!r}; expected one of: {', '.join(region_names())}"
        )
    return region


def _epoch(instant: datetime | float) -> float:
    return to_epoch_s(instant) if isinstance(instant, datetime) else float(instant)


def regional_profile(name: str, start: datetime | float, end: datetime | float) -> StepSeries:
    """Hourly carbon intensity [gCO2e/kWh] of a built-in region covering [start, end).

    `start`, `end`: aware datetimes (naive = UTC) or UTC epoch seconds. The steps are whole UTC hours,
    from the hour containing `start` to the hour containing the instant before `end`.
    Value of the hour beginning at t: annual_mean x diurnal[hour(t)] x monthly[month(t)].
    Worked example: 'us-california' at 2023-05-01 20:00 UTC -> 261.2 x 0.716 x 0.643 ~ 120 gCO2e/kWh
    (before renormalisation of the rounded factors).
    """
    region = get_region(name)
    start_s, end_s = _epoch(start), _epoch(end)
    if not end_s > start_s:
        raise SimInputError(f"grid region {name!r}: the end {end_s} must be after the start {start_s}")
    first_s = np.floor(start_s / S_PER_H) * S_PER_H
    last_s = np.ceil(end_s / S_PER_H) * S_PER_H
    edges_s = np.arange(first_s, last_s, S_PER_H)
    hours = ((edges_s % S_PER_DAY) // S_PER_H).astype(int)
    months = edges_s.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64) % 12  # 0 = January
    values = region.annual_mean_g_per_kwh * region.diurnal[hours] * region.monthly[months]
    return StepSeries(
        name=CARBON_INTENSITY_NAME,
        unit=CARBON_INTENSITY_UNIT,
        edges_epoch_s=edges_s,
        values=values,
        end_epoch_s=float(last_s),
        source=f"built-in region {region.name!r}",
        notes=(
            f"annual mean {region.annual_mean_g_per_kwh:g} gCO2e/kWh ({region.emissions_basis}): {region.mean_source}",
            f"shape: {region.shape_source}",
        ),
    )
