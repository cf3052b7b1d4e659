"""The cooling plant in the engine: a FacilityModel over the plant physics, and the weather as a signal.

The "cooling plant as a SimPy process that reacts to IT heat load and weather" is this pair:

- `PlantFacility` is the meter's `FacilityModel` (sim/engine/meter.py): `draw(it_power_w, weather)` gives the
  cooling power split by equipment, the UPS + PDU losses, the misc load and the make-up water of the plant at
  that IT heat load and outdoor state (`sim.physics.cooling`, evaluated by its fast scalar path `ScalarPlant`).
  The meter calls it again whenever the IT heat changes (a job starts, ends, changes phase profile) or the
  weather does, so the plant follows both, and integrates the result exactly between changes. Over a long
  stretch without events (a year of training: 8,760 weather steps) it asks `draws` for all the steps at once,
  the numpy twin of the same arithmetic (`ScalarPlant.power_many`), equal to the last bit.
- `WeatherDriver` is a SimPy process that hands the meter the weather steps (hourly for EPW files and the
  built-in climates, each file's own step otherwise) a block at a time with `meter.schedule_weather`; the meter
  applies each step as its time crosses the step's start, as it closes output bins, so a step costs no SimPy
  event. The weather is produced in long blocks; for each block the weather-only terms of the plant (economiser
  shares, chiller capacity at the condenser temperature, evaporated share) are computed at once with numpy, so
  that a draw costs only the IT-dependent arithmetic.

Weather sources: an EnergyPlus EPW typical year (mapped onto the run's calendar and tiled over years), a CSV or an
Open-Meteo JSON file (which must cover the run), or a built-in climate (`sim.timeseries.weather.CLIMATES`).
"""

from __future__ import annotations

import functools
import itertools
import math
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from operator import itemgetter
from typing import NamedTuple

import numpy as np
import simpy

from sim.config.plant_schema import plant_spec
from sim.config.schema import Scenario, WeatherSection
from sim.engine.meter import FacilityDraw, Meter
from sim.errors import DataFileError, SimInputError
from sim.physics.cooling import SCALAR_POWER_FIELDS, CoolingPlantSpec, ScalarPlant
from sim.timeseries import weather as wx
from sim.units import S_PER_DAY

# Every cooling consumer the plant model knows, in the order `ScalarPlant.power` returns them.
ALL_PARTS = ("chiller", "crah_fan", "cdu_pump", "pump", "tower_fan", "dry_cooler_fan")

_make_draw = FacilityDraw._make
_UPS, _PDU, _MISC, _WATER = (SCALAR_POWER_FIELDS.index(name) for name in ("ups_loss_w", "pdu_loss_w", "misc_w",
                                                                            "water_l_per_s"))

# Weather is generated, and its plant terms computed, a block at a time: the psychrometrics are vectorised, and
# each call has a fixed cost (a wet bulb takes 40 bisection steps of numpy calls), so blocks are long. A run whose
# end is known gets its whole span in one block (at most a year); otherwise blocks start at a day and double up to
# a year, so a short run computes little and a long one few blocks. Block lengths are whole days, so blocks that
# start on the hour keep the hourly steps of one long window.
FIRST_WEATHER_BLOCK_S = S_PER_DAY
MAX_WEATHER_BLOCK_S = 366 * S_PER_DAY


def installed_parts(spec: CoolingPlantSpec) -> tuple[str, ...]:
    """The cooling equipment this plant has: chillers, room-air fans, CDU pumps (liquid loop), the other pumps,
    and tower fans or dry-cooler fans. Equipment it lacks draws exactly 0 W and gets no output column."""
    parts = ["chiller", "crah_fan"]
    if spec.liquid is not None and spec.liquid_heat_fraction > 0.0:
        parts.append("cdu_pump")
    parts.append("pump")
    parts.append("tower_fan" if spec.rejection.kind == "cooling_tower" else "dry_cooler_fan")
    return tuple(parts)


