"""The exact energy meter.

Every load (a group of identical devices in one state, owned by a job, a service or the idle pool)
draws a power that is constant, or periodic with a closed-form integral, between events. Whenever a
load, the weather or a grid signal changes, the owner of that change first calls `advance(now)`,
which integrates the old state up to now; output bins are cut from that exact integral. Facility
overhead (cooling, power losses, misc) is evaluated from the IT heat load and the weather whenever
either changes, so it too is piecewise constant and integrated exactly.

Everything here is in joules and seconds; conversion to kWh happens in the output layer.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Iterable, Mapping, NamedTuple, Protocol

import numpy as np

from sim.engine.cyclic import SwitchPower
from sim.engine.profiles import ZERO, ConstantPower, PeriodicPower
from sim.units import J_PER_KWH

IT_CHANNELS = ("gpu", "host", "network", "storage")
_CHANNEL_INDEX = {name: i for i, name in enumerate(IT_CHANNELS)}

# Owner of the facility's overhead when no IT load draws power at all (e.g. misc load alone).
UNATTRIBUTED = "unattributed"

# A crossing of at least this many stretches gets its facility draws evaluated at once (`Meter._plan_draws`), in
# chunks of at most the second number (so that a plan's memory does not grow with the crossing).
_PLAN_MIN_STRETCHES = 16
_PLAN_MAX_STRETCHES = 2048

# A log of load changes (`Meter._flush`) at least this long is replayed by the compiled loops of
# sim/engine/meter_kernel.py (a call costs some microseconds to set up); a shorter one in Python. The log is replayed
# at the latest when it reaches the second number, so that its memory stays small.
_COMPILED_MIN_CHANGES = 64
_MAX_PENDING_CHANGES = 16_384
_MAX_PENDING_ITEMS = 3 * _MAX_PENDING_CHANGES   # three items a change
# New meters log their changes (`Meter.defer_changes`); False makes every meter integrate each change as it comes
# (the same numbers: tests and benchmarks compare the two).
DEFER_CHANGES = True


_KERNEL: list = []   # meter_kernel once imported (or None without numba): `_meter_kernel`


def _meter_kernel():
    """sim/engine/meter_kernel.py, imported on first use (numba takes a moment to import; a run that never logs a
    long stretch of changes does without it), or None where numba is missing."""
    if not _KERNEL:
        try:
            from sim.engine import meter_kernel
        except ImportError:
            meter_kernel = None
        _KERNEL.append(meter_kernel)
    return _KERNEL[0]


@dataclass(frozen=True)
class EnergySignal:
    """A grid signal that weighs facility energy: carbon intensity, marginal intensity, price, water.

    Over every stretch of constant value the meter accumulates facility_kwh x value; the amount is
    that integral x `amount_per_rate_kwh` (e.g. g -> kg for carbon: 1/1000).
    """

    key: str
    rate_column: str
    amount_column: str
    amount_per_rate_kwh: float
    rate_unit: str = ""
    amount_unit: str = ""


CARBON = EnergySignal("carbon", "carbon_intensity_g_per_kwh", "carbon_kg", 1.0 / 1000.0, "gCO2e/kWh", "kgCO2e")


class FacilityDraw(NamedTuple):
    """Facility power beyond IT at one instant [W], with an optional breakdown by equipment.

    (A NamedTuple: the meter asks for one at every change of the IT load, and a tuple is cheap to make.)
    """

    cooling_w: float
    power_loss_w: float
    misc_w: float = 0.0
    water_l_per_s: float = 0.0
    parts_w: tuple[float, ...] = ()   # cooling power of each part [W], in the order of the model's `part_names`


class FacilityModel(Protocol):
    """Maps the IT heat load [W] and the outdoor weather to the facility's overhead draw."""

    part_names: tuple[str, ...]

    def draw(self, it_power_w: float, weather: object | None) -> FacilityDraw: ...


@dataclass
class BinRecord:
    """Exact integrals over one output interval [start_s, end_s)."""

    start_s: float
    end_s: float
    channel_energy_j: list[float]
    cooling_energy_j: float
    power_loss_energy_j: float
    misc_energy_j: float
    water_l: float
    ambient_time_integral: float  # C x s
    part_energy_j: list[float]   # cooling energy of each part [J], in the order of the facility's part_names
    # per signal key: facility kWh x rate, and rate x s (for the time mean when no energy flowed)
    signal_energy_integral: dict[str, float]
    signal_time_integral: dict[str, float]
    wet_bulb_time_integral: float = 0.0  # C x s

    @property
    def carbon_g(self) -> float:
        return self.signal_energy_integral.get(CARBON.key, 0.0)

    @property
    def interval_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def it_energy_j(self) -> float:
        return math.fsum(self.channel_energy_j)

    @property
    def facility_energy_j(self) -> float:
        return math.fsum((*self.channel_energy_j, self.cooling_energy_j, self.power_loss_energy_j, self.misc_energy_j))


@dataclass
class OwnerTotals:
    """Energy, overhead share and carbon attributed to one owner (job, service, idle pool)."""

    signal_keys: tuple[str, ...] = (CARBON.key,)
    channel_energy_j: list[float] = field(default_factory=lambda: [0.0] * len(IT_CHANNELS))
    facility_energy_j: float = 0.0
    water_l: float = 0.0
    signal_energy_integral: dict[str, float] = field(default_factory=dict)

    @property
    def carbon_g(self) -> float:
        return self.signal_energy_integral.get(CARBON.key, 0.0)

    @property
    def it_energy_j(self) -> float:
        return math.fsum(self.channel_energy_j)


class Load:
    """A handle on one (channel, owner) power draw. Change it only through `set_profile`/`set_power_w`.

    A constant draw is held as a float (`power_w`), a periodic one as its profile (`periodic`).
    """

    __slots__ = ("meter", "channel_index", "owner", "power_w", "periodic", "index")

    def __init__(self, meter: "Meter", channel_index: int, owner: str, index: int):
        self.meter = meter
        self.channel_index = channel_index
        self.owner = owner
        self.power_w = 0.0   # (while the meter holds a log of changes, the power before them: see `profile`)
        self.periodic: PeriodicPower | None = None
        self.index = index   # in the meter's list of loads

    @property
    def profile(self) -> ConstantPower | PeriodicPower:
        self.meter.flush()
        return self.periodic if self.periodic is not None else ConstantPower(self.power_w)

    def set_power_w(self, now_s: float, power_w: float) -> None:
        meter = self.meter
        # The common change, logged (`Meter.flush`): no bin edge nor scheduled step is crossed, so integrating up
        # to now_s is only moving the meter's clock, and no periodic load needs integrating per stretch (where
        # one does, or logging is off, _log_before_s is -inf).
        if meter.now_s <= now_s < meter._log_before_s:
            meter.now_s = now_s
            pending = meter._pending
            pending += (now_s, self.index, power_w)
            if len(pending) >= _MAX_PENDING_ITEMS:
                meter.flush()
            return
        meter.set_constant(self, now_s, power_w)

    def set_profile(self, now_s: float, profile: ConstantPower | PeriodicPower) -> None:
        if isinstance(profile, ConstantPower):
            self.meter.set_constant(self, now_s, profile.power_w)
        else:
            self.meter.change(self, now_s, profile)


class _Owner:
    """One owner's constant draws and the accumulators it last collected at (see `Meter._integrate`)."""

    __slots__ = ("name", "totals", "const_w", "drawing", "settled_s", "snapshot", "loads")

    def __init__(self, name: str, totals: OwnerTotals, settled_s: float, snapshot: list[float]):
        self.name = name
        self.loads: list[Load] = []               # its loads (`Meter._refresh_sums` visits those of drawing owners)
        self.totals = totals
        self.const_w = [0.0] * len(IT_CHANNELS)   # constant draws by channel [W]
        self.drawing = 0                          # its loads that draw power (constant != 0, or periodic)
        self.settled_s = settled_s                # when it last collected
        self.snapshot = snapshot                  # the per-IT-joule accumulators then (`_accumulators`)


