"""The scenario schema: one frozen, validated model per TOML table, under the same names.

Every key is checked once, here, at the edge: unknown keys, wrong types and out-of-range values are
reported with their TOML path by `sim.config.loader`. Units are in the key names (`tdp_w`,
`carbon_intensity_g_per_kwh`); durations are strings with a unit ("1h", "14.8d") or seconds.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, ClassVar, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    field_serializer,
    field_validator,
    model_validator,
)

from sim.catalog.hardware import GpuSpec, NodeSpec, gpu_catalog, node_catalog
from sim.config.durations import parse_duration_s
from sim.config.plant_schema import ClimateName, PlantOverrides, PresetName


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


Number = Annotated[float, AfterValidator(_finite)]

# What a duration looks like to an editor validating the TOML with `python -m sim schema`: seconds as a
# number, or a number with a unit, as `parse_duration_s` reads it.
DURATION_PATTERN = r"^\s*[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?\s*(s|sec|seconds?|min|minutes?|h|hours?|d|days?|w|weeks?)\s*$"
DURATION_JSON_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": DURATION_PATTERN, "examples": ["90s", "15min", "1h", "14.8d"]},
    ]
}
DurationS = Annotated[
    float, BeforeValidator(parse_duration_s), AfterValidator(_finite), Field(ge=0),
    WithJsonSchema(DURATION_JSON_SCHEMA),
]


def resolve_input_path(value: object, info: ValidationInfo) -> Path:
    """A data file path, relative to the scenario file's folder; it must exist."""
    if not isinstance(value, (str, Path)) or str(value).strip() == "":
        raise ValueError("expected a file path (string)")
    path = Path(value)
    base = (info.context or {}).get("base_dir")
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    if not path.is_file():
        raise ValueError(f"file not found: {path}")
    return path


InputPath = Annotated[Path, BeforeValidator(resolve_input_path)]


# ---------------------------------------------------------------------------------------- scenario
class ScenarioSection(StrictModel):
    """[scenario]: identity, seed and calendar of the run."""

    name: str | None = Field(None, description="Name of the run (default: the file's stem).")
    description: str = Field("", description="Free text: what the scenario reproduces or asks.")
    seed: int = Field(0, ge=0, description="Seed of every random stream of the run.")
    start: datetime = Field(
        datetime(2023, 1, 1, tzinfo=timezone.utc),
        description="UTC instant at which simulated time 0 falls (TOML datetime; offset-less is UTC).",
    )
    duration: DurationS | None = Field(
        None, description="Longest simulated time; by default the run ends when all work is done."
    )

    @field_validator("start", mode="before")
    @classmethod
    def _parse_start(cls, value: object) -> object:
        from datetime import date

        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError as exc:
                raise ValueError("expected an ISO 8601 date-time such as 2023-01-01T00:00:00Z") from exc
        raise ValueError("expected a TOML date-time such as 2023-01-01T00:00:00Z")

    @field_validator("start")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


# ----------------------------------------------------------------------------------------- cluster
class GpuModel(StrictModel):
    """An accelerator defined inline, when it is not in the catalog."""

    name: str = Field("inline accelerator", description="Name shown in outputs.")
    tdp_w: Number = Field(gt=0, description="Thermal design power: the board's maximum sustained draw [W].")
    idle_w: Number = Field(ge=0, description="Draw with no work, clocks idle [W] (at most tdp_w).")
    peak_flop_per_s: Number = Field(gt=0, description="Peak dense 16-bit tensor throughput [FLOP/s], no sparsity.")
    hbm_bytes: Number = Field(gt=0, description="High-bandwidth memory capacity [bytes].")
    hbm_bandwidth_bytes_per_s: Number = Field(gt=0, description="High-bandwidth memory bandwidth [bytes/s].")
    peak_fp8_flop_per_s: Number | None = Field(None, gt=0, description="Peak dense FP8 throughput [FLOP/s], if any.")
    die_area_mm2: Number | None = Field(
        None, gt=0, description="Die area [mm2], for embodied carbon (LLMCarbon's area-based model)."
    )
    link_bandwidth_bytes_per_s: Number | None = Field(
        None, gt=0, description="GPU-to-GPU link bandwidth in one direction [B/s] (tensor parallelism)."
    )
    source: str = Field("defined in the scenario", description="Where the figures come from (datasheet, paper).")

    @model_validator(mode="after")
    def _idle_below_tdp(self) -> "GpuModel":
        if self.idle_w > self.tdp_w:
            raise ValueError(f"idle_w = {self.idle_w} exceeds tdp_w = {self.tdp_w}")
        return self

    def spec(self, key: str = "inline") -> GpuSpec:
        return GpuSpec(key=key, **self.model_dump())


CATALOG_NAME_TAG = "catalog-name"
INLINE_TABLE_TAG = "inline-table"


def _name_or_table(value: object) -> str:
    return INLINE_TABLE_TAG if isinstance(value, (dict, BaseModel)) else CATALOG_NAME_TAG


def catalog_or_inline(name_type: object, model: type) -> object:
    """A key that takes a catalog name (string) or an inline table; only the matching branch reports."""
    return Annotated[
        Annotated[name_type, Tag(CATALOG_NAME_TAG)] | Annotated[model, Tag(INLINE_TABLE_TAG)],
        Discriminator(_name_or_table),
    ]


def _catalog_gpu(value: object) -> object:
    if isinstance(value, str) and value not in gpu_catalog():
        raise ValueError(f"unknown accelerator {value!r}; expected one of: {', '.join(sorted(gpu_catalog()))}")
    return value


def _catalog_node(value: object) -> object:
    if isinstance(value, str) and value not in node_catalog():
        raise ValueError(f"unknown node {value!r}; expected one of: {', '.join(sorted(node_catalog()))}")
    return value


def _gpu_names_json_schema(schema: dict) -> None:
    """Catalog names as an enum in the JSON Schema, for editor completion (read when the schema is made)."""
    schema["enum"] = sorted(gpu_catalog())


def _node_names_json_schema(schema: dict) -> None:
    schema["enum"] = sorted(node_catalog())


GpuCatalogName = Annotated[str, AfterValidator(_catalog_gpu), Field(json_schema_extra=_gpu_names_json_schema)]
NodeCatalogName = Annotated[str, AfterValidator(_catalog_node), Field(json_schema_extra=_node_names_json_schema)]


class NodeModel(StrictModel):
    """A server defined inline: its accelerators (catalog name or inline table) and its host."""

    name: str = Field("inline node", description="Name shown in outputs.")
    gpu: catalog_or_inline(GpuCatalogName, GpuModel) = Field(
        description="Catalog accelerator name, or an inline [cluster.node.gpu] table."
    )
    gpus_per_node: int = Field(ge=1, description="Accelerators per server.")
    max_power_w: Number = Field(gt=0, description="Vendor maximum system input power [W].")
    host_idle_w: Number = Field(ge=0, description="Host draw with the accelerators idle [W].")
    source: str = Field("defined in the scenario", description="Where the figures come from (datasheet, paper).")

    def spec(self) -> NodeSpec:
        gpu = gpu_catalog()[self.gpu] if isinstance(self.gpu, str) else self.gpu.spec()
        return NodeSpec(key="inline", name=self.name, gpu=gpu, gpus_per_node=self.gpus_per_node,
                        max_power_w=self.max_power_w, host_idle_w=self.host_idle_w, source=self.source)

    @model_validator(mode="after")
    def _consistent(self) -> "NodeModel":
        try:
            self.spec()
        except ValueError as exc:
            raise ValueError(str(exc).replace("inline: ", "")) from None
        return self