class PlantFacility:
    """FacilityModel: the overhead of a cooling plant and power chain at an IT heat load and a weather step."""

    def __init__(self, spec: CoolingPlantSpec):
        self.spec = spec
        self._plant = ScalarPlant(spec)
        self.part_names = installed_parts(spec)
        self._pick = itemgetter(*(ALL_PARTS.index(name) for name in self.part_names))

    @property
    def weather_steps_key(self) -> CoolingPlantSpec:
        """What `weather_steps` depends on besides the weather: the plant (a frozen, hashable spec)."""
        return self.spec

    def weather_steps(self, weather: wx.Weather) -> list[tuple[float, ...]]:
        """What `draw` needs of each step of `weather`: the plant's weather-only terms, computed at once."""
        return self.steps_for(weather.dry_bulb_c.values, weather.wet_bulb_c.values)

    def steps_for(self, dry_bulb_c, wet_bulb_c) -> list[tuple[float, ...]]:
        """The weather-only terms for arrays (or floats) of outdoor dry and wet bulb [C], one tuple per step."""
        db_c = np.atleast_1d(np.asarray(dry_bulb_c, dtype=float))
        wb_c = np.atleast_1d(np.asarray(wet_bulb_c, dtype=float))
        return self._plant.weather_terms(db_c, wb_c)

    def draw(self, it_power_w: float, terms: tuple[float, ...] | None) -> FacilityDraw:
        """Overhead at IT heat load `it_power_w` [W] in the weather step whose terms are `terms` (from
        `weather_steps`): cooling = the sum of the parts."""
        if terms is None:
            raise RuntimeError("the cooling plant needs the weather: the meter has no weather step for it")
        power = self._plant.power(it_power_w, terms)
        parts_w = self._pick(power)
        # (cooling_w, power_loss_w, misc_w, water_l_per_s, parts_w); _make skips the keyword-handling __new__
        return _make_draw((sum(parts_w), power[_UPS] + power[_PDU], power[_MISC], power[_WATER], parts_w))

    def draws(self, it_power_w: list[float], steps: list[tuple[float, ...]]) -> list[tuple]:
        """`draw` for many (IT heat load [W], weather step) pairs at once, as plain tuples of FacilityDraw's fields
        (making 8,760 named tuples would cost more than the arithmetic): equal to `draw`, bit for bit, since
        `power_many` mirrors `power` and the parts are summed in the same order. The meter asks for the steps of a
        long crossing this way (`Meter._plan_draws`): one numpy pass instead of microseconds of Python per step."""
        if not steps:
            return []
        if any(terms is None for terms in steps):
            raise RuntimeError("the cooling plant needs the weather: the meter has no weather step for it")
        # fromiter over the flattened tuples: half the time of np.asarray on a list of tuples
        terms = np.fromiter(itertools.chain.from_iterable(steps), float, count=len(steps) * len(steps[0]))
        with np.errstate(all="ignore"):
            power = self._plant.power_many(it_power_w, terms.reshape(len(steps), -1))
            parts = self._pick(power)
            columns = (sum(parts), power[_UPS] + power[_PDU], power[_MISC], power[_WATER])
        if not all(np.isfinite(c).all() for c in (*columns, *parts)):
            # a degenerate plant (no chiller capacity left): the scalar path says what is wrong, as it always did
            return [tuple(self.draw(it_w, step)) for it_w, step in zip(it_power_w, steps)]
        return list(zip(*(c.tolist() for c in columns), zip(*(p.tolist() for p in parts))))

    def draw_table(self, it_power_w: np.ndarray, terms: tuple[float, ...] | None) -> tuple[np.ndarray, ...] | None:
        """`draws` at many IT heat loads [W] in one weather step, as arrays (cooling, power loss, misc [W], water
        [L/s], parts [W, a column per part]): the meter's compiled replay of a log of load changes asks for them
        (sim/engine/meter_kernel.py). None without weather (the meter then replays in Python, which says why)."""
        if terms is None:
            return None
        rows = self.draws(it_power_w.tolist(), [terms] * it_power_w.size)
        cooling_w, loss_w, misc_w, water_l_per_s, parts_w = zip(*rows)
        return (np.array(cooling_w, dtype=float), np.array(loss_w, dtype=float), np.array(misc_w, dtype=float),
                np.array(water_l_per_s, dtype=float), np.array(parts_w, dtype=float).reshape(len(rows), -1))

    def describe(self) -> dict:
        spec = self.spec
        return {
            "plant": spec.name,
            "design_it_power_w": spec.design_it_power_w,
            "cooling": "liquid" if spec.liquid is not None and spec.liquid_heat_fraction > 0.0 else "air",
            "liquid_heat_fraction": spec.liquid_heat_fraction,
            "heat_rejection": "towers" if spec.rejection.kind == "cooling_tower" else "dry",
            "chiller": spec.chiller.source,
            "economiser": {"airside": spec.air.airside_economiser,
                           "waterside": spec.chilled_water.waterside_economiser},
            "supply_air_c": spec.air.supply_air_c,
            "chilled_water_supply_c": spec.chilled_water.supply_c,
            "parts": list(self.part_names),
        }


