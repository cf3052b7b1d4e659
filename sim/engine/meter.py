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
from dataclasses import dataclass, field
from typing import Callable, Protocol

from sim.engine.profiles import ZERO, ConstantPower, PeriodicPower
from sim.units import J_PER_KWH

IT_CHANNELS = ("gpu", "host", "network", "storage")
_CHANNEL_INDEX = {name: i for i, name in enumerate(IT_CHANNELS)}

# Owner of the facility's overhead when no IT load draws power at all (e.g. misc load alone).
UNATTRIBUTED = "unattributed"


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


@dataclass(frozen=True)
class FacilityDraw:
    """Facility power beyond IT at one instant [W], with an optional breakdown by equipment."""

    cooling_w: float
    power_loss_w: float
    misc_w: float = 0.0
    water_l_per_s: float = 0.0
    parts_w: tuple[tuple[str, float], ...] = ()


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
    part_energy_j: dict[str, float]
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


def _draws(profile: ConstantPower | PeriodicPower) -> bool:
    return not isinstance(profile, ConstantPower) or profile.power_w != 0.0


class Load:
    """A handle on one (channel, owner) power draw. Change it only through `set_profile`/`set_power_w`."""

    __slots__ = ("meter", "channel_index", "owner", "profile")

    def __init__(self, meter: "Meter", channel_index: int, owner: str):
        self.meter = meter
        self.channel_index = channel_index
        self.owner = owner
        self.profile: ConstantPower | PeriodicPower = ZERO

    def set_power_w(self, now_s: float, power_w: float) -> None:
        self.meter.change(self, now_s, ConstantPower(power_w))

    def set_profile(self, now_s: float, profile: ConstantPower | PeriodicPower) -> None:
        self.meter.change(self, now_s, profile)