class ClusterSection(StrictModel):
    """[cluster]: the servers. Give `nodes`, or `gpus` (rounded up to whole nodes)."""

    node: catalog_or_inline(NodeCatalogName, NodeModel) = Field(
        "dgx-h100", description="Catalog node name, or an inline [cluster.node] table."
    )
    nodes: int | None = Field(None, ge=1, description="Number of servers.")
    gpus: int | None = Field(None, ge=1, description="Number of accelerators (rounded up to whole servers).")

    @model_validator(mode="after")
    def _one_size(self) -> "ClusterSection":
        if (self.nodes is None) == (self.gpus is None):
            raise ValueError("give exactly one of `nodes` or `gpus`")
        return self

    def node_spec(self) -> NodeSpec:
        return node_catalog()[self.node] if isinstance(self.node, str) else self.node.spec()

    @property
    def node_count(self) -> int:
        if self.nodes is not None:
            return self.nodes
        return math.ceil(self.gpus / self.node_spec().gpus_per_node)

    @property
    def gpu_count(self) -> int:
        return self.node_count * self.node_spec().gpus_per_node


# ---------------------------------------------------------------------------------------- facility
class FacilitySection(StrictModel):
    """[facility]: how IT power becomes facility power: a stated PUE (`fixed_pue`), or a cooling plant and power
    chain whose overhead follows the IT heat and the weather (`plant`, sim/physics/cooling.py)."""

    model: Literal["fixed_pue", "plant"] = Field(
        "fixed_pue", description="'fixed_pue' (PUE as an input) or 'plant' (PUE out of the plant's physics and the weather)."
    )
    pue: Number = Field(
        1.58, ge=1.0,
        description="Power usage effectiveness for `fixed_pue` (default: industry average 1.58, Uptime Institute 2022 survey).",
    )
    cooling_share: Number = Field(
        0.8, ge=0, le=1, description="Share of the overhead IT x (PUE - 1) booked as cooling; the rest is power loss."
    )
    wue_l_per_kwh: Number = Field(
        0.0, ge=0, description="On-site water per kWh of IT energy for `fixed_pue` [L/kWh] (The Green Grid WUE; 0 unless given)."
    )
    # model = "plant" (sim/config/plant_schema.py, sim/facility/plant.py)
    preset: PresetName | None = Field(
        None, description="Plant preset for `plant`: hyperscale_air (default), legacy_air, liquid_dtc, dry_cooled."
    )
    design_it_power_w: Number | None = Field(
        None, gt=0, description="IT power the plant is sized for [W] (default: the cluster's nameplate, nodes x max_power_w)."
    )
    cooling: Literal["air", "liquid"] | None = Field(
        None, description="Switch the preset to all-air or direct-to-chip liquid cooling (default: the preset's)."
    )
    heat_rejection: Literal["towers", "dry"] | None = Field(
        None, description="Switch the preset to evaporative cooling towers or dry coolers (default: the preset's)."
    )
    plant: PlantOverrides | None = Field(
        None, description="[facility.plant]: any plant parameter by its name, e.g. air.supply_air_c = 22 (sim/physics/cooling.py)."
    )

    @model_validator(mode="after")
    def _keys_of_the_model(self) -> "FacilitySection":
        # Keys of the other model are refused when they say something: a plant key that is set, a fixed_pue key
        # away from its default (a resolved scenario, dumped with every key, validates again).
        if self.model == "fixed_pue":
            given = [k for k in ("preset", "design_it_power_w", "cooling", "heat_rejection", "plant")
                     if getattr(self, k) is not None]
        else:
            given = [k for k in ("pue", "cooling_share", "wue_l_per_kwh")
                     if getattr(self, k) != type(self).model_fields[k].default]
        if given:
            owner = "plant" if self.model == "fixed_pue" else "fixed_pue"
            raise ValueError(f"{', '.join(given)}: only for model = '{owner}' (model is '{self.model}')")
        return self

    @property
    def preset_name(self) -> str:
        return self.preset or DEFAULT_PLANT_PRESET

    def design_it_power_for(self, cluster: "ClusterSection") -> float:
        """Design IT power [W]: as given, else the cluster's nameplate (nodes x the node's maximum power)."""
        if self.design_it_power_w is not None:
            return self.design_it_power_w
        return cluster.node_count * cluster.node_spec().max_power_w


DEFAULT_PLANT_PRESET = "hyperscale_air"
WEATHER_FILE_TYPES = (".epw", ".csv", ".json")


def _weather_file_type(path: Path) -> Path:
    if path.suffix.lower() not in WEATHER_FILE_TYPES:
        raise ValueError(f"expected an EnergyPlus .epw, a .csv or an Open-Meteo .json file, got {path.name!r}")
    return path


class WeatherSection(StrictModel):
    """[weather]: outdoor conditions for the cooling plant, hour by hour: a file (EnergyPlus EPW typical year,
    CSV `timestamp,dry_bulb_c,relative_humidity_pct[,pressure_pa]`, or an Open-Meteo JSON response), else a
    built-in climate. A file takes precedence over `climate` (so `--set weather.file=...` turns a scenario written
    for a built-in climate onto real data). With model = 'plant' and no [weather], 'temperate' serves."""

    file: Annotated[InputPath, AfterValidator(_weather_file_type)] | None = Field(
        None, description="Weather file (.epw, .csv or .json); relative to the scenario file.")
    climate: ClimateName = Field(
        "temperate", description="Built-in climate, used when no file is given: hot_dry, temperate, cold, mild_coastal."
    )
    elevation_m: Number = Field(
        0.0, ge=-500, le=9000, description="Site elevation [m]: the standard-atmosphere pressure of a CSV without pressure_pa."
    )


# -------------------------------------------------------------------------------------------- grid
NonNegative = Annotated[float, AfterValidator(_finite), Field(ge=0)]


def _known_region(value: str | None) -> str | None:
    if value is None:
        return None
    from sim.errors import SimInputError
    from sim.timeseries.regions import get_region

    try:
        return get_region(value).name
    except SimInputError as exc:
        raise ValueError(exc.messages[0]) from None


HOURS_PER_DAY = 24


