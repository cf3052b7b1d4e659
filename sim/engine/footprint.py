"""Footprint accounting of a run: grid signals, market-based carbon, embodied carbon, water and cost.

What it does, and the rules it follows:

- SIGNALS. Carbon intensity (built in), marginal carbon intensity (when given), electricity price and the
  water intensity of generation are EnergySignals of the meter: over every stretch of constant value the meter
  accumulates facility kWh x value, for the interval and for each owner. Their sources (constant, region,
  file) and the rule for a run that outlasts a file are in `sim.facility.grid_signals`.
- MARKET-BASED CARBON (GHG Protocol Scope 2). Without a contract it equals the location-based figure (grid
  average; no residual mix is modelled). With HOURLY (24/7) matching it is not linear in energy, so it is
  computed per matching hour from the hour's facility energy E_h, its location-based carbon L_h and the
  contract's clean energy delivered in that hour C_h: market_h = max(E_h - C_h, 0) / E_h x L_h. Matching hours
  are UTC clock hours. The meter bins at g = gcd(output interval, 1 h, offset of the start in the hour) seconds,
  so that every bin lies in one matching hour and one output row: an output interval shorter than an hour is
  matched on its whole hour, and the hour's unmatched share is applied to each of its rows (rows are emitted
  when their hour closes); an interval longer than an hour is the sum of its hours. Each owner (job, service,
  idle pool) gets the unmatched share of its own location-based carbon in each hour. With ANNUAL matching the
  contract's volume (annual_volume_mwh x run length / 365 d, or the energy of its delivery profile over the
  run) is netted against the run's facility energy E: market = (1 - min(V, E) / E) x location, in every row and
  for every owner; the rows are scaled once the run's total is known.
- EMBODIED CARBON (LLMCarbon): per node = accelerators + host + network gear per node + external storage / nodes,
  amortised linearly over `embodied.lifetime_years`. Per interval: every INSTALLED node, allocated or idle
  (the facility owns all of it); per owner: the nodes it holds x the time it holds them. The idle pool holds
  the rest, so jobs + idle = the interval sum.
- HARDWARE COST: `cost.hardware_usd_per_gpu_hour` x accelerators held (whole nodes) x time, by the same rule.
- WATER: on site from the facility model (`water_l`), off site = facility energy x water intensity
  (`water_offsite_l`), and their sum (`water_total_l`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.catalog.embodied import embodied_catalog
from sim.catalog.hardware import NodeSpec
from sim.config.schema import (
    DEFAULT_CARBON_INTENSITY_G_PER_KWH,
    DEFAULT_ELECTRICITY_PRICE_USD_PER_MWH,
    DEFAULT_WATER_INTENSITY_L_PER_KWH,
    Scenario,
)
from sim.engine.meter import CARBON, BinRecord, EnergySignal, Meter, OwnerTotals
from sim.facility.grid_signals import (
    ConstantSource,
    DailyProfileSource,
    RegionSource,
    SignalSource,
    file_source,
)
from sim.physics.carbon import unmatched_fraction
from sim.physics.embodied import (
    SSD_KG_PER_GB,
    accelerator_embodied_kg,
    capacity_embodied_kg,
    host_embodied_kg,
    node_embodied_kg,
)
from sim.timeseries.regions import get_region
from sim.units import BYTES_PER_TB, G_PER_KG, J_PER_KWH, J_PER_MWH, S_PER_H, S_PER_YEAR, W_PER_MW

CARBON_MARGINAL = EnergySignal(
    "carbon_marginal", "carbon_marginal_intensity_g_per_kwh", "carbon_marginal_kg", 1.0 / G_PER_KG,
    "gCO2e/kWh", "kgCO2e",
)
ELECTRICITY_PRICE = EnergySignal(
    "electricity_price", "electricity_price_usd_per_mwh", "energy_cost_usd", J_PER_KWH / J_PER_MWH, "USD/MWh", "USD",
)
WATER_OFFSITE = EnergySignal("water_offsite", "water_intensity_l_per_kwh", "water_offsite_l", 1.0, "L/kWh", "L")

MATCHING_WINDOW_S = S_PER_H
_BOUNDARY_TOLERANCE_S = 1e-6


# --------------------------------------------------------------------------------------------- sources
@dataclass
class GridSources:
    """The sources of every grid signal of a run (supply: the contract's clean power [MW], if any)."""

    carbon: SignalSource
    price: SignalSource
    water: SignalSource
    marginal: SignalSource | None = None
    supply: SignalSource | None = None

    def energy_signals(self) -> dict[str, SignalSource]:
        """Signal key -> source, for every EnergySignal of the meter (carbon first)."""
        signals = {CARBON.key: self.carbon, ELECTRICITY_PRICE.key: self.price, WATER_OFFSITE.key: self.water}
        if self.marginal is not None:
            signals[CARBON_MARGINAL.key] = self.marginal
        return signals

    def meter_signals(self) -> tuple[EnergySignal, ...]:
        extra = (CARBON_MARGINAL,) if self.marginal is not None else ()
        return (CARBON, *extra, ELECTRICITY_PRICE, WATER_OFFSITE)

    def all(self) -> dict[str, SignalSource]:
        sources = self.energy_signals()
        if self.supply is not None:
            sources["clean_supply"] = self.supply
        return sources


def grid_sources(scenario: Scenario, warnings: list[str]) -> GridSources:
    """Build every signal source from [grid] (files are read here: DataFileError names file and line)."""
    grid = scenario.grid
    if grid.carbon_intensity_file is not None:
        carbon: SignalSource = file_source(
            "carbon_intensity_g_per_kwh", grid.carbon_intensity_file, unit="gCO2e/kWh",
            format=grid.file_format, column=grid.column,
        )
    elif grid.region is not None:
        carbon = RegionSource("carbon_intensity_g_per_kwh", grid.region)
    elif grid.carbon_intensity_g_per_kwh is not None:
        carbon = ConstantSource("carbon_intensity_g_per_kwh", "gCO2e/kWh", grid.carbon_intensity_g_per_kwh,
                                "scenario grid.carbon_intensity_g_per_kwh")
    else:
        carbon = ConstantSource("carbon_intensity_g_per_kwh", "gCO2e/kWh", DEFAULT_CARBON_INTENSITY_G_PER_KWH,
                                "default: world average 2023, Ember Global Electricity Review 2024")

    marginal: SignalSource | None = None
    if grid.marginal_carbon_intensity_file is not None:
        marginal = file_source("carbon_marginal_intensity_g_per_kwh", grid.marginal_carbon_intensity_file,
                               unit="gCO2e/kWh", column=grid.marginal_column)
    elif grid.marginal_carbon_intensity_g_per_kwh is not None:
        marginal = ConstantSource("carbon_marginal_intensity_g_per_kwh", "gCO2e/kWh",
                                  grid.marginal_carbon_intensity_g_per_kwh,
                                  "scenario grid.marginal_carbon_intensity_g_per_kwh")

    if grid.electricity_price_file is not None:
        price: SignalSource = file_source("electricity_price_usd_per_mwh", grid.electricity_price_file,
                                          unit="USD/MWh", column=grid.price_column, allow_negative=True)
    elif grid.electricity_price_usd_per_mwh is not None:
        price = ConstantSource("electricity_price_usd_per_mwh", "USD/MWh", grid.electricity_price_usd_per_mwh,
                               "scenario grid.electricity_price_usd_per_mwh")
    else:
        price = ConstantSource("electricity_price_usd_per_mwh", "USD/MWh", DEFAULT_ELECTRICITY_PRICE_USD_PER_MWH,
                               "default: U.S. industrial average 2023, EIA")

    region = get_region(grid.region) if grid.region is not None else None
    if grid.water_intensity_l_per_kwh is not None:
        water: SignalSource = ConstantSource("water_intensity_l_per_kwh", "L/kWh", grid.water_intensity_l_per_kwh,
                                             "scenario grid.water_intensity_l_per_kwh")
    elif region is not None and region.water_intensity_l_per_kwh is not None:
        water = ConstantSource("water_intensity_l_per_kwh", "L/kWh", region.water_intensity_l_per_kwh,
                               f"region {region.name!r}: {region.water_source}")
    else:
        water = ConstantSource("water_intensity_l_per_kwh", "L/kWh", DEFAULT_WATER_INTENSITY_L_PER_KWH,
                               "default: U.S. average, Li et al. 2023, arXiv:2304.03271")
        if region is not None:
            warnings.append(
                f"water intensity: region {region.name!r} has no cited figure; the default "
                f"{DEFAULT_WATER_INTENSITY_L_PER_KWH:g} L/kWh (U.S. average) is used; set grid.water_intensity_l_per_kwh"
            )

    supply: SignalSource | None = None
    contract = grid.contract
    if contract is not None:
        if contract.supply_mw is not None:
            supply = ConstantSource("clean_supply_mw", "MW", contract.supply_mw, "scenario grid.contract.supply_mw")
        elif contract.supply_file is not None:
            supply = file_source("clean_supply_mw", contract.supply_file, unit="MW", column=contract.supply_column)
        elif contract.supply_profile_mw is not None:
            supply = DailyProfileSource("clean_supply_mw", "MW", tuple(contract.supply_profile_mw),
                                        "scenario grid.contract.supply_profile_mw")
    return GridSources(carbon=carbon, price=price, water=water, marginal=marginal, supply=supply)


# -------------------------------------------------------------------------------------------- hardware
@dataclass(frozen=True)
class HardwareFootprint:
    """Embodied carbon and hardware cost of the installed nodes, and how they are charged by time held."""

    node_count: int
    gpus_per_node: int
    lifetime_s: float
    gpu_kg: float
    host_kg: float
    network_kg_per_node: float
    storage_kg: float
    hardware_usd_per_gpu_hour: float | None
    sources: tuple[str, ...] = ()

    @property
    def node_kg(self) -> float:
        """Embodied carbon charged per node [kgCO2e] (accelerators, host, network, storage share)."""
        return node_embodied_kg(self.gpus_per_node, self.gpu_kg, self.host_kg, self.network_kg_per_node,
                                self.storage_kg / self.node_count)

    @property
    def installed_kg(self) -> float:
        return self.node_kg * self.node_count

    def embodied_kg(self, node_s: float) -> float:
        """Embodied carbon of `node_s` node-seconds held [kgCO2e], linear over the lifetime."""
        return self.node_kg * node_s / self.lifetime_s

    def hardware_usd(self, node_s: float) -> float | None:
        if self.hardware_usd_per_gpu_hour is None:
            return None
        return self.hardware_usd_per_gpu_hour * self.gpus_per_node * node_s / S_PER_H

    def describe(self) -> dict:
        return {
            "lifetime_years": self.lifetime_s / S_PER_YEAR,
            "per_gpu_kg": self.gpu_kg,
            "per_host_kg": self.host_kg,
            "network_kg_per_node": self.network_kg_per_node,
            "storage_kg": self.storage_kg,
            "per_node_kg": self.node_kg,
            "installed_kg": self.installed_kg,
            "hardware_usd_per_gpu_hour": self.hardware_usd_per_gpu_hour,
            "sources": list(self.sources),
        }


def hardware_footprint(scenario: Scenario, node: NodeSpec, node_count: int, warnings: list[str]) -> HardwareFootprint:
    """Per-unit embodied figures from the scenario, else the catalog (LLMCarbon method); gaps are warned."""
    emb = scenario.embodied
    catalog = embodied_catalog()
    sources: list[str] = []
    gpu = node.gpu
    if emb.gpu_kg is not None:
        gpu_kg = emb.gpu_kg
        sources.append(f"accelerator: {gpu_kg:g} kgCO2e from embodied.gpu_kg")
    elif gpu.key in catalog.gpus and gpu.die_area_mm2 is not None:
        process = catalog.gpus[gpu.key].process
        gpu_kg = accelerator_embodied_kg(gpu.die_area_mm2, process.carbon_per_area_kg_per_cm2, gpu.hbm_bytes)
        sources.append(
            f"accelerator {gpu.key}: {gpu.die_area_mm2:g} mm^2 x {process.carbon_per_area_kg_per_cm2:g} kgCO2e/cm^2 "
            f"({process.name}; {catalog.gpus[gpu.key].source}) + {gpu.hbm_bytes:g} B HBM x DRAM factor (LLMCarbon) "
            f"= {gpu_kg:.4g} kgCO2e"
        )
    else:
        gpu_kg = 0.0
        warnings.append(f"embodied carbon: no figure for accelerator {gpu.name!r} (die area or process unknown); "
                        "not counted: set embodied.gpu_kg")
    if emb.host_kg_per_node is not None:
        host_kg = emb.host_kg_per_node
        sources.append(f"host: {host_kg:g} kgCO2e from embodied.host_kg_per_node")
    elif node.key in catalog.hosts:
        parts = catalog.hosts[node.key]
        host_kg = host_embodied_kg(parts.cpus, parts.dram_bytes, parts.ssd_bytes)
        sources.append(f"host {node.key}: {parts.cpus} CPU, {parts.dram_bytes:g} B DRAM, {parts.ssd_bytes:g} B SSD "
                       f"({parts.source}) x LLMCarbon factors = {host_kg:.6g} kgCO2e")
    else:
        host_kg = 0.0
        warnings.append(f"embodied carbon: no host composition for node {node.name!r}; not counted: "
                        "set embodied.host_kg_per_node")
    storage_kg = capacity_embodied_kg(emb.storage_tb * BYTES_PER_TB, SSD_KG_PER_GB)
    if emb.storage_tb:
        sources.append(f"storage: {emb.storage_tb:g} TB x {SSD_KG_PER_GB:g} kgCO2e/GB (LLMCarbon SSD) = {storage_kg:g} kgCO2e")
    if emb.network_kg_per_node:
        sources.append(f"network: {emb.network_kg_per_node:g} kgCO2e per node from embodied.network_kg_per_node")
    return HardwareFootprint(
        node_count=node_count,
        gpus_per_node=node.gpus_per_node,
        lifetime_s=emb.lifetime_years * S_PER_YEAR,
        gpu_kg=gpu_kg,
        host_kg=host_kg,
        network_kg_per_node=emb.network_kg_per_node,
        storage_kg=storage_kg,
        hardware_usd_per_gpu_hour=scenario.cost.hardware_usd_per_gpu_hour,
        sources=tuple(sources),
    )


# ------------------------------------------------------------------------------------------ footprints
@dataclass(frozen=True)
class Footprint:
    """Everything charged to one owner (a job, a service, the idle pool) or to the whole run."""

    it_energy_kwh: float
    facility_energy_kwh: float
    carbon_kg: float
    carbon_marginal_kg: float | None
    carbon_market_kg: float
    embodied_carbon_kg: float
    water_l: float  # on site
    water_offsite_l: float
    energy_cost_usd: float
    hardware_cost_usd: float | None
    allocated_node_hours: float

    @property
    def water_total_l(self) -> float:
        return self.water_l + self.water_offsite_l

    @property
    def cost_usd(self) -> float:
        return self.energy_cost_usd + (self.hardware_cost_usd or 0.0)

    def as_dict(self) -> dict:
        # its fields are numbers: a shallow dict (asdict deep-copies each, a tenth of a batch queue's run time)
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["water_total_l"] = self.water_total_l
        out["cost_usd"] = self.cost_usd
        return out


def matching_bin_s(output_interval_s: float, start_epoch_s: float) -> float:
    """Meter bin [s] that lies inside one UTC matching hour and one output row: gcd(interval, 1 h, start offset).

    Example: a 90-min interval starting on the hour -> gcd(5400, 3600, 0) = 1800 s.
    """
    offset_s = start_epoch_s % MATCHING_WINDOW_S
    if not (float(output_interval_s).is_integer() and float(offset_s).is_integer()):
        raise ValueError("hourly matching needs an output interval and a start in whole seconds")
    return float(math.gcd(int(output_interval_s), int(MATCHING_WINDOW_S), int(offset_s)))


def merge_bins(bins: list[BinRecord]) -> BinRecord:
    """One bin from consecutive ones: every integral is summed (a BinRecord holds only integrals)."""
    kwargs = {}
    for f in fields(BinRecord):
        values = [getattr(b, f.name) for b in bins]
        if f.name == "start_s":
            kwargs[f.name] = values[0]
        elif f.name == "end_s":
            kwargs[f.name] = values[-1]
        elif isinstance(values[0], (int, float)):
            kwargs[f.name] = math.fsum(values)
        elif isinstance(values[0], list):
            kwargs[f.name] = [math.fsum(parts) for parts in zip(*values)]
        elif isinstance(values[0], dict):
            kwargs[f.name] = {k: math.fsum(v.get(k, 0.0) for v in values) for k in values[0]}
        else:
            raise TypeError(f"cannot merge BinRecord field {f.name!r} of type {type(values[0]).__name__}")
    return BinRecord(**kwargs)


@dataclass
class _MatchingTotals:
    consumed_j: float = 0.0
    supply_j: float = 0.0
    matched_j: float = 0.0
    location_g: float = 0.0
    residual_g: float = 0.0
    hours: int = 0


class FootprintAccountant:
    """Between the meter and the recorder: market-based carbon by matching hour, per-interval embodied carbon,
    hardware cost and total water, and the footprint of any owner. Register `columns`/`provider` on the
    recorder, pass `on_bin` to the meter (bins of `meter_bin_s`), `attach(meter)`, and call `finish()` after
    `meter.finish()`."""

    def __init__(
        self,
        scenario: Scenario,
        sources: GridSources,
        hardware: HardwareFootprint,
        start_epoch_s: float,
        emit: Callable[[BinRecord], None],
    ):
        self.sources = sources
        self.hardware = hardware
        self.start_epoch_s = start_epoch_s
        self.emit = emit
        self.contract = scenario.grid.contract
        self.output_bin_s = float(scenario.output.interval)
        self.hourly = self.contract is not None and self.contract.has_profile
        if self.hourly:
            self.meter_bin_s = matching_bin_s(self.output_bin_s, start_epoch_s)
            self._bins_per_row = round(self.output_bin_s / self.meter_bin_s)
        else:
            self.meter_bin_s = self.output_bin_s
            self._bins_per_row = 1
        self.meter: Meter | None = None
        self._hour_bins: list[BinRecord] = []
        self._ready: list[tuple[BinRecord, float]] = []
        self._current: tuple[BinRecord, float] | None = None
        self._owner_carbon_seen_g: dict[str, float] = {}
        self._owner_residual_g: dict[str, float] = {}
        self.matching = _MatchingTotals()
        self.facility_energy_j = 0.0
        self.end_s: float | None = None

    def attach(self, meter: Meter) -> None:
        self.meter = meter

    # ------------------------------------------------------------------ columns
    @property
    def columns(self) -> tuple[str, ...]:
        names = ("carbon_market_kg", "embodied_carbon_kg", "water_total_l")
        if self.hardware.hardware_usd_per_gpu_hour is not None:
            names += ("hardware_cost_usd",)
        return names

    def provider(self, start_s: float, end_s: float) -> dict:
        if self._current is None:
            raise RuntimeError("footprint columns are filled only for bins emitted by the accountant")
        b, market_g = self._current
        node_s = self.hardware.node_count * (end_s - start_s)
        row = {
            "carbon_market_kg": market_g / G_PER_KG,
            "embodied_carbon_kg": self.hardware.embodied_kg(node_s),
            "water_total_l": b.water_l + b.signal_energy_integral[WATER_OFFSITE.key] * WATER_OFFSITE.amount_per_rate_kwh,
        }
        if self.hardware.hardware_usd_per_gpu_hour is not None:
            row["hardware_cost_usd"] = self.hardware.hardware_usd(node_s)
        return row

    # -------------------------------------------------------------------- bins
    def on_bin(self, b: BinRecord) -> None:
        self.facility_energy_j += b.facility_energy_j
        if not self.hourly:
            self._emit(b, b.carbon_g)  # location-based (no contract), or provisional (annual volume)
            return
        self._hour_bins.append(b)
        hour_end_epoch_s = (math.floor((self.start_epoch_s + b.start_s) / MATCHING_WINDOW_S) + 1) * MATCHING_WINDOW_S
        if self.start_epoch_s + b.end_s >= hour_end_epoch_s - _BOUNDARY_TOLERANCE_S:
            self._close_hour()
        self._emit_ready(final=False)

    def finish(self, end_s: float) -> None:
        """After `meter.finish(end_s)`: close the last (partial) matching hour and emit the last rows."""
        self.end_s = end_s
        if self.hourly:
            if self._hour_bins:
                self._close_hour()
            self._emit_ready(final=True)

    def _emit(self, b: BinRecord, market_g: float) -> None:
        self._current = (b, market_g)
        try:
            self.emit(b)
        finally:
            self._current = None

    def _close_hour(self) -> None:
        bins, self._hour_bins = self._hour_bins, []
        a_s = self.start_epoch_s + bins[0].start_s
        z_s = self.start_epoch_s + bins[-1].end_s
        energy_j = math.fsum(b.facility_energy_j for b in bins)
        location_g = math.fsum(b.carbon_g for b in bins)
        supply_j = self.sources.supply.energy_integral(a_s, z_s) * W_PER_MW
        fraction = unmatched_fraction(energy_j, supply_j)
        m = self.matching
        m.consumed_j += energy_j
        m.supply_j += supply_j
        m.matched_j += min(energy_j, supply_j)
        m.location_g += location_g
        m.residual_g += fraction * location_g
        m.hours += 1
        row_factor = fraction if self.contract.matching == "hourly" else 1.0
        self._ready.extend((b, row_factor * b.carbon_g) for b in bins)
        if self.meter is not None:   # an owner that drew nothing this hour adds 0 to its residual: skipped
            for owner, totals in self.meter.changed_owner_totals().items():
                carbon_g = totals.carbon_g
                delta_g = carbon_g - self._owner_carbon_seen_g.get(owner, 0.0)
                self._owner_carbon_seen_g[owner] = carbon_g
                self._owner_residual_g[owner] = self._owner_residual_g.get(owner, 0.0) + fraction * delta_g

    def _emit_ready(self, final: bool) -> None:
        k = self._bins_per_row
        while len(self._ready) >= k or (final and self._ready):
            group, self._ready = self._ready[:k], self._ready[k:]
            merged = group[0][0] if len(group) == 1 else merge_bins([b for b, _ in group])
            self._emit(merged, math.fsum(g for _, g in group))

    # ----------------------------------------------------------------- market
    @property
    def volume_j(self) -> float | None:
        """The contract's clean energy over the run [J] (hourly: delivered; annual: volume or profile energy)."""
        if self.contract is None:
            return None
        if self.contract.annual_volume_mwh is not None:
            if self.end_s is None:
                raise RuntimeError("the run's length is known only after finish()")
            return self.contract.annual_volume_mwh * J_PER_MWH * self.end_s / S_PER_YEAR
        return self.matching.supply_j

    @property
    def market_scale(self) -> float:
        """Market-based / location-based carbon for annual matching (1 - matched share); 1 otherwise."""
        if self.contract is None or self.contract.matching != "annual":
            return 1.0
        if self.facility_energy_j <= 0:
            return 0.0
        return 1.0 - min(self.volume_j, self.facility_energy_j) / self.facility_energy_j

    def market_section(self, location_kg: float) -> dict:
        """The market-based accounting in words and numbers, for summary.json."""
        if self.contract is None:
            return {"contract": None, "rule": "no contract: market-based = location-based (grid average)"}
        m = self.matching
        section = {
            "matching": self.contract.matching,
            "matching_window_s": MATCHING_WINDOW_S,
            "consumption_kwh": self.facility_energy_j / J_PER_KWH,
            "clean_supply_kwh": self.volume_j / J_PER_KWH,
            "matched_annual_kwh": min(self.volume_j, self.facility_energy_j) / J_PER_KWH,
            "carbon_annual_kg": location_kg * (1.0 - min(self.volume_j, self.facility_energy_j) / self.facility_energy_j)
            if self.facility_energy_j > 0 else 0.0,
        }
        if self.hourly:
            section.update({
                "matched_hourly_kwh": m.matched_j / J_PER_KWH,
                "cfe_score_hourly": m.matched_j / m.consumed_j if m.consumed_j > 0 else 1.0,
                "carbon_hourly_kg": m.residual_g / G_PER_KG,
                "matching_hours": m.hours,
            })
        return section

    def finalize_timeseries(self, path: Path | None = None, table: pa.Table | None = None) -> pa.Table | None:
        """Annual matching: scale the provisional carbon_market_kg column (location-based) by `market_scale`.
        Rewrites the Parquet file at `path` row group by row group, or returns the scaled `table`."""
        scale = self.market_scale
        if scale == 1.0:
            return table

        def scaled(t: pa.Table) -> pa.Table:
            i = t.schema.get_field_index("carbon_market_kg")
            column = pc.multiply(t.column(i), pa.scalar(scale, pa.float64()))
            return t.set_column(i, t.schema.field(i), column)

        if table is not None:
            return scaled(table)
        if path is not None:
            source = pq.ParquetFile(path)
            tmp = Path(f"{path}.scaling")
            with pq.ParquetWriter(tmp, source.schema_arrow, compression="zstd") as writer:
                for i in range(source.num_row_groups):
                    writer.write_table(scaled(source.read_row_group(i)))
            os.replace(tmp, path)
        return None

    # ----------------------------------------------------------------- owners
    def owner_footprint(self, owner: str, allocated_node_s: float) -> Footprint:
        """The footprint of `owner` (a meter owner name: job, service, 'idle') holding `allocated_node_s`
        node-seconds: its energy and its share of every signal from the meter, its market-based carbon by the
        contract's rule, and embodied carbon and hardware cost for the nodes it held."""
        if self.meter is None:
            raise RuntimeError("attach(meter) first")
        totals = self.meter.owner_total(owner) or OwnerTotals()   # settles this owner only
        integrals = totals.signal_energy_integral
        location_g = totals.carbon_g
        if self.contract is None:
            market_g = location_g
        elif self.contract.matching == "hourly":
            market_g = self._owner_residual_g.get(owner, 0.0)
        else:
            market_g = location_g * self.market_scale
        marginal = integrals.get(CARBON_MARGINAL.key, 0.0)
        return Footprint(
            it_energy_kwh=totals.it_energy_j / J_PER_KWH,
            facility_energy_kwh=totals.facility_energy_j / J_PER_KWH,
            carbon_kg=location_g / G_PER_KG,
            carbon_marginal_kg=(marginal * CARBON_MARGINAL.amount_per_rate_kwh) if self.sources.marginal is not None else None,
            carbon_market_kg=market_g / G_PER_KG,
            embodied_carbon_kg=self.hardware.embodied_kg(allocated_node_s),
            water_l=totals.water_l,
            water_offsite_l=integrals.get(WATER_OFFSITE.key, 0.0) * WATER_OFFSITE.amount_per_rate_kwh,
            energy_cost_usd=integrals.get(ELECTRICITY_PRICE.key, 0.0) * ELECTRICITY_PRICE.amount_per_rate_kwh,
            hardware_cost_usd=self.hardware.hardware_usd(allocated_node_s),
            allocated_node_hours=allocated_node_s / S_PER_H,
        )