def build_plant(scenario: Scenario) -> PlantFacility:
    """The plant of a scenario with [facility] model = 'plant' (validated by the loader's cross-checks)."""
    facility = scenario.facility
    spec = plant_spec(facility.preset_name, facility.design_it_power_for(scenario.cluster), facility.cooling,
                      facility.heat_rejection, facility.plant)
    return PlantFacility(spec)


# ---------------------------------------------------------------------------------------------------------
# Weather sources
# ---------------------------------------------------------------------------------------------------------


class WeatherSpanError(SimInputError):
    """A weather file (CSV, Open-Meteo JSON) does not cover the run. One message, so that SimPy can re-raise it
    from the driver process (it rebuilds an exception from its args)."""


def _utc(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, tz=timezone.utc)


@functools.lru_cache(maxsize=8)
def _typical_year(path: str, mtime_ns: int, size: int) -> wx.TypicalYear:
    """EPW files are parsed once per process (keyed by path, modification time and size): sweeps and tests run
    many scenarios on the same file."""
    return wx.read_epw(path)


@dataclass(frozen=True)
class WeatherSource:
    """Where a run's weather comes from; `window(a, b)` gives it over [a, b) [UTC epoch s]."""

    description: str
    typical_year: wx.TypicalYear | None = None
    climate: str | None = None
    series: wx.Weather | None = None
    path: Path | None = None
    # What the weather of a window depends on, when that is known and hashable (a climate's name; an EPW file's
    # path, modification time and size): blocks of it are then kept per process (`_BLOCKS`, `WeatherDriver._block`).
    cache_key: tuple | None = None

    @property
    def end_epoch_s(self) -> float:
        """Where the source ends (infinite for typical years and climates, which tile any calendar)."""
        return self.series.end_epoch_s if self.series is not None else math.inf

    @property
    def notes(self) -> tuple[str, ...]:
        if self.typical_year is not None:
            return self.typical_year.notes + (
                "typical year mapped onto the run by local-standard-time month/day/hour; Feb 29 uses Feb 28",)
        if self.series is not None:
            return self.series.notes
        return ()

    def check_start(self, start_epoch_s: float) -> None:
        if self.series is not None and not self.series.start_epoch_s <= start_epoch_s < self.series.end_epoch_s:
            raise WeatherSpanError(f"{self.path}: the weather covers {wx._iso(self.series.start_epoch_s)} to "
                                   f"{wx._iso(self.series.end_epoch_s)} UTC; the run starts at {wx._iso(start_epoch_s)}")

    def check_covers(self, end_epoch_s: float) -> None:
        if end_epoch_s > self.end_epoch_s:
            raise WeatherSpanError(f"{self.path}: the weather ends at {wx._iso(self.end_epoch_s)} UTC, before the run "
                                   f"does ({wx._iso(end_epoch_s)}); give a file that covers the run, an EPW typical "
                                   "year, or a built-in climate")

    def window(self, start_epoch_s: float, end_epoch_s: float) -> wx.Weather:
        start, end = _utc(start_epoch_s), _utc(end_epoch_s)
        if self.typical_year is not None:
            return wx.typical_year_weather(self.typical_year, start, end)
        if self.climate is not None:
            return wx.climate_weather(self.climate, start, end)
        return wx.window(self.series, start, end)