class SupplyContract(StrictModel):
    """[grid.contract]: a clean-energy supply contract, for market-based carbon (GHG Protocol Scope 2).

    matching = "hourly" (24/7): the contract's clean energy counts only in the hour it is delivered; give its
    delivery as `supply_mw` (constant), `supply_file` (MW over time) or `supply_profile_mw` (24 values, one per
    UTC hour of the day, repeated every day). matching = "annual": certificates are netted against the run's
    consumption; give `annual_volume_mwh` (prorated to the run's length) or a delivery profile (its energy over
    the run is the volume).
    """

    matching: Literal["hourly", "annual"] = Field("hourly", description="'hourly' (24/7) or 'annual' (volume) matching.")
    supply_mw: NonNegative | None = Field(None, description="Constant clean power delivered [MW].")
    supply_file: InputPath | None = Field(None, description="CSV or Parquet of clean power delivered [MW]; relative to the scenario file.")
    supply_column: str | None = Field(None, description="Value column of `supply_file` (default: as for the carbon file).")
    supply_profile_mw: list[NonNegative] | None = Field(
        None, min_length=HOURS_PER_DAY, max_length=HOURS_PER_DAY,
        description="Clean power delivered in each UTC hour of the day [MW], 24 values, every day.",
    )
    annual_volume_mwh: NonNegative | None = Field(
        None, description="Clean energy certificates per year [MWh] (annual matching), prorated to the run's length."
    )

    @model_validator(mode="after")
    def _one_supply(self) -> "SupplyContract":
        profiles = [k for k in ("supply_mw", "supply_file", "supply_profile_mw") if getattr(self, k) is not None]
        if self.matching == "hourly":
            if self.annual_volume_mwh is not None:
                raise ValueError(
                    "`annual_volume_mwh` is for matching = 'annual'; hourly matching needs when the clean energy is "
                    "delivered: give one of supply_mw, supply_file, supply_profile_mw"
                )
            if len(profiles) != 1:
                raise ValueError("hourly matching: give exactly one of supply_mw, supply_file, supply_profile_mw")
        elif len(profiles) + (self.annual_volume_mwh is not None) != 1:
            raise ValueError(
                "annual matching: give exactly one of annual_volume_mwh, supply_mw, supply_file, supply_profile_mw"
            )
        return self

    @property
    def has_profile(self) -> bool:
        return self.annual_volume_mwh is None


class GridSection(StrictModel):
    """[grid]: the electricity's signals. Carbon intensity: a constant, a built-in `region`, or a file.
    Also marginal intensity, price, water intensity of generation, and a clean-energy contract."""

    carbon_intensity_g_per_kwh: Number | None = Field(
        None, ge=0, description="Constant carbon intensity [gCO2e/kWh] (default 481, world 2023, Ember)."
    )
    carbon_intensity_file: InputPath | None = Field(
        None, description="CSV of hourly (or finer) carbon intensity; relative to the scenario file."
    )
    file_format: Literal["auto", "electricitymaps", "eia930", "csv", "parquet"] = Field(
        "auto", description="Format of `carbon_intensity_file` (auto: from the header or extension)."
    )
    column: str | None = Field(
        None,
        description="Value column: 'lca' (default) or 'direct' for Electricity Maps files; the column name otherwise.",
    )
    region: Annotated[str | None, AfterValidator(_known_region)] = Field(
        None, description="Built-in regional profile (hourly carbon intensity, and water intensity where cited)."
    )
    marginal_carbon_intensity_g_per_kwh: Number | None = Field(
        None, ge=0, description="Constant marginal carbon intensity [gCO2e/kWh] (no default: marginal columns only when given)."
    )
    marginal_carbon_intensity_file: InputPath | None = Field(
        None, description="CSV or Parquet of marginal carbon intensity [gCO2e/kWh]."
    )
    marginal_column: str | None = Field(None, description="Value column of `marginal_carbon_intensity_file`.")
    electricity_price_usd_per_mwh: Number | None = Field(
        None, description="Flat tariff [USD/MWh] (default 80.6: U.S. industrial average 2023, EIA)."
    )
    electricity_price_file: InputPath | None = Field(
        None, description="CSV or Parquet of electricity price [USD/MWh]; negative prices allowed."
    )
    price_column: str | None = Field(None, description="Value column of `electricity_price_file`.")
    water_intensity_l_per_kwh: Number | None = Field(
        None, ge=0,
        description="Water consumed off site per kWh generated [L/kWh] (default: the region's cited figure, else 3.1, U.S. average, Li et al. 2023).",
    )
    contract: SupplyContract | None = Field(None, description="Clean-energy supply contract ([grid.contract]).")

    @model_validator(mode="after")
    def _one_source(self) -> "GridSection":
        carbon = [k for k in ("carbon_intensity_g_per_kwh", "carbon_intensity_file", "region") if getattr(self, k) is not None]
        if len(carbon) > 1:
            raise ValueError(f"give one carbon intensity source, not {' and '.join(carbon)}")
        for constant, file in (
            ("marginal_carbon_intensity_g_per_kwh", "marginal_carbon_intensity_file"),
            ("electricity_price_usd_per_mwh", "electricity_price_file"),
        ):
            if getattr(self, constant) is not None and getattr(self, file) is not None:
                raise ValueError(f"give either `{constant}` or `{file}`, not both")
        return self


# World average 2023, Ember Global Electricity Review 2024 (shared/REFERENCE.md).
DEFAULT_CARBON_INTENSITY_G_PER_KWH = 481.0

# U.S. average retail price of electricity to industrial customers, 2023: 8.06 cents/kWh (U.S. EIA, Electric
# Power Annual / Monthly, as charted by Statista "Average retail electricity price for industrial consumers in
# the United States 1970-2023", March 2024) = 80.6 USD/MWh.
DEFAULT_ELECTRICITY_PRICE_USD_PER_MWH = 80.6

# Li, Yang, Islam, Ren 2023, "Making AI Less 'Thirsty'" (arXiv:2304.03271): U.S. average electricity water
# intensity factor, about 3.1 L/kWh consumed off site (read in secondary sources quoting the paper's table).
DEFAULT_WATER_INTENSITY_L_PER_KWH = 3.1


# ---------------------------------------------------------------------------------------- footprint
class EmbodiedSection(StrictModel):
    """[embodied]: manufacturing carbon of the hardware, amortised linearly over its lifetime by time held.

    Per accelerator: die area x carbon per area of its process + HBM x 0.4 kgCO2e/GB (LLMCarbon); per host:
    LLMCarbon's CPU, DRAM and SSD figures for the catalog server's parts. Network gear and external storage
    are counted only when given here.
    """

    lifetime_years: NonNegative = Field(
        5.0, gt=0, description="Service life over which embodied carbon is spread [years of 365 days] (LLMCarbon: 5)."
    )
    gpu_kg: NonNegative | None = Field(
        None, description="Embodied carbon per accelerator [kgCO2e] (default: from the catalog's die area and HBM)."
    )
    host_kg_per_node: NonNegative | None = Field(
        None, description="Embodied carbon of a server's host [kgCO2e] (default: the catalog server's CPUs, DRAM, SSD)."
    )
    network_kg_per_node: NonNegative = Field(
        0.0, description="Network gear per server (switch ports, NICs, optics) [kgCO2e]; 0 unless given (no sourced default)."
    )
    storage_tb: NonNegative = Field(
        0.0, description="External storage capacity of the cluster [TB], charged at LLMCarbon's SSD 0.024 kgCO2e/GB."
    )