class Meter:
    """Integrates every load, the facility overhead and the carbon of the energy, exactly."""

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
        self.signal_values: dict[str, float] = {sig.key: 0.0 for sig in self.signals}
        self.signal_values[CARBON.key] = float(intensity_g_per_kwh)
        self.weather = weather
        self.ambient_c = float(ambient_c)
        self.wet_bulb_c = math.nan
        self._loads: list[Load] = []
        self._periodic: list[Load] = []
        self._channel_const_w = [0.0] * len(IT_CHANNELS)
        self._owner_const_w: dict[str, list[float]] = {}
        self._owners: dict[str, OwnerTotals] = {}
        # Owners with at least one load drawing power: only they are visited when attributing a stretch,
        # so a run with thousands of finished jobs costs no more per event than one with a few.
        self._owner_drawing: dict[str, int] = {}
        self._active_owners: dict[str, None] = {}
        self._signal_keys = tuple(sig.key for sig in self.signals)
        # running integrals over time of [facility J, water L, signal amounts...] per joule of IT energy
        self._per_it_accumulated = [0.0] * (2 + len(self.signals))
        self._owner_settled: dict[str, tuple[float, list[float]]] = {}
        self._changes_since_refresh = 0
        self._draw: FacilityDraw | None = None
        self._draw_heat_w = 0.0
        self._bin_index = 0
        self._bin = self._new_bin(0)
        self.finished = False

    # ----------------------------------------------------------------- loads
    def load(self, channel: str, owner: str) -> Load:
        """Register a draw on IT channel `channel` ('gpu', 'host', 'network', 'storage') for `owner`."""
        if channel not in _CHANNEL_INDEX:
            raise ValueError(f"unknown IT channel {channel!r}; expected one of {IT_CHANNELS}")
        load = Load(self, _CHANNEL_INDEX[channel], owner)
        self._loads.append(load)
        if owner not in self._owners:
            self._owner_const_w[owner] = [0.0] * len(IT_CHANNELS)
            self._owners[owner] = OwnerTotals(signal_keys=self._signal_keys)
            self._owner_drawing[owner] = 0
            self._owner_settled[owner] = (self.now_s, list(self._per_it_accumulated))
        return load

    def change(self, load: Load, now_s: float, profile: ConstantPower | PeriodicPower) -> None:
        """Integrate up to `now_s`, then give `load` its new profile."""
        self.advance(now_s)
        self._settle_owner(load.owner)
        old = load.profile
        c = load.channel_index
        owner_w = self._owner_const_w[load.owner]
        if isinstance(old, ConstantPower):
            self._channel_const_w[c] -= old.power_w
            owner_w[c] -= old.power_w
        else:
            self._periodic.remove(load)
        if isinstance(profile, ConstantPower):
            self._channel_const_w[c] += profile.power_w
            owner_w[c] += profile.power_w
        else:
            self._periodic.append(load)
        was_drawing = _draws(old)
        now_drawing = _draws(profile)
        if was_drawing != now_drawing:
            count = self._owner_drawing[load.owner] + (1 if now_drawing else -1)
            self._owner_drawing[load.owner] = count
            if count:
                self._active_owners[load.owner] = None
            else:
                self._active_owners.pop(load.owner, None)
        load.profile = profile
        self._draw = None
        self._changes_since_refresh += 1
        if self._changes_since_refresh >= self._REFRESH_EVERY:
            self._refresh_sums()

    def _refresh_sums(self) -> None:
        channel = [[] for _ in IT_CHANNELS]
        owners: dict[str, list[list[float]]] = {o: [[] for _ in IT_CHANNELS] for o in self._owner_const_w}
        for load in self._loads:
            if isinstance(load.profile, ConstantPower):
                channel[load.channel_index].append(load.profile.power_w)
                owners[load.owner][load.channel_index].append(load.profile.power_w)
        self._channel_const_w = [math.fsum(v) for v in channel]
        self._owner_const_w = {o: [math.fsum(v) for v in per] for o, per in owners.items()}
        self._changes_since_refresh = 0

    # --------------------------------------------------------------- signals
    def set_signal(self, key: str, now_s: float, value: float) -> None:
        """Integrate up to `now_s`, then give energy signal `key` its new rate."""
        self.advance(now_s)
        if key not in self.signal_values:
            raise KeyError(f"unknown energy signal {key!r}")
        self.signal_values[key] = float(value)

    def set_intensity(self, now_s: float, intensity_g_per_kwh: float) -> None:
        self.set_signal(CARBON.key, now_s, intensity_g_per_kwh)

    @property
    def intensity_g_per_kwh(self) -> float:
        return self.signal_values[CARBON.key]

    def set_weather(self, now_s: float, weather: object, ambient_c: float, wet_bulb_c: float = math.nan) -> None:
        """Integrate up to `now_s`, then hand the facility model its new weather (outdoor dry and wet bulb [C])."""
        self.advance(now_s)
        self.weather = weather
        self.ambient_c = float(ambient_c)
        self.wet_bulb_c = float(wet_bulb_c)
        self._draw = None

    # ------------------------------------------------------------ integration
    @property
    def it_power_w(self) -> float:
        """IT heat load [W] seen by the facility: constant draws plus the period mean of periodic ones."""
        return math.fsum(self._channel_const_w) + math.fsum(l.profile.mean_power_w for l in self._periodic)

    def facility_draw(self, it_power_w: float | None = None) -> FacilityDraw:
        """The facility's overhead draw at IT heat load `it_power_w` (default: the current load).

        Cached while neither the heat load nor the weather changes, so a stretch of constant loads
        evaluates the facility model once however many output intervals it spans.
        """
        heat_w = max(self.it_power_w if it_power_w is None else it_power_w, 0.0)
        if self._draw is None or self._draw_heat_w != heat_w:
            self._draw = self.facility.draw(heat_w, self.weather)
            self._draw_heat_w = heat_w
        return self._draw

    def advance(self, t_s: float) -> None:
        """Integrate the current state from the last instant up to `t_s`, closing bins on the way."""
        if t_s <= self.now_s:
            if t_s < self.now_s - 1e-9 * max(1.0, abs(self.now_s)):
                raise ValueError(f"meter cannot go back in time: {t_s} < {self.now_s}")
            return
        while self.now_s < t_s:
            bin_end_s = (self._bin_index + 1) * self.bin_s
            seg_end_s = min(t_s, bin_end_s)
            self._integrate(self.now_s, seg_end_s)
            self.now_s = seg_end_s
            if seg_end_s >= bin_end_s:
                self._close_bin(bin_end_s)

    def _integrate(self, start_s: float, end_s: float) -> None:
        """Integrate one stretch of constant state (constant loads, signals and weather) into the bin.

        Owners are not visited here: a stretch only advances global per-IT-joule accumulators (overhead,
        water and each signal per joule of IT energy). An owner whose draw is constant collects its share
        as power x (accumulator now - accumulator at its last change) when it next changes, so the cost
        of a stretch does not grow with the number of owners. Periodic loads are attributed exactly here.
        """
        dt_s = end_s - start_s
        b = self._bin
        channel_e = [p * dt_s for p in self._channel_const_w]
        periodic_e = []
        for load in self._periodic:
            e = load.profile.energy_j(start_s, end_s)
            channel_e[load.channel_index] += e
            periodic_e.append(e)
        bin_channels = b.channel_energy_j
        for i, e in enumerate(channel_e):
            bin_channels[i] += e
        it_e = math.fsum(channel_e)

        # The plant sees the mean IT heat of this stretch: exact for constant loads and for linear
        # facility models; for a periodic load (iterations of seconds) the plant's thermal mass
        # smooths the phases anyway.
        draw = self.facility_draw(it_e / dt_s)
        cooling_e = draw.cooling_w * dt_s
        loss_e = draw.power_loss_w * dt_s
        misc_e = draw.misc_w * dt_s
        water_l = draw.water_l_per_s * dt_s
        b.cooling_energy_j += cooling_e
        b.power_loss_energy_j += loss_e
        b.misc_energy_j += misc_e
        b.water_l += water_l
        if draw.parts_w:
            parts = b.part_energy_j
            for name, part_w in draw.parts_w:
                parts[name] = parts.get(name, 0.0) + part_w * dt_s
        facility_e = it_e + cooling_e + loss_e + misc_e
        facility_kwh = facility_e / J_PER_KWH
        signal_energy = b.signal_energy_integral
        signal_time = b.signal_time_integral
        weighted = []
        for key, value in self.signal_values.items():
            amount = facility_kwh * value
            weighted.append(amount)
            signal_energy[key] += amount
            signal_time[key] += value * dt_s
        b.ambient_time_integral += self.ambient_c * dt_s
        b.wet_bulb_time_integral += self.wet_bulb_c * dt_s

        if it_e > 0:
            # per joule of IT energy in this stretch: facility energy, water, and each signal's amount
            per_it = [facility_e / it_e, water_l / it_e, *(amount / it_e for amount in weighted)]
            acc = self._per_it_accumulated
            for i, x in enumerate(per_it):
                acc[i] += x * dt_s
            for load, e in zip(self._periodic, periodic_e):
                if e:
                    self._credit(self._owners[load.owner], load.channel_index, e, [x * e for x in per_it])
        elif facility_e > 0:
            self._credit(self._owners.setdefault(UNATTRIBUTED, OwnerTotals(signal_keys=self._signal_keys)), None, 0.0,
                         [facility_e, water_l, *weighted])

    @staticmethod
    def _credit(totals: "OwnerTotals", channel: int | None, it_e: float, shares: list) -> None:
        """Add IT energy on `channel` and shares [facility J, water L, signal amounts...] to an owner."""
        if channel is not None:
            totals.channel_energy_j[channel] += it_e
        totals.facility_energy_j += shares[0]
        totals.water_l += shares[1]
        integrals = totals.signal_energy_integral
        for key, amount in zip(totals.signal_keys, shares[2:]):
            integrals[key] = integrals.get(key, 0.0) + amount

    def _settle_owner(self, owner: str) -> None:
        """Collect what an owner's constant draws earned since its last change (call after advance)."""
        state = self._owner_settled[owner]
        acc = self._per_it_accumulated
        elapsed_s = self.now_s - state[0]
        const_w = self._owner_const_w[owner]
        if elapsed_s > 0 and any(const_w):
            totals = self._owners[owner]
            channels = totals.channel_energy_j
            for i, p in enumerate(const_w):
                if p:
                    channels[i] += p * elapsed_s
            power_w = math.fsum(const_w)
            self._credit(totals, None, 0.0, [power_w * (a - a0) for a, a0 in zip(acc, state[1])])
        self._owner_settled[owner] = (self.now_s, list(acc))

    def _new_bin(self, index: int) -> BinRecord:
        return BinRecord(
            start_s=index * self.bin_s, end_s=(index + 1) * self.bin_s,
            channel_energy_j=[0.0] * len(IT_CHANNELS), cooling_energy_j=0.0, power_loss_energy_j=0.0,
            misc_energy_j=0.0, water_l=0.0, ambient_time_integral=0.0,
            part_energy_j={name: 0.0 for name in self.facility.part_names},
            signal_energy_integral={sig.key: 0.0 for sig in self.signals},
            signal_time_integral={sig.key: 0.0 for sig in self.signals}, wet_bulb_time_integral=0.0,
        )

    def _close_bin(self, end_s: float) -> None:
        self._bin.end_s = end_s
        self.on_bin(self._bin)
        self._bin_index += 1
        self._bin = self._new_bin(self._bin_index)

    def finish(self, t_s: float) -> None:
        """Integrate up to the end of the run and emit the last (possibly partial) bin."""
        self.advance(t_s)
        if self.now_s > self._bin.start_s:
            self._close_bin(self.now_s)
        self.finished = True

    # --------------------------------------------------------------- reports
    def owner_totals(self) -> dict[str, OwnerTotals]:
        """Totals per owner up to the meter's current instant."""
        for owner in self._active_owners:
            self._settle_owner(owner)
        return dict(self._owners)