class _Plan:
    """The stretches of one long crossing (`Meter._plan_draws`): where each starts and ends [s], its facility draw
    (FacilityDraw's fields, as a plain tuple) and, with periodic loads, its measured IT energies (`Meter._measure`)."""

    __slots__ = ("starts_s", "ends_s", "draws", "measured", "next")

    def __init__(self, starts_s: list[float], ends_s: list[float], draws: list[tuple], measured: list | None):
        self.starts_s, self.ends_s, self.draws, self.measured = starts_s, ends_s, draws, measured
        self.next = 0

    def index(self, start_s: float, end_s: float) -> int:
        """The index of the stretch [start_s, end_s) if it is the plan's next one (it then counts as taken), else -1."""
        i = self.next
        if i < len(self.ends_s) and self.ends_s[i] == end_s and self.starts_s[i] == start_s:
            self.next = i + 1
            return i
        return -1


class Meter:
    """Integrates every load, the facility overhead and the signals' amounts of the energy, exactly.

    How the work is kept small (what each piece buys):

    * Between changes every rate is constant, so integration is lazy: `advance(t)` only closes the output
      bins that end by t; the stretch since the last change is integrated once, when a rate changes or a
      bin closes (`_integrate`). A change costs O(channels + facility parts), whatever happened before.
    * Signals are integrated against running totals instead of per stretch: over any time in which a
      signal's value v is constant, its amount is v x (facility energy at the end - at the start) and an
      owner's share per IT joule is v x (the facility-per-IT-joule accumulator's increase). So a change of
      a load does not touch the signals, and a change of one signal touches only that signal (unless a
      periodic or unattributed draw needs the stretch cut there: `_cut_for_signals`).
    * Owners are not visited per stretch: an owner collects power x (accumulators now - when it last
      changed) when it next changes (or when totals are asked for), so a stretch costs nothing per owner.
    * The facility model is evaluated only when the IT heat or the weather changes (`facility_draw` caches).
    * Weather and grid signals known ahead are scheduled (`schedule_weather`, `schedule_signal`) and applied as
      `advance` crosses their steps, like bin edges: an hourly step costs no SimPy event. Before a long crossing
      (hours without events), a facility model that can (`draws`: the cooling plant) is evaluated for all its
      stretches in one call (`_plan_draws`), with the same numbers as one call per stretch.
    * A constant load's change or a signal's change that crosses no edge (a bin end, a scheduled step) is only
      logged: an append, about 0.3 us instead of 2-5 us of integrating and settling. The log is replayed, in order
      and with the same arithmetic, as soon as anything else reads or changes the meter (`flush`): a long log by
      the compiled loops of sim/engine/meter_kernel.py, a short one in Python. So a run whose every SimPy event
      changes a load keeps up with SimPy; the numbers are those of one change at a time, bit for bit
      (tests/test_meter_kernel.py; `defer_changes = False` turns the log off).
    """

    # Running sums of constant powers are refreshed from scratch this often, so that millions of
    # +/- updates cannot leave a rounding residue on a group that went back to zero.
    _REFRESH_EVERY = 4096

    def __init__(
        self,
        bin_s: float,
        facility: FacilityModel,
        on_bin: Callable[[BinRecord], None],
        intensity_g_per_kwh: float = 0.0,
        weather: object | None = None,
        ambient_c: float = math.nan,
        signals: tuple[EnergySignal, ...] = (),
    ):
        if not bin_s > 0:
            raise ValueError("bin_s must be positive")
        self.bin_s = float(bin_s)
        self.facility = facility
        self.on_bin = on_bin
        self.now_s = 0.0
        self.signals: tuple[EnergySignal, ...] = (CARBON, *(sig for sig in signals if sig.key != CARBON.key))
        self._signal_keys = tuple(sig.key for sig in self.signals)
        self._signal_index = {key: i for i, key in enumerate(self._signal_keys)}
        n_signals = len(self.signals)
        self._values = [float(intensity_g_per_kwh) if key == CARBON.key else 0.0 for key in self._signal_keys]
        self.weather = weather
        self.ambient_c = float(ambient_c)
        self.wet_bulb_c = math.nan
        self._loads: list[Load] = []
        # Changes logged but not yet integrated, flat: (instant [s], load index, constant power [W]) or (instant [s],
        # -1 - signal index, rate) each. Every method that reads or changes the meter otherwise replays them first
        # (`flush`).
        self._pending: list = []
        self._defer_changes = DEFER_CHANGES
        self._periodic: list[Load] = []
        self._switching = False   # whether a periodic load's profile is a `SwitchPower` (`_take_switches`)
        self._channel_const_w = [0.0] * len(IT_CHANNELS)
        self._owners: dict[str, _Owner] = {}
        self._totals: dict[str, OwnerTotals] = {}
        # Owners with at least one load drawing power: only they are settled when totals are asked for.
        self._active_owners: dict[str, None] = {}
        # Owners whose totals changed since `changed_owner_totals` last asked (hourly matching asks every hour; a
        # year of a job queue has tens of thousands of owners, few of them drawing in any hour).
        self._changed_owners: dict[str, None] = {}
        self._changes_since_refresh = 0
        self._draw: FacilityDraw | None = None
        self._draw_heat_w = 0.0

        # The stretch not yet integrated starts here; the rates below hold over it once `_rates_valid`.
        self._since_s = 0.0
        self._rates_valid = False
        self._it_w = self._facility_w = self._cooling_w = self._loss_w = self._misc_w = self._water_l_per_s = 0.0
        self._parts_w: tuple[float, ...] = ()
        self._fac_per_it = self._water_per_it = 0.0   # facility W and water L/s per IT W
        # Running totals from the start of the run (integrated up to _since_s):
        self._facility_j = 0.0          # facility energy [J]
        self._fac_per_it_s = 0.0        # integral of facility W per IT W over time [s]
        self._water_per_it_s = 0.0      # integral of water L/s per IT W over time [L/J x s]
        # Per signal: the instant, facility total and facility-per-IT integral of its last integration, and
        # its amount per IT joule accumulated up to then.
        self._sig_at_s = [0.0] * n_signals
        self._sig_facility_j = [0.0] * n_signals
        self._sig_fac_per_it_s = [0.0] * n_signals
        self._sig_per_it = [0.0] * n_signals
        # The open bin, as flat accumulators (a BinRecord is built when it closes).
        self._bin_index = 0
        self._bin_start_s = 0.0
        self._bin_end_s = self.bin_s
        self._part_names = tuple(facility.part_names)
        # A facility model whose draw ignores the weather (fixed_pue) keeps its cached draw across weather steps.
        self._weather_dependent = bool(getattr(facility, "weather_dependent", True))
        # A weather-dependent facility model that can evaluate many (heat, weather) pairs at once (`draws`: the
        # cooling plant) gets the draws of a long crossing in one call (`_plan_draws`).
        self._draws = getattr(facility, "draws", None) if self._weather_dependent else None
        self._plan: _Plan | None = None
        self._reset_bin()
        self.finished = False
        # Weather known ahead (`schedule_weather`): its steps are applied as `advance` crosses them, like bin
        # edges, so an hourly weather year costs no SimPy event per step.
        self._wx_starts_s: list[float] = []
        self._wx_steps: list = []
        self._wx_dry_bulb_c: list[float] = []
        self._wx_wet_bulb_c: list[float] = []
        self._wx_index = 0
        self._wx_next_s = math.inf
        self.weather_steps_applied = 0
        # Grid signals known ahead (`schedule_signal`), likewise: per signal, its steps' starts and values, the index
        # of the next, and when that is; `_sig_next_s` is the earliest of them.
        self._sched_starts_s: list[list[float]] = [[] for _ in range(n_signals)]
        self._sched_values: list[list[float]] = [[] for _ in range(n_signals)]
        self._sched_index = [0] * n_signals
        self._sched_next_s = [math.inf] * n_signals
        self._sig_next_s = math.inf
        self._next_edge_s = self._bin_end_s   # the earliest of the open bin's end, the next weather and signal steps
        # changes before this instant are logged (`flush`): _next_edge_s while logging is on and no load is periodic
        self._log_before_s = self._next_edge_s

    @property
    def defer_changes(self) -> bool:
        """Whether constant-load and signal changes that cross no edge are logged and replayed in bulk (`flush`):
        the same numbers, bit for bit, faster. On unless turned off (tests compare both ways)."""
        return self._defer_changes

    @defer_changes.setter
    def defer_changes(self, on: bool) -> None:
        self.flush()
        self._defer_changes = bool(on)
        self._set_log_before()

    def _set_log_before(self) -> None:
        """Keep _log_before_s in step with _next_edge_s, the periodic loads and `defer_changes`."""
        self._log_before_s = self._next_edge_s if self._defer_changes and not self._periodic else -math.inf

    # ----------------------------------------------------------------- loads
    def load(self, channel: str, owner: str) -> Load:
        """Register a draw on IT channel `channel` ('gpu', 'host', 'network', 'storage') for `owner`."""
        if channel not in _CHANNEL_INDEX:
            raise ValueError(f"unknown IT channel {channel!r}; expected one of {IT_CHANNELS}")
        self.flush()
        load = Load(self, _CHANNEL_INDEX[channel], owner, len(self._loads))
        self._loads.append(load)
        if owner not in self._owners:
            totals = OwnerTotals(signal_keys=self._signal_keys)
            self._totals[owner] = totals
            self._owners[owner] = _Owner(owner, totals, self.now_s, self._accumulators(self.now_s))
        self._owners[owner].loads.append(load)
        return load

    def set_constant(self, load: Load, now_s: float, power_w: float) -> None:
        """Integrate up to `now_s`, then give `load` the constant draw `power_w` [W] (the common change)."""
        if self._pending:
            self.flush()
        if now_s != self.now_s:
            self.advance(now_s)
        self._apply_constant(load, self.now_s, power_w)

    # ------------------------------------------------------------ the log of changes
    def flush(self) -> None:
        """Replay the logged changes of loads and signals (`Load.set_power_w`, `set_constants`, `set_signal`) in
        order: the meter is then exactly as if each had been made when it came. A long log goes to the compiled
        loops of sim/engine/meter_kernel.py (what they buy: about 0.1 us a change instead of 1-7), a short one, or
        what they cannot take, through `_apply_logged`."""
        pending = self._pending
        if not pending:
            return
        self._pending = []
        done = self._flush_compiled(pending) if len(pending) >= 3 * _COMPILED_MIN_CHANGES else 0
        for i in range(3 * done, len(pending), 3):
            self._apply_logged(pending[i], pending[i + 1], pending[i + 2])

    def _apply_logged(self, t_s: float, code: int, value: float) -> None:
        """One logged change at t_s (the clock is at t_s or past it, with no edge crossed since): load `code` set
        to the constant draw `value` [W], as `set_constant` does, or (code < 0) energy signal -1 - code set to the
        rate `value`, as `set_signal` does."""
        if code >= 0:
            self._apply_constant(self._loads[code], t_s, value)
        else:
            self._apply_signal(-1 - code, t_s, value)

    def _apply_constant(self, load: Load, t_s: float, power_w: float) -> None:
        """Load `load` set to the constant draw `power_w` [W] at t_s, the meter's clock being at t_s or past it
        with no edge crossed since (`set_constant`, or a logged change)."""
        if load.periodic is None and power_w == load.power_w:
            return  # nothing changes: nothing to integrate
        self._integrate(t_s)
        owner = self._owners[load.owner]
        self._settle(owner, t_s)
        self._set_constant(load, owner, power_w)

    def _flush_compiled(self, pending: list) -> int:
        """Replay the log with meter_kernel, chunk by chunk (a chunk ends where the sums are refreshed); returns how
        many changes it replayed: all, or fewer where it met what only the Python meter does (overhead with no IT
        load; a facility model without `draw_table`; numba missing)."""
        kernel = _meter_kernel()
        if kernel is None or getattr(self.facility, "draw_table", None) is None:
            return 0
        log = np.array(pending, dtype=float).reshape(-1, 3)
        log_t_s = np.ascontiguousarray(log[:, 0])
        log_w = np.ascontiguousarray(log[:, 2])
        log_load = log[:, 1].astype(np.int64)   # a load's index, or -1 - a signal's
        is_load = log_load >= 0
        used, compact = np.unique(log_load[is_load], return_inverse=True)
        log_load[is_load] = compact.reshape(-1)   # the kernel's loads: those in the log
        loads = [self._loads[i] for i in used.tolist()]
        owner_names = list(dict.fromkeys(load.owner for load in loads))
        owner_index = {name: i for i, name in enumerate(owner_names)}
        load_channel = np.array([load.channel_index for load in loads], dtype=np.int64)
        load_owner = np.array([owner_index[load.owner] for load in loads], dtype=np.int64)
        n, start = log_w.size, 0
        while start < n:
            replayed = self._replay_chunk(kernel, log_t_s[start:], log_load[start:], log_w[start:], loads,
                                          load_channel, load_owner, owner_names)
            if replayed is None:
                break   # the rest in Python
            done, stopped = replayed
            start += done
            if stopped:   # a stretch with no IT load: that change in Python, then on
                i = 3 * start
                self._apply_logged(pending[i], pending[i + 1], pending[i + 2])
                start += 1
        return start

    def _replay_chunk(self, kernel, log_t_s, log_load, log_w, loads, load_channel, load_owner,
                      owner_names) -> tuple[int, bool] | None:
        """One chunk of `_flush_compiled`: pack the state the changes touch, replay, unpack. Returns the entries
        replayed and whether the kernel stopped before one it leaves to Python (a stretch with no IT load: the
        next entry is for `_apply_logged`); None where the facility gives no draws for it (all of them are)."""
        load_w = np.array([load.power_w for load in loads], dtype=float)
        channel_w = np.array(self._channel_const_w, dtype=float)
        heat_w = np.empty(log_w.size + 1)
        budget = max(self._REFRESH_EVERY - self._changes_since_refresh, 1)
        consumed, changes = kernel.heats(load_w.copy(), load_channel, channel_w.copy(), log_load, log_w,
                                         np.int64(budget), heat_w)
        heat_w = heat_w[:changes + 1]
        n_parts = len(self._part_names)
        table = None
        if not self._rates_valid or len(self._parts_w) == n_parts:
            # the kernel takes no draw at a heat <= 0 (it stops there): any positive heat stands in
            table = self.facility.draw_table(np.where(heat_w > 0.0, heat_w, 1.0), self.weather)
        if table is None or table[4].shape != (heat_w.size, n_parts):
            return None
        cooling_w, loss_w, misc_w, water_l_per_s, parts_w_table = table
        owners = [self._owners[name] for name in owner_names]
        n_owners, n_signals = len(owners), len(self._values)
        signal_keys = self._signal_keys
        owner_w = np.array([o.const_w for o in owners], dtype=float).reshape(n_owners, len(IT_CHANNELS))
        owner_drawing = np.array([o.drawing for o in owners], dtype=np.int64)
        owner_settled_s = np.array([o.settled_s for o in owners], dtype=float)
        owner_snapshot = np.array([o.snapshot for o in owners], dtype=float).reshape(n_owners, 2 + n_signals)
        owner_channel_j = np.array([o.totals.channel_energy_j for o in owners], dtype=float).reshape(
            n_owners, len(IT_CHANNELS))
        owner_facility_j = np.array([o.totals.facility_energy_j for o in owners], dtype=float)
        owner_water_l = np.array([o.totals.water_l for o in owners], dtype=float)
        owner_signal = np.array([[o.totals.signal_energy_integral.get(key, 0.0) for key in signal_keys]
                                 for o in owners], dtype=float).reshape(n_owners, n_signals)
        owner_signal_set = np.zeros(n_owners, dtype=np.bool_)
        state = np.array([
            self._since_s, self._facility_j, self._fac_per_it_s, self._water_per_it_s, self._it_w, self._cooling_w,
            self._loss_w, self._misc_w, self._water_l_per_s, self._facility_w, self._fac_per_it, self._water_per_it,
            self.ambient_c, self.wet_bulb_c, self._bin_cooling_j, self._bin_loss_j, self._bin_misc_j,
            self._bin_water_l, self._bin_ambient, self._bin_wet_bulb], dtype=float)
        istate = np.array([int(self._rates_valid), self._changes_since_refresh], dtype=np.int64)
        parts_w = np.array(self._parts_w if self._rates_valid else [0.0] * n_parts, dtype=float).reshape(n_parts)
        bin_channel_j = np.array(self._bin_channel_j, dtype=float)
        bin_parts_j = np.array(self._bin_parts_j, dtype=float).reshape(n_parts)
        sig_per_it = np.array(self._sig_per_it, dtype=float)
        sig_fac_per_it_s = np.array(self._sig_fac_per_it_s, dtype=float)
        values = np.array(self._values, dtype=float)
        sig_at_s = np.array(self._sig_at_s, dtype=float)
        sig_facility_j = np.array(self._sig_facility_j, dtype=float)
        bin_signal_energy = np.array(self._bin_signal_energy, dtype=float)
        bin_signal_time = np.array(self._bin_signal_time, dtype=float)
        replayed = kernel.replay(
                      np.int64(consumed), log_t_s, log_load, log_w, load_w, load_channel, load_owner, channel_w,
                      bin_channel_j, parts_w, bin_parts_j, state, istate, owner_w, owner_drawing, owner_settled_s,
                      owner_snapshot, owner_channel_j, owner_facility_j, owner_water_l, owner_signal,
                      owner_signal_set, sig_per_it, sig_fac_per_it_s, values, sig_at_s, sig_facility_j,
                      bin_signal_energy, bin_signal_time,
                      np.ascontiguousarray(cooling_w, dtype=float), np.ascontiguousarray(loss_w, dtype=float),
                      np.ascontiguousarray(misc_w, dtype=float), np.ascontiguousarray(water_l_per_s, dtype=float),
                      np.ascontiguousarray(parts_w_table, dtype=float), np.empty(2 + n_signals))
        # unpack: the meter as `_apply_constant` would have left it
        (self._since_s, self._facility_j, self._fac_per_it_s, self._water_per_it_s, it_w, facility_cooling_w,
         facility_loss_w, facility_misc_w, facility_water_l_per_s, facility_w, fac_per_it, water_per_it, _, _,
         self._bin_cooling_j, self._bin_loss_j, self._bin_misc_j, self._bin_water_l, self._bin_ambient,
         self._bin_wet_bulb) = state.tolist()
        self._rates_valid = bool(istate[0])
        if self._rates_valid:
            self._it_w, self._cooling_w, self._loss_w, self._misc_w = (it_w, facility_cooling_w, facility_loss_w,
                                                                       facility_misc_w)
            self._water_l_per_s, self._facility_w = facility_water_l_per_s, facility_w
            self._fac_per_it, self._water_per_it = fac_per_it, water_per_it
            self._parts_w = tuple(parts_w.tolist())
        self._changes_since_refresh = int(istate[1])
        self._sig_per_it, self._sig_fac_per_it_s, self._values = (sig_per_it.tolist(), sig_fac_per_it_s.tolist(),
                                                                  values.tolist())
        self._sig_at_s, self._sig_facility_j = sig_at_s.tolist(), sig_facility_j.tolist()
        self._bin_signal_energy, self._bin_signal_time = bin_signal_energy.tolist(), bin_signal_time.tolist()
        self._channel_const_w = channel_w.tolist()
        self._bin_channel_j = bin_channel_j.tolist()
        self._bin_parts_j = bin_parts_j.tolist()
        for load, power_w in zip(loads, load_w.tolist()):
            load.power_w = power_w
        active = self._active_owners
        for i, (name, owner) in enumerate(zip(owner_names, owners)):
            owner.const_w = owner_w[i].tolist()
            owner.drawing = int(owner_drawing[i])
            owner.settled_s = float(owner_settled_s[i])
            owner.snapshot = owner_snapshot[i].tolist()
            totals = owner.totals
            totals.channel_energy_j[:] = owner_channel_j[i].tolist()
            totals.facility_energy_j = float(owner_facility_j[i])
            totals.water_l = float(owner_water_l[i])
            if owner_signal_set[i]:
                totals.signal_energy_integral.update(zip(signal_keys, owner_signal[i].tolist()))
                self._changed_owners[name] = None
            if owner.drawing:
                active.setdefault(name, None)
            else:
                active.pop(name, None)
        if self._changes_since_refresh >= self._REFRESH_EVERY:
            self._refresh_sums()
        return int(replayed), replayed < consumed

    def set_constants(self, now_s: float, changes: Iterable[tuple[Load, float]]) -> None:
        """Several constant draws at one instant: one integration, and each owner settled once. Logged like one
        change at a time (`Load.set_power_w`) when it crosses no edge: the same numbers, since the later
        settlements of an owner at the same instant add zeros (as in `change_many`)."""
        if self.now_s <= now_s < self._log_before_s:
            self.now_s = now_s
            pending = self._pending
            for load, power_w in changes:
                pending += (now_s, load.index, power_w)
            if len(pending) >= _MAX_PENDING_ITEMS:
                self.flush()
            return
        self.flush()
        self.advance(now_s)
        settled = set()
        for load, power_w in changes:
            if load.periodic is None and power_w == load.power_w:
                continue   # nothing changes: nothing to integrate or settle (as in `set_constant`)
            if not settled:
                self._integrate(self.now_s)
            owner = self._owners[load.owner]
            if load.owner not in settled:
                self._settle(owner, self.now_s)
                settled.add(load.owner)
            self._set_constant(load, owner, power_w)

    def _set_constant(self, load: Load, owner: "_Owner", power_w: float) -> None:
        c = load.channel_index
        was_drawing = load.periodic is not None or load.power_w != 0.0
        if load.periodic is not None:
            self._periodic.remove(load)
            load.periodic = None
            self._set_log_before()
        else:
            self._channel_const_w[c] -= load.power_w
            owner.const_w[c] -= load.power_w
        self._channel_const_w[c] += power_w
        owner.const_w[c] += power_w
        load.power_w = power_w
        self._after_change(load, owner, was_drawing, power_w != 0.0)

    def change(self, load: Load, now_s: float, profile: ConstantPower | PeriodicPower) -> None:
        """Integrate up to `now_s`, then give `load` its new profile."""
        if isinstance(profile, ConstantPower):
            self.set_constant(load, now_s, profile.power_w)
            return
        self.flush()
        self.advance(now_s)
        self._integrate(self.now_s)
        owner = self._owners[load.owner]
        self._settle(owner, self.now_s)
        self._set_periodic(load, owner, profile)

    def change_many(self, now_s: float, changes: Iterable[tuple[Load, ConstantPower | PeriodicPower]]) -> None:
        """Several loads' profiles at one instant, with the totals of one `change` per load (bit for bit: the
        later settlements of an owner at the same instant would add zeros) for one integration and one
        settlement per owner: a training job's restart changes three or four loads of one owner at once."""
        self.flush()
        if now_s != self.now_s:
            self.advance(now_s)
        settled: set[str] = set()
        for load, profile in changes:
            constant = isinstance(profile, ConstantPower)
            if constant and load.periodic is None and profile.power_w == load.power_w:
                continue  # nothing changes: nothing to integrate or settle (as in `set_constant`)
            if not settled:
                self._integrate(self.now_s)
            owner = self._owners[load.owner]
            if load.owner not in settled:
                self._settle(owner, self.now_s)
                settled.add(load.owner)
            if constant:
                self._set_constant(load, owner, profile.power_w)
            else:
                self._set_periodic(load, owner, profile)

    def _set_periodic(self, load: Load, owner: "_Owner", profile: PeriodicPower) -> None:
        c = load.channel_index
        was_drawing = load.periodic is not None or load.power_w != 0.0
        if load.periodic is not None:
            self._periodic.remove(load)
        else:
            self._channel_const_w[c] -= load.power_w
            owner.const_w[c] -= load.power_w
            load.power_w = 0.0
        load.periodic = profile
        self._periodic.append(load)
        self._set_log_before()
        if isinstance(profile, SwitchPower):
            self._switching = True
        self._after_change(load, owner, was_drawing, True)

    def _after_change(self, load: Load, owner: _Owner, was_drawing: bool, now_drawing: bool) -> None:
        if was_drawing != now_drawing:
            owner.drawing += 1 if now_drawing else -1
            if owner.drawing:
                self._active_owners[load.owner] = None
            else:
                self._active_owners.pop(load.owner, None)
                # every load of it draws 0 W: its sums are 0, not what +/- updates left of them
                owner.const_w = [0.0] * len(IT_CHANNELS)
        self._rates_valid = False
        self._changes_since_refresh += 1
        if self._changes_since_refresh >= self._REFRESH_EVERY:
            self._refresh_sums()

    def _refresh_sums(self) -> None:
        """The running sums of constant draws, summed afresh (exactly rounded). Only owners that draw power have
        loads that draw (the others' sums were set to 0 when their last load stopped: `_after_change`), so only
        theirs are visited: a run of many short jobs keeps thousands of finished owners."""
        channel = [[] for _ in IT_CHANNELS]
        for name in self._active_owners:
            owner = self._owners[name]
            per = [[] for _ in IT_CHANNELS]
            for load in owner.loads:
                if load.periodic is None:
                    channel[load.channel_index].append(load.power_w)
                    per[load.channel_index].append(load.power_w)
            owner.const_w = [math.fsum(v) for v in per]
        self._channel_const_w = [math.fsum(v) for v in channel]
        self._changes_since_refresh = 0
        self._rates_valid = False

    # --------------------------------------------------------------- signals
    def set_signal(self, key: str, now_s: float, value: float) -> None:
        """Integrate up to `now_s`, then give energy signal `key` its new rate.

        The common case costs O(1): only this signal's amount since its last change is booked (against the
        running facility total); the stretch of loads is cut only when `_cut_for_signals` says it must be.
        """
        i = self._signal_index.get(key)
        if i is None:
            raise KeyError(f"unknown energy signal {key!r}")
        if self.now_s <= now_s < self._log_before_s:
            self.now_s = now_s   # logged, as a load's change is (`Load.set_power_w`)
            pending = self._pending
            pending += (now_s, -1 - i, value)
            if len(pending) >= _MAX_PENDING_ITEMS:
                self.flush()
            return
        if self._pending:
            self.flush()
        if now_s != self.now_s:
            self.advance(now_s)
        self._apply_signal(i, self.now_s, value)

    def _apply_signal(self, i: int, t_s: float, value: float) -> None:
        """Energy signal i set to the rate `value` at t_s, the meter's clock being at t_s or past it with no edge
        crossed since (`set_signal`, or a logged change)."""
        cw = self._channel_const_w
        if self._periodic or cw[0] + cw[1] + cw[2] + cw[3] <= 0.0:   # `_cut_for_signals`, inlined
            self._integrate(t_s)
        self._integrate_signal(i, t_s)
        self._values[i] = float(value)

    def _set_next_edge(self) -> None:
        """The earliest of the open bin's end and the next weather and signal steps (written out in `_close_bin` and
        `_apply_scheduled_weather`, which run at every edge)."""
        self._next_edge_s = min(self._bin_end_s, self._wx_next_s, self._sig_next_s)
        self._set_log_before()

    def schedule_signal(self, key: str, now_s: float, starts_s: list[float], values: list[float]) -> None:
        """From `now_s` on, energy signal `key` takes `values[i]` from `starts_s[i]` [s, ascending] to the next
        start. The step in force at `now_s` (the last one starting by then) is applied now, as `set_signal`; later
        ones as the meter's time crosses their starts, in time order with the bins and the weather (a bin that
        ends where a step starts is closed first), so an hourly signal costs no SimPy event per step. A new
        schedule replaces what is left of the signal's previous one."""
        i = self._signal_index.get(key)
        if i is None:
            raise KeyError(f"unknown energy signal {key!r}")
        self.flush()
        self.advance(now_s)
        index = bisect_right(starts_s, self.now_s)
        if index > 0:
            self.set_signal(key, self.now_s, values[index - 1])
        self._sched_starts_s[i], self._sched_values[i], self._sched_index[i] = starts_s, values, index
        self._sched_next_s[i] = starts_s[index] if index < len(starts_s) else math.inf
        self._sig_next_s = min(self._sched_next_s)
        self._set_next_edge()

    def _apply_scheduled_signals(self) -> None:
        """The scheduled steps of every signal that start at `_sig_next_s`, as `set_signal` would apply them."""
        at_s = self._sig_next_s
        if at_s > self.now_s:
            self.now_s = at_s
        if self._cut_for_signals():
            self._integrate(at_s)
        next_s = self._sched_next_s
        for i, step_s in enumerate(next_s):
            if step_s == at_s:
                self._integrate_signal(i, at_s)
                index = self._sched_index[i]
                self._values[i] = float(self._sched_values[i][index])
                index += 1
                self._sched_index[i] = index
                starts_s = self._sched_starts_s[i]
                next_s[i] = starts_s[index] if index < len(starts_s) else math.inf
        self._sig_next_s = min(next_s)
        self._set_next_edge()

    @property
    def signal_values(self) -> dict[str, float]:
        """Each energy signal's current rate, by key."""
        self.flush()
        return dict(zip(self._signal_keys, self._values))

    def set_intensity(self, now_s: float, intensity_g_per_kwh: float) -> None:
        self.set_signal(CARBON.key, now_s, intensity_g_per_kwh)

    @property
    def intensity_g_per_kwh(self) -> float:
        self.flush()
        return self._values[self._signal_index[CARBON.key]]

    def set_weather(self, now_s: float, weather: object, ambient_c: float, wet_bulb_c: float = math.nan) -> None:
        """Integrate up to `now_s`, then hand the facility model its new weather (outdoor dry and wet bulb [C])."""
        self.flush()
        self.advance(now_s)
        self._integrate(self.now_s)
        self._take_weather(weather, ambient_c, wet_bulb_c)

    def _take_weather(self, weather: object, ambient_c: float, wet_bulb_c: float) -> None:
        self.weather = weather
        self.ambient_c = float(ambient_c)
        self.wet_bulb_c = float(wet_bulb_c)
        if self._weather_dependent:
            self._draw = None
            self._rates_valid = False
        self.weather_steps_applied += 1

    def schedule_weather(self, now_s: float, starts_s: list[float], steps: list, dry_bulb_c: list[float],
                         wet_bulb_c: list[float]) -> None:
        """From `now_s` on, step i of the weather holds from `starts_s[i]` [s, ascending] to the next start: the
        facility model's `draw` gets `steps[i]`, and the outdoor dry and wet bulb are `dry_bulb_c[i]`,
        `wet_bulb_c[i]` [C]. The step in force at `now_s` (the last one starting by then) is applied now; later
        ones as the meter's time crosses their starts. A new schedule replaces what is left of the previous one.
        """
        self.flush()
        self.advance(now_s)
        index = bisect_right(starts_s, self.now_s)
        if index > 0:
            self._integrate(self.now_s)
            self._take_weather(steps[index - 1], dry_bulb_c[index - 1], wet_bulb_c[index - 1])
        self._wx_starts_s, self._wx_steps, self._wx_index = starts_s, steps, index
        self._wx_dry_bulb_c, self._wx_wet_bulb_c = dry_bulb_c, wet_bulb_c
        self._wx_next_s = starts_s[index] if index < len(starts_s) else math.inf
        self._set_next_edge()

    def _apply_scheduled_weather(self) -> None:
        # Once per weather step (8,760 times a year), so written out rather than through set_weather.
        at_s = self._wx_next_s
        if at_s > self._since_s:
            self._integrate(at_s)
        if at_s > self.now_s:
            self.now_s = at_s
        index = self._wx_index
        self.weather = self._wx_steps[index]
        self.ambient_c = self._wx_dry_bulb_c[index]
        self.wet_bulb_c = self._wx_wet_bulb_c[index]
        if self._weather_dependent:
            self._draw = None
            self._rates_valid = False
        self.weather_steps_applied += 1
        index += 1
        self._wx_index = index
        starts_s = self._wx_starts_s
        self._wx_next_s = starts_s[index] if index < len(starts_s) else math.inf
        next_edge_s = self._bin_end_s if self._bin_end_s < self._wx_next_s else self._wx_next_s
        self._next_edge_s = next_edge_s if next_edge_s < self._sig_next_s else self._sig_next_s
        self._set_log_before()

    # ------------------------------------------------------------ integration
    @property
    def it_power_w(self) -> float:
        """IT heat load [W] seen by the facility: constant draws plus the period mean of periodic ones."""
        self.flush()
        return math.fsum(self._channel_const_w) + math.fsum(l.periodic.mean_power_w for l in self._periodic)

    def facility_draw(self, it_power_w: float | None = None) -> FacilityDraw:
        """The facility's overhead draw at IT heat load `it_power_w` (default: the current load).

        Cached while neither the heat load nor the weather changes, so a stretch of constant loads
        evaluates the facility model once however many output intervals it spans.
        """
        self.flush()
        heat_w = max(self.it_power_w if it_power_w is None else it_power_w, 0.0)
        if self._draw is None or self._draw_heat_w != heat_w:
            self._draw = self.facility.draw(heat_w, self.weather)
            self._draw_heat_w = heat_w
        return self._draw

    def advance(self, t_s: float) -> None:
        """Move to `t_s`, integrating and closing every bin that ends by then (the rest is integrated lazily)."""
        if self._pending:
            self.flush()
        if t_s <= self.now_s:
            if t_s < self.now_s - 1e-9 * max(1.0, abs(self.now_s)):
                raise ValueError(f"meter cannot go back in time: {t_s} < {self.now_s}")
            return
        if t_s >= self._next_edge_s:
            self._cross_edges(t_s)
        self.now_s = t_s

    def _cross_edges(self, t_s: float) -> None:
        """Close every bin that ends by `t_s` and apply every scheduled weather and signal step that starts by
        then, in time order (a bin that ends where a step starts is closed first: the step holds from there on;
        the weather goes before a signal at the same instant)."""
        if self._draws is not None:
            while t_s - self._next_edge_s >= _PLAN_MIN_STRETCHES * self.bin_s:
                planned_to_s = self._plan_draws(t_s)
                if planned_to_s is None:
                    break
                self._cross_to(planned_to_s)
        self._cross_to(t_s)

    def _cross_to(self, t_s: float) -> None:
        """The crossing itself, with the plan made for it (if any) dropped at its end."""
        try:
            while True:
                bin_end_s, weather_s, signal_s = self._bin_end_s, self._wx_next_s, self._sig_next_s
                if weather_s < bin_end_s and weather_s <= signal_s:
                    if t_s < weather_s:
                        break
                    self._apply_scheduled_weather()
                elif signal_s < bin_end_s:
                    if t_s < signal_s:
                        break
                    self._apply_scheduled_signals()
                else:
                    if t_s < bin_end_s:
                        break
                    self._close_bin(bin_end_s)
        finally:
            self._plan = None

    def _plan_draws(self, t_s: float) -> float | None:
        """Before a long crossing (hours without an event: a year-long training run closes its 8,760 hourly bins in
        one `advance`), find the stretches it will integrate, measure their IT heat and ask the facility model for
        all their draws in one call: the cooling plant's numpy twin of its scalar path (`draws`) costs a fraction
        of what a call per weather step does. Each stretch then takes its draw, and its measured energies, from
        the plan: the same numbers, bit for bit, as evaluating them there (benchmarks/facility_overhead.py).
        Returns where the planned stretches end (at most `_PLAN_MAX_STRETCHES` of them), or None for no plan.

        The stretches end at the bin ends, weather starts and (where signals cut stretches) signal starts up to
        t_s, as `_cross_edges` walks them; each has the weather step last started by its start."""
        if self._switching:
            return None  # a profile that switches is unwrapped between stretches (`_take_switches`): measure as we go
        bin_s, wx_starts_s, wx_index = self.bin_s, self._wx_starts_s, self._wx_index
        t_s = min(t_s, self._next_edge_s + _PLAN_MAX_STRETCHES * bin_s)  # enough edges for a chunk, not many more
        # bin ends as `_close_bin` makes them, (index + 1) x bin_s: an int times a float rounds alike in numpy
        bin_ends_s = np.arange(self._bin_index + 1, math.floor(t_s / bin_s) + 2) * bin_s
        wx_end = bisect_right(wx_starts_s, t_s, wx_index)
        weather_starts_s = np.array(wx_starts_s[wx_index:wx_end], dtype=float)
        ends_s = np.union1d(bin_ends_s[bin_ends_s <= t_s], weather_starts_s)
        if self._sig_next_s <= t_s and self._cut_for_signals():
            # signal steps cut the stretch here (`_apply_scheduled_signals`)
            for starts_s, index in zip(self._sched_starts_s, self._sched_index):
                ends_s = np.union1d(ends_s, starts_s[index:bisect_right(starts_s, t_s, index)])
        ends_s = ends_s[ends_s > self._since_s][:_PLAN_MAX_STRETCHES]
        if ends_s.size < _PLAN_MIN_STRETCHES:
            return None
        starts_s = np.concatenate(([self._since_s], ends_s[:-1]))
        in_force = (np.searchsorted(weather_starts_s, starts_s, side="right") - 1).tolist()
        steps, weather = self._wx_steps, self.weather
        weathers = [steps[wx_index + j] if j >= 0 else weather for j in in_force]
        starts, ends = starts_s.tolist(), ends_s.tolist()
        if self._periodic:
            measured = list(map(self._measure, starts, ends))
            heats_w = [max(it_j / (b - a), 0.0) for (_, _, it_j), a, b in zip(measured, starts, ends)]
        else:
            cw = self._channel_const_w
            measured = None
            heats_w = [max(cw[0] + cw[1] + cw[2] + cw[3], 0.0)] * len(ends)
        self._plan = _Plan(starts, ends, self._draws(heats_w, weathers), measured)
        return ends[-1]

    def _planned_draw_now(self) -> tuple | None:
        """The plan's draw for the stretch that starts at `_since_s` (rates asked for ahead of integrating it)."""
        plan = self._plan
        if plan is not None and plan.next < len(plan.starts_s) and plan.starts_s[plan.next] == self._since_s:
            return plan.draws[plan.next]
        return None

    def _update_rates(self, draw: tuple | None = None) -> None:
        """The constant rates of the stretch since `_since_s` (constant loads only; see `_integrate`); `draw`, the
        facility's draw at this heat and weather when a plan has it (FacilityDraw's fields)."""
        cw = self._channel_const_w
        it_w = cw[0] + cw[1] + cw[2] + cw[3]
        cooling_w, loss_w, misc_w, water_l_per_s, parts_w = self.facility_draw(it_w) if draw is None else draw
        self._it_w = it_w
        self._cooling_w, self._loss_w, self._misc_w = cooling_w, loss_w, misc_w
        self._water_l_per_s = water_l_per_s
        self._parts_w = parts_w
        self._facility_w = it_w + cooling_w + loss_w + misc_w
        if it_w > 0:
            self._fac_per_it = self._facility_w / it_w
            self._water_per_it = water_l_per_s / it_w
        else:
            self._fac_per_it = self._water_per_it = 0.0
        self._rates_valid = True

    def _cut_for_signals(self) -> bool:
        """Whether a signal change must cut the stretch: periodic loads (their facility draw is taken at the
        stretch's mean heat) and overhead with no IT load (credited per stretch) are integrated per stretch."""
        cw = self._channel_const_w
        return bool(self._periodic) or cw[0] + cw[1] + cw[2] + cw[3] <= 0.0

    def _integrate(self, t_s: float) -> None:
        """Integrate the stretch [_since_s, t_s) of constant state into the bin and the running totals.

        Owners are not visited: the running integrals of facility power and water per IT watt advance,
        and an owner whose draw is constant collects power x their increase when it next changes. Periodic
        loads are attributed here, and overhead with no IT load goes to UNATTRIBUTED.
        """
        start_s = self._since_s
        dt_s = t_s - start_s
        if dt_s <= 0.0:
            return
        self._since_s = t_s
        if self._periodic:
            self._integrate_with_periodic(start_s, t_s)
            return
        if self._plan is not None:
            i = self._plan.index(start_s, t_s)
            if i < 0:
                self._plan = None
            elif not self._rates_valid:
                self._update_rates(self._plan.draws[i])
        if not self._rates_valid:
            self._update_rates()
        cw, bc = self._channel_const_w, self._bin_channel_j
        bc[0] += cw[0] * dt_s
        bc[1] += cw[1] * dt_s
        bc[2] += cw[2] * dt_s
        bc[3] += cw[3] * dt_s
        self._bin_cooling_j += self._cooling_w * dt_s
        self._bin_loss_j += self._loss_w * dt_s
        self._bin_misc_j += self._misc_w * dt_s
        water_l = self._water_l_per_s * dt_s
        self._bin_water_l += water_l
        self._bin_ambient += self.ambient_c * dt_s
        self._bin_wet_bulb += self.wet_bulb_c * dt_s
        if self._parts_w:
            self._add_parts(self._parts_w, dt_s)
        facility_j = self._facility_w * dt_s
        self._facility_j += facility_j
        self._fac_per_it_s += self._fac_per_it * dt_s
        self._water_per_it_s += self._water_per_it * dt_s
        if self._it_w <= 0.0 and facility_j > 0.0:
            self._credit_unattributed(facility_j, water_l)

    def _integrate_with_periodic(self, start_s: float, t_s: float) -> None:
        """As `_integrate`, with periodic loads: the plant sees the mean IT heat of this stretch (exact for
        constant loads and for linear facility models; for a periodic load, iterations of seconds, the
        plant's thermal mass smooths the phases anyway)."""
        dt_s = t_s - start_s
        plan = self._plan
        if plan is not None and (planned := plan.index(start_s, t_s)) >= 0:
            channel_j, periodic_j, it_j = plan.measured[planned]
            cooling_w, loss_w, misc_w, water_l_per_s, parts_w = plan.draws[planned]
        else:
            self._plan = None
            channel_j, periodic_j, it_j = self._measure(start_s, t_s)
            cooling_w, loss_w, misc_w, water_l_per_s, parts_w = self.facility_draw(it_j / dt_s)
        bc = self._bin_channel_j
        for i, e in enumerate(channel_j):
            bc[i] += e
        cooling_j, loss_j, misc_j = cooling_w * dt_s, loss_w * dt_s, misc_w * dt_s
        water_l = water_l_per_s * dt_s
        self._bin_cooling_j += cooling_j
        self._bin_loss_j += loss_j
        self._bin_misc_j += misc_j
        self._bin_water_l += water_l
        self._bin_ambient += self.ambient_c * dt_s
        self._bin_wet_bulb += self.wet_bulb_c * dt_s
        if parts_w:
            self._add_parts(parts_w, dt_s)
        facility_j = it_j + cooling_j + loss_j + misc_j
        self._facility_j += facility_j
        if it_j > 0:
            fac_per_it, water_per_it = facility_j / it_j, water_l / it_j
            self._fac_per_it_s += fac_per_it * dt_s
            self._water_per_it_s += water_per_it * dt_s
            values = self._values
            for load, e in zip(self._periodic, periodic_j):
                if e:
                    totals = self._totals[load.owner]
                    self._changed_owners[load.owner] = None
                    totals.channel_energy_j[load.channel_index] += e
                    self._credit(totals, e * fac_per_it, e * water_per_it,
                                 [e * fac_per_it * v / J_PER_KWH for v in values])
        elif facility_j > 0:
            self._credit_unattributed(facility_j, water_l)
        if self._switching:
            self._take_switches(t_s)

    def _add_parts(self, parts_w: tuple[float, ...], dt_s: float) -> None:
        """Add each cooling part's energy over `dt_s` [s] at `parts_w` [W] to the open bin."""
        parts = self._bin_parts_j
        for i, part_w in enumerate(parts_w):
            parts[i] += part_w * dt_s

    def _measure(self, start_s: float, t_s: float) -> tuple[list[float], list[float], float]:
        """The IT energy [J] of the stretch [start_s, t_s): by channel, of each periodic load, and in all."""
        dt_s = t_s - start_s
        channel_j = [p * dt_s for p in self._channel_const_w]
        periodic_j = []
        for load in self._periodic:
            e = load.periodic.energy_j(start_s, t_s)
            channel_j[load.channel_index] += e
            periodic_j.append(e)
        return channel_j, periodic_j, math.fsum(channel_j)

    def _take_switches(self, t_s: float) -> None:
        """Hand each load whose switch instant is past its profile after the switch: the same integral, and
        every later stretch reads that profile directly instead of through the switch (a training job
        switches from its restart to training once per failure, and integrates many stretches after)."""
        switching = False
        for load in self._periodic:
            profile = load.periodic
            while isinstance(profile, SwitchPower) and profile.at_s <= t_s:
                profile = profile.after
            load.periodic = profile
            switching = switching or isinstance(profile, SwitchPower)
        self._switching = switching

    def _credit_unattributed(self, facility_j: float, water_l: float) -> None:
        """Overhead drawn while no IT load draws power (the signals are constant over the stretch: it is cut)."""
        totals = self._totals.get(UNATTRIBUTED)
        if totals is None:
            totals = self._totals[UNATTRIBUTED] = OwnerTotals(signal_keys=self._signal_keys)
        self._changed_owners[UNATTRIBUTED] = None
        self._credit(totals, facility_j, water_l, [facility_j * v / J_PER_KWH for v in self._values])

    @staticmethod
    def _credit(totals: OwnerTotals, facility_j: float, water_l: float, amounts: list[float]) -> None:
        """Add a share of facility energy [J], water [L] and signal amounts (facility kWh x value) to an owner."""
        totals.facility_energy_j += facility_j
        totals.water_l += water_l
        integrals = totals.signal_energy_integral
        for key, amount in zip(totals.signal_keys, amounts):
            integrals[key] = integrals.get(key, 0.0) + amount

    def _integrate_signal(self, i: int, t_s: float) -> None:
        """Book signal i's amount since its last integration (its value was constant since) into the bin and
        its per-IT-joule accumulator. Needs the running totals at t_s: integrated up to t_s, or constant rates."""
        elapsed_s = t_s - self._sig_at_s[i]
        if elapsed_s <= 0.0:
            return
        ahead_s = t_s - self._since_s
        if ahead_s > 0.0:
            facility_j, fac_per_it_s = self._totals_at(t_s)
        else:
            facility_j, fac_per_it_s = self._facility_j, self._fac_per_it_s
        value = self._values[i]
        self._bin_signal_energy[i] += value * (facility_j - self._sig_facility_j[i]) / J_PER_KWH
        self._bin_signal_time[i] += value * elapsed_s
        self._sig_per_it[i] += value * (fac_per_it_s - self._sig_fac_per_it_s[i]) / J_PER_KWH
        self._sig_at_s[i] = t_s
        self._sig_facility_j[i] = facility_j
        self._sig_fac_per_it_s[i] = fac_per_it_s

    def _totals_at(self, t_s: float) -> tuple[float, float]:
        """(facility J, facility-per-IT integral) at t_s >= _since_s, with the stretch's constant rates."""
        ahead_s = t_s - self._since_s
        if ahead_s <= 0.0:
            return self._facility_j, self._fac_per_it_s
        if self._periodic:
            raise RuntimeError("integrate the stretch first: periodic loads have no constant rate")
        if not self._rates_valid:
            self._update_rates(self._planned_draw_now())
        return self._facility_j + self._facility_w * ahead_s, self._fac_per_it_s + self._fac_per_it * ahead_s

    def _accumulators(self, t_s: float) -> list[float]:
        """Per IT joule, from the start of the run to t_s: [facility J, water L, each signal's amount]."""
        ahead_s = t_s - self._since_s
        if ahead_s > 0.0:
            if self._periodic:
                self._integrate(t_s)
                fac_per_it_s, water = self._fac_per_it_s, self._water_per_it_s
            else:
                if not self._rates_valid:
                    self._update_rates(self._planned_draw_now())
                fac_per_it_s = self._fac_per_it_s + self._fac_per_it * ahead_s
                water = self._water_per_it_s + self._water_per_it * ahead_s
        else:
            fac_per_it_s, water = self._fac_per_it_s, self._water_per_it_s
        acc = [fac_per_it_s, water]
        for per_it, value, at in zip(self._sig_per_it, self._values, self._sig_fac_per_it_s):
            acc.append(per_it + value * (fac_per_it_s - at) / J_PER_KWH)
        return acc

    def _settle(self, owner: _Owner, t_s: float) -> None:
        """Collect what an owner's constant draws earned since it last collected, up to t_s."""
        acc = self._accumulators(t_s)
        const_w = owner.const_w
        power_w = const_w[0] + const_w[1] + const_w[2] + const_w[3]
        if power_w:
            self._changed_owners[owner.name] = None
            totals = owner.totals
            then = owner.snapshot
            elapsed_s = t_s - owner.settled_s
            channels = totals.channel_energy_j
            for i, p in enumerate(const_w):
                if p:
                    channels[i] += p * elapsed_s
            totals.facility_energy_j += power_w * (acc[0] - then[0])
            totals.water_l += power_w * (acc[1] - then[1])
            integrals = totals.signal_energy_integral
            for i, key in enumerate(totals.signal_keys, 2):
                integrals[key] = integrals.get(key, 0.0) + power_w * (acc[i] - then[i])
        owner.settled_s = t_s
        owner.snapshot = acc

    # --------------------------------------------------------------------- bins
    def _reset_bin(self) -> None:
        self._bin_channel_j = [0.0] * len(IT_CHANNELS)
        self._bin_cooling_j = self._bin_loss_j = self._bin_misc_j = self._bin_water_l = 0.0
        self._bin_ambient = self._bin_wet_bulb = 0.0
        self._bin_parts_j = [0.0] * len(self._part_names)
        self._bin_signal_energy = [0.0] * len(self.signals)
        self._bin_signal_time = [0.0] * len(self.signals)

    def _close_bin(self, end_s: float) -> None:
        self._integrate(end_s)
        for i in range(len(self.signals)):
            self._integrate_signal(i, end_s)
        record = BinRecord(
            start_s=self._bin_start_s, end_s=end_s,
            channel_energy_j=self._bin_channel_j, cooling_energy_j=self._bin_cooling_j,
            power_loss_energy_j=self._bin_loss_j, misc_energy_j=self._bin_misc_j, water_l=self._bin_water_l,
            ambient_time_integral=self._bin_ambient, part_energy_j=self._bin_parts_j,
            signal_energy_integral=dict(zip(self._signal_keys, self._bin_signal_energy)),
            signal_time_integral=dict(zip(self._signal_keys, self._bin_signal_time)),
            wet_bulb_time_integral=self._bin_wet_bulb,
        )
        self.now_s = max(self.now_s, end_s)
        self._bin_index += 1
        self._bin_start_s = end_s
        self._bin_end_s = (self._bin_index + 1) * self.bin_s
        self._next_edge_s = min(self._bin_end_s, self._wx_next_s, self._sig_next_s)
        self._set_log_before()
        self._reset_bin()
        self.on_bin(record)

    def finish(self, t_s: float) -> None:
        """Integrate up to the end of the run and emit the last (possibly partial) bin."""
        self.flush()
        self.advance(t_s)
        if self.now_s > self._bin_start_s:
            self._close_bin(self.now_s)
        self.finished = True

    # --------------------------------------------------------------- reports
    def owner_totals(self) -> Mapping[str, OwnerTotals]:
        """Totals per owner up to the meter's current instant: a read-only view, not a copy (a batch queue's job
        log asks at every output row, and a year of jobs registers tens of thousands of owners)."""
        self.flush()
        for owner in self._active_owners:
            self._settle(self._owners[owner], self.now_s)
        return MappingProxyType(self._totals)

    def changed_owner_totals(self) -> dict[str, OwnerTotals]:
        """The totals, up to the meter's current instant, of the owners whose totals changed since the last call
        (all owners that drew power in between; an owner that did not has the same totals as then). For one
        consumer: the hourly clean-energy matching."""
        totals = self.owner_totals()   # settles the active owners
        changed, self._changed_owners = self._changed_owners, {}
        return {name: totals[name] for name in changed}

    def owner_total(self, owner: str) -> OwnerTotals | None:
        """One owner's totals up to the meter's current instant (None for an owner never registered)."""
        self.flush()
        state = self._owners.get(owner)
        if state is not None and owner in self._active_owners:
            self._settle(state, self.now_s)
        return self._totals.get(owner)
