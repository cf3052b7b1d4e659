"""The scenario schema: one frozen, validated model per TOML table, under the same names.

Every key is checked once, here, at the edge: unknown keys, wrong types and out-of-range values are
reported with their TOML path by `sim.config.loader`. Units are in the key names (`tdp_w`,
`carbon_intensity_g_per_kwh`); durations are strings with a unit ("1h", "14.8d") or seconds.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)

from sim.catalog.hardware import GpuSpec, NodeSpec, gpu_catalog, node_catalog
from sim.config.durations import parse_duration_s


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


Number = Annotated[float, AfterValidator(_finite)]
DurationS = Annotated[float, BeforeValidator(parse_duration_s), AfterValidator(_finite), Field(ge=0)]


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

    name: str = "inline accelerator"
    tdp_w: Number = Field(gt=0)
    idle_w: Number = Field(ge=0)
    peak_flop_per_s: Number = Field(gt=0)
    hbm_bytes: Number = Field(gt=0)
    hbm_bandwidth_bytes_per_s: Number = Field(gt=0)
    peak_fp8_flop_per_s: Number | None = Field(None, gt=0)
    die_area_mm2: Number | None = Field(None, gt=0)
    source: str = "defined in the scenario"

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


class NodeModel(StrictModel):
    """A server defined inline: its accelerators (catalog name or inline table) and its host."""

    name: str = "inline node"
    gpu: catalog_or_inline(Annotated[str, AfterValidator(_catalog_gpu)], GpuModel)
    gpus_per_node: int = Field(ge=1)
    max_power_w: Number = Field(gt=0, description="Vendor maximum system input power [W].")
    host_idle_w: Number = Field(ge=0, description="Host draw with the accelerators idle [W].")
    source: str = "defined in the scenario"

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

    node: catalog_or_inline(Annotated[str, AfterValidator(_catalog_node)], NodeModel) = Field(
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
    """[facility]: how IT power becomes facility power."""

    model: Literal["fixed_pue"] = Field("fixed_pue", description="Facility model.")
    pue: Number = Field(
        1.58, ge=1.0,
        description="Power usage effectiveness for `fixed_pue` (default: industry average 1.58, Uptime Institute 2022 survey).",
    )
    cooling_share: Number = Field(
        0.8, ge=0, le=1, description="Share of the overhead IT x (PUE - 1) booked as cooling; the rest is power loss."
    )


# -------------------------------------------------------------------------------------------- grid
class GridSection(StrictModel):
    """[grid]: carbon intensity of the electricity, constant or from a file."""

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

    @model_validator(mode="after")
    def _one_source(self) -> "GridSection":
        if self.carbon_intensity_g_per_kwh is not None and self.carbon_intensity_file is not None:
            raise ValueError("give either `carbon_intensity_g_per_kwh` or `carbon_intensity_file`, not both")
        return self


# World average 2023, Ember Global Electricity Review 2024 (shared/REFERENCE.md).
DEFAULT_CARBON_INTENSITY_G_PER_KWH = 481.0


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

    name: str = "inline link"
    bandwidth_bytes_per_s: float = Field(gt=0, description="Bandwidth per direction [byte/s]; inf allowed.")
    latency_s: Number = Field(0.0, ge=0, description="Latency of one message step [s].")
    energy_per_bit_j: Number = Field(0.0, ge=0, description="Traffic-dependent energy [J/bit].")
    source: str = "defined in the scenario"

    @field_serializer("bandwidth_bytes_per_s", when_used="json")
    def _inf_as_text(self, value: float) -> float | str:
        return "inf" if math.isinf(value) else value  # JSON has no infinity; "inf" reads back as one


LinkChoice = catalog_or_inline(Annotated[str, AfterValidator(_catalog_link)], LinkModel)


class NetworkSection(StrictModel):
    """[network]: the cluster fabric. Switches and optics draw power whatever the traffic; predict-mode
    jobs share the spine's bandwidth (max-min fair)."""

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
    the figures behind them are in sim/facility/storage.py."""

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

    enabled: bool = Field(True, description="Draw failures (false: the table is kept but ignored).")
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

    name: str = Field(min_length=1)
    kind: Literal["training"] = "training"
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
        return self

    @property
    def total_flop(self) -> float:
        return self.flop if self.flop is not None else 6.0 * self.parameters * self.tokens

    @property
    def flop_per_iteration(self) -> float:
        """6 N x tokens per iteration: forward (2N) and backward (4N) FLOP per token (Kaplan et al. 2020)."""
        return 6.0 * self.parameters * self.batch_tokens


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


# ----------------------------------------------------------------------------------------- the run
class Scenario(StrictModel):
    """A whole scenario file."""

    scenario: ScenarioSection = ScenarioSection()
    cluster: ClusterSection
    facility: FacilitySection = FacilitySection()
    grid: GridSection = GridSection()
    network: NetworkSection = NetworkSection()
    storage: StorageSection = StorageSection()
    jobs: list[TrainingJobSpec] = Field(default_factory=list)
    output: OutputSection = OutputSection()

    @model_validator(mode="after")
    def _jobs_fit(self) -> "Scenario":
        names = [job.name for job in self.jobs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"job names must be unique; repeated: {', '.join(duplicates)}")
        return self