class CostSection(StrictModel):
    """[cost]: hardware cost (energy cost comes from [grid] electricity price)."""

    hardware_usd_per_gpu_hour: NonNegative | None = Field(
        None, description="Hardware cost per accelerator-hour held [USD] (ownership or rent: your figure); not counted when absent."
    )


# ----------------------------------------------------------------------------------------- network
def _catalog_link(value: object) -> object:
    from sim.catalog.network import load_network_catalog

    links = load_network_catalog().links
    if isinstance(value, str) and value not in links:
        raise ValueError(f"unknown link {value!r}; expected one of: {', '.join(sorted(links))}")
    return value


def _catalog_switch(value: str) -> str:
    from sim.catalog.network import load_network_catalog

    switches = load_network_catalog().switches
    if value not in switches:
        raise ValueError(f"unknown switch {value!r}; expected one of: {', '.join(sorted(switches))}")
    return value


def _catalog_transceiver(value: str) -> str:
    from sim.catalog.network import load_network_catalog

    transceivers = load_network_catalog().transceivers
    if value != "none" and value not in transceivers:
        raise ValueError(
            f"unknown transceiver {value!r}; expected 'none' or one of: {', '.join(sorted(transceivers))}"
        )
    return value


class LinkModel(StrictModel):
    """A link defined inline: bandwidth per direction (``inf`` for an ideal network) and latency per step."""

    name: str = Field("inline link", description="Name shown in outputs.")
    bandwidth_bytes_per_s: float = Field(gt=0, description="Bandwidth per direction [byte/s]; inf allowed.")
    latency_s: Number = Field(0.0, ge=0, description="Latency of one message step [s].")
    energy_per_bit_j: Number = Field(0.0, ge=0, description="Traffic-dependent energy [J/bit].")
    source: str = Field("defined in the scenario", description="Where the figures come from (datasheet, paper).")

    @field_serializer("bandwidth_bytes_per_s", when_used="json")
    def _inf_as_text(self, value: float) -> float | str:
        return "inf" if math.isinf(value) else value  # JSON has no infinity; "inf" reads back as one


LinkChoice = catalog_or_inline(Annotated[str, AfterValidator(_catalog_link)], LinkModel)


class NetworkSection(StrictModel):
    """[network]: the cluster fabric. Switches and optics draw power whatever the traffic; predict-mode
    jobs share the spine's bandwidth (max-min fair). Without the table, the fabric draws nothing and
    predict-mode jobs use the default links uncontended."""

    enabled: bool = Field(True, description="Model the fabric (false: no network power, no contention).")
    topology: Literal["fat_tree", "rail_optimized", "rail_only"] = Field(
        "rail_optimized", description="Fabric layout (rail_optimized: the DGX SuperPOD layout)."
    )
    link: LinkChoice = Field(
        "infiniband_ndr_400g", description="NIC-to-switch link type (network catalog name or inline table)."
    )
    intra_node_link: LinkChoice | None = Field(
        None, description="GPU-to-GPU link inside a node (default: the NVLink generation of the accelerator)."
    )
    switch: Annotated[str, AfterValidator(_catalog_switch)] = Field(
        "nvidia_qm9700", description="Switch type from the network catalog."
    )
    switch_radix: int | None = Field(
        None, ge=4, description="Ports per switch used to size the tree (default: the switch's ports)."
    )
    transceiver: Annotated[str, AfterValidator(_catalog_transceiver)] = Field(
        "osfp_2x400g_twin_port", description="Optics in each used switch port ('none': passive copper)."
    )
    nics_per_node: int | None = Field(None, ge=1, description="Fabric NICs per node (default: one per GPU).")
    oversubscription: Number = Field(
        1.0, ge=1.0, description="Leaf downlink over uplink bandwidth (1: non-blocking)."
    )
    energy_per_bit_j: Number | None = Field(
        None, ge=0, description="Traffic-dependent energy per bit per switch hop [J/bit] (default: the link's, 0)."
    )

    @field_validator("switch_radix")
    @classmethod
    def _even(cls, value: int | None) -> int | None:
        if value is not None and value % 2:
            raise ValueError(f"expected an even number of ports, got {value}")
        return value


# ----------------------------------------------------------------------------------------- storage
class StorageSection(StrictModel):
    """[storage]: the shared storage tier (datasets and checkpoints). Defaults are sized from the cluster;
    the figures behind them are in sim/facility/storage.py. Without the table, the default tier still sets
    checkpoint and reload times but draws nothing."""

    enabled: bool = Field(True, description="Model the storage tier (false: no storage power).")
    capacity_tb: Number | None = Field(
        None, gt=0, description="Installed capacity [TB] (default: capacity_tb_per_gpu x the cluster's GPUs)."
    )
    capacity_tb_per_gpu: Number | None = Field(None, gt=0, description="Capacity per accelerator [TB/GPU].")
    idle_power_w_per_tb: Number | None = Field(None, ge=0, description="Power with no I/O per TB [W/TB].")
    read_energy_j_per_byte: Number | None = Field(None, ge=0, description="Energy per byte read [J/byte].")
    write_energy_j_per_byte: Number | None = Field(None, ge=0, description="Energy per byte written [J/byte].")
    read_bandwidth_bytes_per_s: Number | None = Field(None, gt=0, description="Aggregate read bandwidth [byte/s].")
    write_bandwidth_bytes_per_s: Number | None = Field(
        None, gt=0, description="Aggregate write bandwidth [byte/s]."
    )


# -------------------------------------------------------------------------------------------- jobs
def _interval(value: object) -> object:
    if isinstance(value, str) and value.strip() in ("young_daly", "none"):
        return value.strip()
    return parse_duration_s(value)


class CheckpointSpec(StrictModel):
    """[jobs.checkpoint]: when and how the job saves its training state."""

    interval: Annotated[str | float, BeforeValidator(_interval)] = Field(
        "young_daly",
        description="Compute time between checkpoints: 'young_daly' (optimal for the job's failure rate; "
        "none without failures), 'none', or a duration.",
    )
    asynchronous: bool = Field(
        False,
        description="Write in the background instead of pausing training; the next snapshot is taken "
        "`interval` after the write ends.",
    )
    bytes_per_parameter: Number = Field(
        16.0, gt=0, description="Checkpoint size per parameter [byte] (16: mixed-precision Adam, ZeRO).",
    )

    @field_validator("interval")
    @classmethod
    def _positive(cls, value: str | float) -> str | float:
        if isinstance(value, float) and not (value > 0 and math.isfinite(value)):
            raise ValueError(f"expected a positive duration, got {value:g} s")
        return value