def weather_source(section: WeatherSection) -> WeatherSource:
    """Read the [weather] table's file (DataFileError names the file and line) or take its built-in climate."""
    if section.file is None:
        model = wx.CLIMATES[section.climate]
        return WeatherSource(f"built-in climate '{section.climate}' ({model.source})", climate=section.climate,
                             cache_key=("climate", section.climate))
    path = Path(section.file)
    suffix = path.suffix.lower()
    if suffix == ".epw":
        stat = path.stat()
        year = _typical_year(str(path), stat.st_mtime_ns, stat.st_size)
        return WeatherSource(f"EPW typical year {path.name}", typical_year=year, path=path,
                             cache_key=("epw", str(path), stat.st_mtime_ns, stat.st_size))
    if suffix == ".csv":
        return WeatherSource(f"CSV {path.name}", series=wx.read_weather_csv(path, section.elevation_m), path=path)
    if suffix == ".json":
        return WeatherSource(f"Open-Meteo JSON {path.name}", series=wx.read_openmeteo_json(path), path=path)
    raise DataFileError(path, f"unknown weather file type {suffix!r}; expected .epw, .csv or .json")


# ---------------------------------------------------------------------------------------------------------
# The weather signal
# ---------------------------------------------------------------------------------------------------------


class WeatherBlock(NamedTuple):
    """A stretch of weather as the meter takes it: step i holds from `starts_s[i]` [s from the run's start]."""

    starts_s: list[float]
    steps: list            # what the facility's draw gets for each step (None where the model ignores it)
    dry_bulb_c: list[float]
    wet_bulb_c: list[float]
    end_epoch_s: float     # where the block ends [UTC epoch s]

    def schedule(self, meter: Meter, now_s: float) -> None:
        meter.schedule_weather(now_s, self.starts_s, self.steps, self.dry_bulb_c, self.wet_bulb_c)


# Weather blocks kept per process, least recently used first: a sweep or a comparison runs many scenarios on the
# same climate or EPW file and plant, and a block (hourly weather with its wet bulb, and the plant's weather terms
# of every step: about 15 ms for a year) depends only on the source, the window and the plant. The meter only
# reads a block's lists, so runs can share them.
_BLOCKS: dict[tuple, WeatherBlock] = {}
_MAX_CACHED_BLOCKS = 8
_BLOCKS_LOCK = threading.Lock()  # simulations may run in threads (a sweep on a threaded Dask cluster)