class FailureSpec(StrictModel):
    """[jobs.failures]: hardware failures that stop the job, and how it comes back."""

    enabled: bool = Field(
        True,
        description="Draw failures (false: none is drawn, but the failure rate still plans the Young/Daly "
        "checkpoint interval: the same run, without its failures).",
    )
    calibration: Literal["llama3"] | None = Field(
        None, description="'llama3': per-GPU MTBF from 419 interruptions in 54 days on 16,384 H100."
    )
    gpu_mtbf: DurationS | None = Field(None, description="Mean time between failures of one accelerator.")
    node_mtbf: DurationS | None = Field(None, description="Mean time between failures of one node (host).")
    detection_time: DurationS = Field(
        600.0, description="From the failure to the job being stopped (default: the 10 min NCCL timeout)."
    )
    replacement_time: DurationS = Field(300.0, description="Swapping in a spare node and relaunching (assumed 5 min).")
    spare_nodes: int = Field(
        0, ge=0,
        description="Hot-spare nodes held idle by the job; without one, a free node of the cluster replaces "
        "a failed node, else the job waits for the repair.",
    )
    repair_time: DurationS = Field(259_200.0, description="Until a failed node is back as a spare (assumed 3 d).")
    seed: int = Field(0, ge=0, description="Failure stream offset: changes the failures and nothing else.")

    @model_validator(mode="after")
    def _a_rate(self) -> "FailureSpec":
        if self.calibration is not None and self.gpu_mtbf is not None:
            raise ValueError("give `calibration` or `gpu_mtbf`, not both")
        if self.calibration is None and self.gpu_mtbf is None and self.node_mtbf is None:
            raise ValueError("give `calibration = \"llama3\"`, `gpu_mtbf` or `node_mtbf`")
        for name in ("gpu_mtbf", "node_mtbf"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"`{name}` must be positive")
        return self


class ParallelSpec(StrictModel):
    """[jobs.parallel]: tensor, pipeline and data parallel degrees (tensor x pipeline x data = gpus)."""

    tensor: int | None = Field(None, ge=1, description="Tensor-parallel degree (default: GPUs per node).")
    pipeline: int = Field(1, ge=1, description="Pipeline stages.")
    data: int | None = Field(None, ge=1, description="Data-parallel degree (default: gpus / (tensor x pipeline)).")
    micro_batch_size: int = Field(1, ge=1, description="Sequences per micro-batch.")


class TrainingJobSpec(StrictModel):
    """[[jobs]]: a training job. Work from `flop`, or 6 x parameters x tokens; speed from
    `achieved_flop_per_s_per_gpu` (measured) or `mfu` x the accelerator's peak."""

    name: str = Field(min_length=1, description="Job name, unique in the scenario; names its row in jobs.parquet.")
    kind: Literal["training"] = Field("training", description="Kind of job.")
    gpus: int = Field(ge=1, description="Accelerators the job runs on.")
    submit_at: DurationS = Field(0.0, description="Simulated time at which the job is submitted.")
    parameters: Number | None = Field(None, gt=0, description="Model parameters N.")
    tokens: Number | None = Field(None, gt=0, description="Training tokens D.")
    flop: Number | None = Field(None, gt=0, description="Total training FLOP (default 6 N D).")
    batch_tokens: Number = Field(gt=0, description="Tokens per iteration (global batch size in tokens).")
    achieved_flop_per_s_per_gpu: Number | None = Field(
        None, gt=0, description="Measured throughput per accelerator [FLOP/s] (reproduction mode)."
    )
    mfu: Number | None = Field(None, gt=0, le=1, description="Model FLOP utilisation: achieved / peak.")
    measured_power_w_per_gpu: Number | None = Field(
        None, gt=0, description="Measured average system power per accelerator, host included [W]; replaces the power model while the job runs."
    )
    exposed_communication_fraction: Number = Field(
        0.0, ge=0, lt=1, description="Share of each iteration spent in communication not hidden behind compute."
    )
    slack: DurationS | None = Field(
        None, description="How much later than submit + its run time the job may finish (deferrable by a shifting policy)."
    )
    deadline: DurationS | None = Field(None, description="Latest finish, as simulated time (instead of slack).")
    interruptible: bool = Field(
        False, description="Whether a shifting policy may suspend the job (a checkpoint is written first) and resume it."
    )
    mode: Literal["reproduce", "predict"] = Field(
        "reproduce",
        description="reproduce: measured throughput, communication implicit; predict: compute_efficiency x "
        "peak plus the communication the network model gives for the parallel layout.",
    )
    compute_efficiency: Number | None = Field(
        None, gt=0, le=1, description="predict: achieved / peak FLOP/s while computing (communication excluded)."
    )
    overlap_fraction: Number = Field(
        0.0, ge=0, le=1, description="predict: share of the communication hidden behind compute (stated, default 0)."
    )
    parallel: ParallelSpec | None = Field(None, description="predict: parallel layout (default: tensor = GPUs per node).")
    layers: int | None = Field(None, ge=1, description="predict: transformer layers (default from parameters).")
    hidden_size: int | None = Field(None, ge=1, description="predict: hidden size (default from parameters).")
    sequence_length: int = Field(4096, ge=1, description="predict: tokens per sequence.")
    checkpoint: CheckpointSpec = Field(CheckpointSpec(), description="Checkpoint interval, mode and size.")
    failures: FailureSpec | None = Field(None, description="Failures, restarts, spares and repairs.")
    dataset_bytes_per_token: Number = Field(
        4.0, ge=0, description="Bytes read from storage per training token (4: int32 token ids)."
    )
    gpu_hours_x_tdp: bool = Field(
        False,
        description="Arithmetic mode, not physics: while the job runs, its accelerators draw their TDP and nothing "
        "else counts (host and spare accelerators excluded), so its IT energy is GPU-hours x TDP, as papers that "
        "multiply GPU-hours by TDP computed it (Touvron et al. 2023, Table 15; Luccioni et al. 2022, dynamic part).",
    )

    @model_validator(mode="after")
    def _work_and_speed(self) -> "TrainingJobSpec":
        if self.flop is None and (self.parameters is None or self.tokens is None):
            raise ValueError("give `flop`, or both `parameters` and `tokens` (work = 6 x parameters x tokens)")
        if self.parameters is None:
            raise ValueError("give `parameters`: iterations follow from batch_tokens x 6 x parameters")
        if self.mode == "predict":
            if self.compute_efficiency is None:
                raise ValueError("mode = 'predict' needs `compute_efficiency` (achieved / peak while computing)")
            if self.achieved_flop_per_s_per_gpu is not None or self.mfu is not None:
                raise ValueError("mode = 'predict' takes `compute_efficiency`, not `achieved_flop_per_s_per_gpu` or `mfu`")
            if self.exposed_communication_fraction:
                raise ValueError("mode = 'predict' computes the communication; drop `exposed_communication_fraction`")
        else:
            if (self.achieved_flop_per_s_per_gpu is None) == (self.mfu is None):
                raise ValueError("give exactly one of `achieved_flop_per_s_per_gpu` or `mfu`")
            if self.compute_efficiency is not None or self.parallel is not None:
                raise ValueError("`compute_efficiency` and `parallel` belong to mode = 'predict'")
        if self.slack is not None and self.deadline is not None:
            raise ValueError("give `slack` or `deadline`, not both")
        if self.gpu_hours_x_tdp and self.measured_power_w_per_gpu is not None:
            raise ValueError("give at most one of `gpu_hours_x_tdp` or `measured_power_w_per_gpu`: each replaces the power model")
        return self

    @property
    def total_flop(self) -> float:
        return self.flop if self.flop is not None else 6.0 * self.parameters * self.tokens

    @property
    def flop_per_iteration(self) -> float:
        """6 N x tokens per iteration: forward (2N) and backward (4N) FLOP per token (Kaplan et al. 2020)."""
        return 6.0 * self.parameters * self.batch_tokens