class WeatherDriver:
    """SimPy process that hands the meter the weather a block at a time (`meter.schedule_weather`): the meter
    applies each step as its time crosses the step's start, and the driver wakes at each block's end for the next.

    The first block is scheduled at construction (time 0), so the facility has weather before any load draws. The
    driver stops at `until_epoch_s` (None: it runs as long as the simulation does). A file that ends before the
    run is refused: at construction when the run's end is known, else when the run reaches the file's end.
    """

    def __init__(self, env: simpy.Environment, meter: Meter, facility, source: WeatherSource,
                 start_epoch_s: float, until_epoch_s: float | None):
        self.env = env
        self.meter = meter
        self.facility = facility
        self.source = source
        self.start_epoch_s = start_epoch_s
        self.until_epoch_s = until_epoch_s
        source.check_start(start_epoch_s)
        if until_epoch_s is not None:
            source.check_covers(until_epoch_s)
        self._steps_of = getattr(facility, "weather_steps", None)
        self._block_s = FIRST_WEATHER_BLOCK_S if until_epoch_s is None else MAX_WEATHER_BLOCK_S
        first = self._block(start_epoch_s)
        if first is not None:
            # The first block is scheduled at construction (time 0): the facility has weather before any
            # load draws. Its driver process then wakes once at the end of each block.
            first.schedule(meter, 0.0)
        self.process = env.process(self._run(first))

    def _block(self, a_s: float) -> "WeatherBlock | None":
        """The weather of [a, b) [UTC epoch s], or None when there is none left to give."""
        b_s = a_s + self._block_s
        self._block_s = min(2.0 * self._block_s, MAX_WEATHER_BLOCK_S)
        if self.until_epoch_s is not None:
            b_s = min(b_s, self.until_epoch_s)
        b_s = min(b_s, self.source.end_epoch_s)
        if not b_s > a_s:
            return None
        steps_key = getattr(self.facility, "weather_steps_key", None) if self._steps_of is not None else ()
        if self.source.cache_key is None or steps_key is None:
            return self._make_block(a_s, b_s)
        key = (self.source.cache_key, a_s, b_s, self.start_epoch_s, steps_key)
        with _BLOCKS_LOCK:
            block = _BLOCKS.pop(key, None)
        if block is None:
            block = self._make_block(a_s, b_s)  # outside the lock: two threads may both make it, alike
        with _BLOCKS_LOCK:
            while len(_BLOCKS) >= _MAX_CACHED_BLOCKS:
                _BLOCKS.pop(next(iter(_BLOCKS)))
            _BLOCKS[key] = block  # (re)inserted last: the dict's order is the order of use
        return block

    def _make_block(self, a_s: float, b_s: float) -> WeatherBlock:
        weather = self.source.window(a_s, b_s)
        dry_bulb_c = weather.dry_bulb_c.values.tolist()
        steps = self._steps_of(weather) if self._steps_of is not None else [None] * len(dry_bulb_c)
        starts_s = (weather.dry_bulb_c.edges_epoch_s - self.start_epoch_s).tolist()
        return WeatherBlock(starts_s, steps, dry_bulb_c, weather.wet_bulb_c.values.tolist(), b_s)

    @property
    def steps_applied(self) -> int:
        """Weather steps the meter has applied so far."""
        return self.meter.weather_steps_applied

    def _run(self, block):
        # One event per block, not per step: the meter applies the block's steps itself as its time crosses
        # them (`Meter.schedule_weather`), which is what makes an hourly weather year cheap.
        env = self.env
        while block is not None:
            b_s = block.end_epoch_s
            wait_s = b_s - self.start_epoch_s - env.now
            if wait_s > 0:
                yield env.timeout(wait_s)
            if b_s >= self.source.end_epoch_s:
                # A file that ends: the run may not outlast it.
                self.source.check_covers(self.start_epoch_s + env.now + 1.0)
            block = self._block(b_s)
            if block is not None:
                block.schedule(self.meter, env.now)


def weather_section(scenario: Scenario) -> WeatherSection | None:
    """[weather] as given; the default built-in climate for a plant without one; None for fixed_pue without."""
    if scenario.weather is not None:
        return scenario.weather
    if scenario.facility.model == "plant":
        return WeatherSection()
    return None


def attach_weather(env: simpy.Environment, meter: Meter, facility, scenario: Scenario, start_epoch_s: float
                   ) -> WeatherDriver | None:
    """Read the scenario's weather and start its driver (None when the scenario models no weather)."""
    section = weather_section(scenario)
    if section is None:
        return None
    if scenario.scenario.duration is not None:
        until_epoch_s = start_epoch_s + scenario.scenario.duration
    elif scenario.jobs or getattr(scenario, "services", None):
        until_epoch_s = None  # the run ends with its work
    else:
        until_epoch_s = start_epoch_s
    return WeatherDriver(env, meter, facility, weather_source(section), start_epoch_s, until_epoch_s)


def facility_summary(scenario: Scenario, facility, weather: WeatherDriver | None, recorder) -> dict:
    """The summary's facility lines: WUE, the cooling energy by equipment, what the plant and the weather were."""
    it_kwh = recorder.total("it_kwh")
    water_l = recorder.total("water_l")
    parts = getattr(facility, "part_names", ())
    if isinstance(facility, PlantFacility):
        described = {"model": "plant", "preset": scenario.facility.preset_name, **facility.describe()}
    else:
        described = {"model": scenario.facility.model, "pue": scenario.facility.pue,
                     "cooling_share": scenario.facility.cooling_share}
    return {
        "wue_l_per_kwh": water_l / it_kwh if it_kwh > 0 else None,
        "cooling_parts_energy_kwh": {name: recorder.total(f"cooling_{name}_kwh") for name in parts},
        "facility": described,
        "weather": None if weather is None else {
            "source": weather.source.description,
            "steps": weather.steps_applied,
            "notes": list(weather.source.notes),
        },
    }


__all__ = ["ALL_PARTS", "PlantFacility", "WeatherDriver", "WeatherSource", "WeatherSpanError", "attach_weather",
           "build_plant", "facility_summary", "installed_parts", "weather_source"]