# ---------------------------------------------------------------------------------------- services
# Inference services (sim/workloads/service.py). Defaults that come from the world cite their source.
PrecisionName = Literal["bf16", "fp8", "int4"]


class PrecisionSpec(StrictModel):
    """[services.precision]: numeric format of the weights and of the KV cache, set apart."""

    weights: PrecisionName = Field("bf16", description="Weights: bf16, fp8 (W8A8 on fp8 tensor cores) or int4 (W4A16).")
    kv_cache: PrecisionName = Field("bf16", description="KV cache: bf16, fp8 or int4.")


def _catalog_llm(value: object) -> object:
    from sim.catalog.llm_models import load_llm_catalog

    if isinstance(value, str) and value not in load_llm_catalog():
        raise ValueError(f"unknown model {value!r}; expected one of: {', '.join(sorted(load_llm_catalog()))}")
    return value


class LlmModelSpec(StrictModel):
    """[services.model]: a decoder-only transformer defined inline (shapes as in llm_models.toml)."""

    name: str = Field("inline model", description="Name shown in outputs.")
    n_layers: int = Field(ge=1, description="Transformer layers.")
    hidden_size: int = Field(ge=1, description="Model (embedding) width.")
    n_heads: int = Field(ge=1, description="Attention (query) heads.")
    n_kv_heads: int | None = Field(None, ge=1, description="Key/value heads (default: n_heads, no GQA).")
    head_dim: int | None = Field(None, ge=1, description="Default hidden_size / n_heads.")
    ffn_hidden_size: int = Field(ge=1, description="Inner width of the feed-forward block (of one expert).")
    gated_ffn: bool = Field(True, description="Gated feed-forward (SwiGLU: three weight matrices) rather than two.")
    vocab_size: int = Field(ge=1, description="Vocabulary size (tokens).")
    tied_embeddings: bool = Field(False, description="Output projection shares the input embedding's weights.")
    learned_position_tokens: int = Field(0, ge=0, description="Rows of a learned position embedding (0: none, e.g. RoPE).")
    n_experts: int = Field(1, ge=1, description="Feed-forward experts per layer (1: dense model).")
    n_active_experts: int = Field(1, ge=1, description="Experts each token goes through (mixture of experts).")
    max_context_tokens: int = Field(ge=2, description="Context window: prompt + output tokens of one sequence.")
    source: str = Field("defined in the scenario", description="Where the shapes come from (paper, model card).")

    def architecture(self):
        from sim.catalog.llm_models import LlmArchitecture

        head_dim = self.head_dim if self.head_dim is not None else self.hidden_size // self.n_heads
        fields = dict(
            name=self.name, display_name=self.name, n_layers=self.n_layers, hidden_size=self.hidden_size,
            n_heads=self.n_heads, n_kv_heads=self.n_kv_heads or self.n_heads, head_dim=head_dim,
            ffn_hidden_size=self.ffn_hidden_size, gated_ffn=self.gated_ffn, vocab_size=self.vocab_size,
            tied_embeddings=self.tied_embeddings, learned_position_tokens=self.learned_position_tokens,
            n_experts=self.n_experts, n_active_experts=self.n_active_experts,
            max_context_tokens=self.max_context_tokens, published_total_params=0.0,
            published_active_params=0.0, source=self.source,
        )
        arch = LlmArchitecture(**fields)
        return LlmArchitecture(**{**fields, "published_total_params": float(arch.total_params),
                                  "published_active_params": float(arch.active_params)})

    @model_validator(mode="after")
    def _consistent(self) -> "LlmModelSpec":
        try:
            self.architecture()
        except ValueError as exc:
            raise ValueError(str(exc).replace(f"model {self.name}: ", "")) from None
        return self


LENGTH_DISTRIBUTIONS = ("fixed", "uniform", "lognormal", "geometric", "empirical")


def _length_shorthand(value: object) -> object:
    """`prompt_tokens = 512` is `prompt_tokens = { distribution = "fixed", tokens = 512 }`."""
    if isinstance(value, int) and not isinstance(value, bool):
        return {"distribution": "fixed", "tokens": value}
    return value


class LengthSpec(StrictModel):
    """Token counts of prompts or outputs: a number (fixed), or a table with `distribution` and its keys:
    fixed {tokens}, uniform {low, high}, lognormal {median_tokens, sigma, max_tokens}, geometric
    {mean_tokens}, empirical {values, weights}."""

    distribution: Literal["fixed", "uniform", "lognormal", "geometric", "empirical"] = Field(
        description="Shape of the token counts; each takes the keys below that name it."
    )
    tokens: int | None = Field(None, ge=0, description="fixed: the count of every request.")
    low: int | None = Field(None, ge=0, description="uniform: smallest count.")
    high: int | None = Field(None, ge=0, description="uniform: largest count.")
    median_tokens: Number | None = Field(None, gt=0, description="lognormal: median count.")
    sigma: Number | None = Field(None, ge=0, description="lognormal: standard deviation of the log of the count.")
    max_tokens: int | None = Field(None, ge=1, description="lognormal: truncation; counts above it are drawn again (optional).")
    mean_tokens: Number | None = Field(None, ge=1, description="geometric: mean count.")
    values: list[Annotated[int, Field(ge=0)]] | None = Field(None, min_length=1, description="empirical: the counts drawn from.")
    weights: list[Annotated[Number, Field(ge=0)]] | None = Field(
        None, description="empirical: relative weight of each value (default: equal)."
    )

    _KEYS: ClassVar[dict[str, tuple[set[str], set[str]]]] = {
        "fixed": ({"tokens"}, set()),
        "uniform": ({"low", "high"}, set()),
        "lognormal": ({"median_tokens", "sigma"}, {"max_tokens"}),
        "geometric": ({"mean_tokens"}, set()),
        "empirical": ({"values"}, {"weights"}),
    }

    @model_validator(mode="after")
    def _keys_of_the_distribution(self) -> "LengthSpec":
        required, optional = self._KEYS[self.distribution]
        given = {k for k in type(self).model_fields if k != "distribution" and getattr(self, k) is not None}
        missing = sorted(required - given)
        extra = sorted(given - required - optional)
        if missing:
            raise ValueError(f"distribution {self.distribution!r} needs {', '.join(missing)}")
        if extra:
            raise ValueError(f"{', '.join(extra)} {'does' if len(extra) == 1 else 'do'} not apply to distribution "
                             f"{self.distribution!r} (it takes {', '.join(sorted(required | optional))})")
        try:
            self.distribution_object()
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        return self

    def distribution_object(self):
        """The sampler of sim.workloads.arrivals this table describes."""
        from sim.workloads import arrivals as a

        if self.distribution == "fixed":
            return a.FixedLength(self.tokens)
        if self.distribution == "uniform":
            return a.UniformLength(self.low, self.high)
        if self.distribution == "lognormal":
            return a.LognormalLength(self.median_tokens, self.sigma, self.max_tokens)
        if self.distribution == "geometric":
            return a.GeometricLength(self.mean_tokens)
        weights = tuple(self.weights) if self.weights is not None else None
        return a.EmpiricalLength(tuple(self.values), weights)

    @property
    def max_possible_tokens(self) -> int | None:
        """The largest count the distribution can draw (None when unbounded)."""
        if self.distribution == "fixed":
            return self.tokens
        if self.distribution == "uniform":
            return self.high
        if self.distribution == "lognormal":
            return self.max_tokens
        if self.distribution == "empirical":
            return max(self.values)
        return None


# The JSON Schema says what a user may write: a count (fixed) or the table.
Length = Annotated[LengthSpec, BeforeValidator(_length_shorthand, json_schema_input_type=Union[Annotated[int, Field(ge=0)], LengthSpec])]

ARRIVAL_PROCESSES = ("poisson", "diurnal", "rate_file", "trace")


class ArrivalsSpec(StrictModel):
    """[services.arrivals]: when requests arrive.

    poisson {rate_per_s}: homogeneous Poisson. diurnal {rate_per_s (weekly mean), daily_amplitude,
    peak_hour_local, weekend_factor, utc_offset_h}: non-homogeneous Poisson, by thinning.
    rate_file {file, column, format}: non-homogeneous Poisson whose rate [requests/s] is a time series.
    trace {file}: replay of an Azure LLM inference trace CSV (TIMESTAMP, ContextTokens, GeneratedTokens),
    shifted so that its first request arrives at the service's start.
    """

    process: Literal["poisson", "diurnal", "rate_file", "trace"] = Field(
        "poisson", description="Arrival process; each takes the keys below that name it."
    )
    rate_per_s: Number | None = Field(None, ge=0, description="Requests per second (diurnal: the weekly mean).")
    daily_amplitude: Number | None = Field(None, ge=0, le=1, description="Relative daily swing (default 0.5).")
    peak_hour_local: Number | None = Field(None, ge=0, lt=24, description="Local hour of the daily peak (default 14).")
    weekend_factor: Number | None = Field(None, ge=0, description="Weekend level / weekday level (default 1).")
    utc_offset_h: Number | None = Field(None, ge=-12, le=14, description="Local time - UTC [h] (default 0).")
    file: InputPath | None = Field(None, description="Rate series (rate_file) or Azure trace (trace); relative to the scenario.")
    column: str | None = Field(None, description="Value column of a rate file (default: `value` or the only other column).")
    format: Literal["auto", "csv", "parquet"] = Field("auto", description="Format of a rate file.")

    _KEYS: ClassVar[dict[str, tuple[set[str], set[str]]]] = {
        "poisson": ({"rate_per_s"}, set()),
        "diurnal": ({"rate_per_s"}, {"daily_amplitude", "peak_hour_local", "weekend_factor", "utc_offset_h"}),
        "rate_file": ({"file"}, {"column"}),
        "trace": ({"file"}, set()),
    }

    @model_validator(mode="after")
    def _keys_of_the_process(self) -> "ArrivalsSpec":
        required, optional = self._KEYS[self.process]
        given = {k for k in type(self).model_fields if k not in ("process", "format") and getattr(self, k) is not None}
        missing = sorted(required - given)
        extra = sorted(given - required - optional)
        if missing:
            raise ValueError(f"process {self.process!r} needs {', '.join(missing)}")
        if extra:
            raise ValueError(f"{', '.join(extra)} {'does' if len(extra) == 1 else 'do'} not apply to process "
                             f"{self.process!r} (it takes {', '.join(sorted(required | optional | {'format'}))})")
        return self


class SloSpec(StrictModel):
    """[services.slo]: latency targets; a request meets the SLO when it meets every target given."""

    ttft_s: Number | None = Field(None, gt=0, description="Time-to-first-token target [s].")
    latency_s: Number | None = Field(None, gt=0, description="End-to-end latency target [s].")
    tpot_s: Number | None = Field(None, gt=0, description="Time-per-output-token target [s].")
    percentile: Number = Field(99.0, gt=0, lt=100, description="Percentile at which the targets are judged.")


class EfficiencySpec(StrictModel):
    """[services.efficiency]: fractions of the datasheet peaks the serving stack reaches
    (defaults and sources in sim/physics/roofline.py: ServingEfficiency)."""

    compute: Number = Field(0.50, gt=0, le=1, description="Achieved / peak tensor throughput (prefill).")
    memory_bandwidth: Number = Field(0.70, gt=0, le=1, description="Achieved / peak HBM bandwidth (decode).")
    hbm_usable_fraction: Number = Field(
        0.90, gt=0, le=1, description="Share of HBM the serving stack can use for weights and KV cache."
    )


class StepTimesSpec(StrictModel):
    """[services.step_times]: measured step durations that replace the roofline (e.g. from a profile)."""

    prefill_s: Number = Field(gt=0, description="Duration of one prefill step [s].")
    decode_step_s: Number = Field(gt=0, description="Duration of one decode step [s].")
    compute_fraction: Number = Field(0.0, ge=0, le=1, description="Tensor-core busy share of a step (power).")


def _known_router(value: str) -> str:
    from sim.policies.routing import router_names

    if value not in router_names():
        raise ValueError(f"unknown router {value!r}; expected one of: {', '.join(router_names())}")
    return value


class ServiceSpec(StrictModel):
    """[[services]]: an LLM served by replicas on the cluster's nodes.

    Each replica holds `tensor_parallel` GPUs of one node (tensor_parallel divides gpus_per_node);
    the service takes ceil(replicas x tensor_parallel / gpus_per_node) whole nodes from the cluster at
    the start of the run and gives them back when its last request is done.
    """

    name: str = Field(min_length=1, description="Service name, unique; names its rows in requests.parquet.")
    model: catalog_or_inline(Annotated[str, AfterValidator(_catalog_llm)], LlmModelSpec) = Field(
        description="Catalog name (sim/catalog/llm_models.toml) or an inline [services.model] table."
    )
    precision: PrecisionName | PrecisionSpec = Field(
        "bf16", description="Weights and KV cache: one name for both, or a table {weights, kv_cache}."
    )
    tensor_parallel: int = Field(1, ge=1, description="GPUs per replica (Megatron tensor parallelism, one node).")
    replicas: int = Field(1, ge=1, description="Model replicas serving the requests.")
    # vLLM's default max_num_seqs is 256 (vllm EngineArgs).
    max_batch: int = Field(256, ge=1, description="Sequences in a replica's running batch.")
    max_prefill_tokens: int | None = Field(
        None, ge=1, description="Prompt tokens in one prefill step (default: the model's context window)."
    )
    router: Annotated[str, AfterValidator(_known_router)] = Field(
        "join_shortest_queue", description="How requests are spread over replicas (sim/policies/routing)."
    )
    arrivals: ArrivalsSpec = Field(description="When requests arrive ([services.arrivals]).")
    prompt_tokens: Length | None = Field(None, description="Prompt lengths (not with a trace: it gives them).")
    output_tokens: Length | None = Field(None, description="Output lengths (not with a trace).")
    duration: DurationS | None = Field(
        None, description="Arrival window from the start of the run (default: scenario.duration, or the trace's span)."
    )
    slo: SloSpec = Field(SloSpec(), description="Latency targets ([services.slo]).")
    efficiency: EfficiencySpec = Field(EfficiencySpec(), description="Fractions of the datasheet peaks reached.")
    step_times: StepTimesSpec | None = Field(None, description="Measured step times instead of the roofline.")
    start_at: DurationS = Field(
        0.0, ge=0, description="When the service asks for its nodes and opens its arrivals, from the start of the "
                               "run (flow fidelity; it waits for free nodes like a job). Its arrival window ends "
                               "at `duration`, also counted from the start of the run."
    )
    fidelity: Literal["request", "flow"] = Field(
        "request", description="request: every request simulated (requests.parquet); flow: arrivals counted per "
                               "output interval and served at the replicas' modelled rate (sim/workloads/flow.py)."
    )

    @model_validator(mode="after")
    def _start_needs_flow(self) -> "ServiceSpec":
        if self.start_at > 0 and self.fidelity != "flow":
            raise ValueError("start_at (a service that starts later) is supported at fidelity = \"flow\" only")
        if self.duration is not None and self.start_at >= self.duration:
            raise ValueError(f"start_at ({self.start_at:g} s) must come before the end of the arrival window "
                             f"(duration = {self.duration:g} s from the start of the run)")
        return self

    @model_validator(mode="after")
    def _lengths_and_source(self) -> "ServiceSpec":
        trace = self.arrivals.process == "trace"
        if trace and (self.prompt_tokens is not None or self.output_tokens is not None):
            raise ValueError("a trace gives every request's prompt and output tokens: "
                             "leave out prompt_tokens and output_tokens")
        if not trace and (self.prompt_tokens is None or self.output_tokens is None):
            raise ValueError("give prompt_tokens and output_tokens (a number, or a table with a `distribution`)")
        if self.prompt_tokens is not None and self.prompt_tokens.distribution in ("fixed", "uniform", "empirical"):
            smallest = {"fixed": self.prompt_tokens.tokens, "uniform": self.prompt_tokens.low,
                        "empirical": min(self.prompt_tokens.values or [1])}[self.prompt_tokens.distribution]
            if smallest < 1:
                raise ValueError("prompt_tokens: a prompt needs at least 1 token")
        return self

    @property
    def weights_precision(self) -> str:
        return self.precision if isinstance(self.precision, str) else self.precision.weights

    @property
    def kv_cache_precision(self) -> str:
        return self.precision if isinstance(self.precision, str) else self.precision.kv_cache

    def architecture(self):
        from sim.catalog.llm_models import llm_architecture

        return llm_architecture(self.model) if isinstance(self.model, str) else self.model.architecture()


# ------------------------------------------------------------------------------------------ output
def _at_least_one_second(value: float) -> float:
    if value < 1.0:
        raise ValueError(f"expected a duration of at least 1 s, got {value:g} s")
    return value


class OutputSection(StrictModel):
    """[output]: the time-series resolution."""

    interval: Annotated[DurationS, AfterValidator(_at_least_one_second)] = Field(
        3600.0, description="Output interval of timeseries.parquet (>= 1 s)."
    )


# ------------------------------------------------------------------------------- queue, policies
# Their tables live in their own modules (they use the base types above).
from sim.config.policies import CompareSection, PoliciesSection  # noqa: E402
from sim.config.queue import QueueSection  # noqa: E402


# ----------------------------------------------------------------------------------------- the run
class Scenario(StrictModel):
    """A whole scenario file."""

    scenario: ScenarioSection = Field(ScenarioSection(), description="Identity, seed and calendar of the run.")
    cluster: ClusterSection = Field(description="The servers.")
    facility: FacilitySection = Field(FacilitySection(), description="How IT power becomes facility power.")
    weather: WeatherSection | None = Field(None, description="Outdoor weather for the cooling plant (none: no weather).")
    grid: GridSection = Field(GridSection(), description="The electricity: carbon intensity, and its other signals.")
    # Opt-in: a scenario without [network] / [storage] models neither (published figures that this
    # reproduces count the servers only); an empty table brings the defaults.
    network: NetworkSection | None = Field(None, description="The network fabric (none: not modelled).")
    storage: StorageSection | None = Field(None, description="The storage tier (none: not modelled).")
    embodied: EmbodiedSection = Field(EmbodiedSection(), description="Embodied carbon of the hardware.")
    cost: CostSection = Field(CostSection(), description="Prices of energy and hardware.")
    jobs: list[TrainingJobSpec] = Field(default_factory=list, description="Training jobs, one table each.")
    services: list[ServiceSpec] = Field(default_factory=list, description="Inference services, one table each.")
    queue: QueueSection = Field(QueueSection(), description="How waiting jobs are ordered and started.")
    policies: PoliciesSection = Field(PoliciesSection(), description="Scheduling and power policies of the run.")
    compare: CompareSection | None = Field(None, description="Policies to compare against this run (`python -m sim compare`).")
    output: OutputSection = Field(OutputSection(), description="Time-series resolution.")

    @model_validator(mode="after")
    def _jobs_fit(self) -> "Scenario":
        names = [job.name for job in self.jobs] + [job.name for job in self.queue.jobs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"job names must be unique; repeated: {', '.join(duplicates)}")
        return self

    @model_validator(mode="after")
    def _service_names(self) -> "Scenario":
        names = [job.name for job in self.jobs] + [service.name for service in self.services]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"job and service names must be unique (they own energy); repeated: {', '.join(duplicates)}")
        if "idle" in names:
            raise ValueError("'idle' is the name of the cluster's idle pool; choose another job or service name")
        return self

def grid_cross_checks(scenario: Scenario, where: str) -> list[str]:
    """[grid.contract] with a delivery profile is matched by UTC hour: the output interval and the start's offset
    in its hour must be whole seconds (the meter bins at their greatest common divisor with an hour)."""
    contract = scenario.grid.contract
    if contract is None or not contract.has_profile:
        return []
    problems = []
    interval = scenario.output.interval
    if not float(interval).is_integer():
        problems.append(f"{where}: output.interval = {interval:g}: expected whole seconds with a grid.contract supply profile "
                        "(it is matched by UTC hour)")
    start = scenario.scenario.start
    if start.microsecond:
        problems.append(f"{where}: scenario.start = {start.isoformat()}: expected whole seconds with a grid.contract "
                        "supply profile (it is matched by UTC hour)")
    return problems
