"""The shared storage tier in the running simulation: its idle draw, and the defaults it is sized with.

The tier's idle power (per TB installed) is an always-on load on the `storage` channel, split among the
holders of nodes (jobs and the idle pool) in proportion to the nodes they hold, so that each job carries
its share of the infrastructure it keeps busy. Checkpoint writes, reloads and dataset reads are energy per
byte, drawn by the job that moves the bytes (sim/workloads/training.py).

Default tier, when [storage] does not say otherwise (stated figures, per accelerator of the cluster):
- capacity 9.77 TB per GPU: Meta's Tectonic file system for the Llama 3 clusters, 240 PB (Dubey et al.
  2024, "The Llama 3 Herd of Models", Sec. 3.3.1) over the 24,576 GPUs of one of Meta's two GenAI
  clusters ("Building Meta's GenAI infrastructure", Meta engineering blog, 12 March 2024);
- bandwidth 122 MB/s per GPU, read and write: Tectonic's 2 TB/s sustained throughput (Dubey et al. 2024,
  Sec. 3.3.1) over the 16,384 GPUs of the Llama 3 405B run;
- power: a flash tier built from Solidigm D5-P5336 61.44 TB drives (5 W idle, 25 W active, 3.3 GB/s
  write, 7 GB/s read; sim/physics/storage.py) plus 20 W per drive for the storage servers around them
  (ASSUMED: no published per-drive server power was found; it puts a 24-drive server at 600 W).
  Idle: (5 + 20) W / 61.44 TB = 0.41 W/TB; write 20 W / 3.3 GB/s = 6.1 nJ/byte; read 2.9 nJ/byte.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.config.schema import StorageSection
from sim.engine.meter import Load, Meter
from sim.facility.cluster import IDLE_OWNER
from sim.physics.storage import SOLIDIGM_D5_P5336_61TB, StorageTier, storage_tier_from_drives
from sim.units import BYTES_PER_TB

TECTONIC_CAPACITY_BYTES = 240e15  # Dubey et al. 2024, Sec. 3.3.1: 240 PB
META_GENAI_CLUSTER_GPUS = 24_576  # Meta engineering blog, 12 March 2024: two clusters of 24,576 GPUs
TECTONIC_SUSTAINED_BYTES_PER_S = 2e12  # Dubey et al. 2024, Sec. 3.3.1: 2 TB/s sustained, 7 TB/s peak
LLAMA3_405B_GPUS = 16_384

DEFAULT_CAPACITY_BYTES_PER_GPU = TECTONIC_CAPACITY_BYTES / META_GENAI_CLUSTER_GPUS
DEFAULT_BANDWIDTH_BYTES_PER_S_PER_GPU = TECTONIC_SUSTAINED_BYTES_PER_S / LLAMA3_405B_GPUS
# ASSUMED (see module docstring): storage-server power per drive, beyond the drive's own.
DEFAULT_SERVER_OVERHEAD_W_PER_DRIVE = 20.0
_DRIVE_TIER = storage_tier_from_drives(SOLIDIGM_D5_P5336_61TB, 1, DEFAULT_SERVER_OVERHEAD_W_PER_DRIVE)

def build_storage_tier(section: StorageSection, cluster_gpus: int) -> StorageTier:
    """The tier a scenario describes, each unset figure from the defaults above."""
    if section.capacity_tb is not None:
        capacity_bytes = section.capacity_tb * BYTES_PER_TB
    elif section.capacity_tb_per_gpu is not None:
        capacity_bytes = section.capacity_tb_per_gpu * BYTES_PER_TB * cluster_gpus
    else:
        capacity_bytes = DEFAULT_CAPACITY_BYTES_PER_GPU * cluster_gpus
    default_bandwidth = DEFAULT_BANDWIDTH_BYTES_PER_S_PER_GPU * cluster_gpus

    def pick(value, default):
        return default if value is None else value

    return StorageTier(
        capacity_bytes=capacity_bytes,
        read_bandwidth_bytes_per_s=pick(section.read_bandwidth_bytes_per_s, default_bandwidth),
        write_bandwidth_bytes_per_s=pick(section.write_bandwidth_bytes_per_s, default_bandwidth),
        idle_power_w_per_byte=pick(
            None if section.idle_power_w_per_tb is None else section.idle_power_w_per_tb / BYTES_PER_TB,
            _DRIVE_TIER.idle_power_w_per_byte,
        ),
        read_energy_j_per_byte=pick(section.read_energy_j_per_byte, _DRIVE_TIER.read_energy_j_per_byte),
        write_energy_j_per_byte=pick(section.write_energy_j_per_byte, _DRIVE_TIER.write_energy_j_per_byte),
    )


class NodeShare:
    """An always-on draw [W] on one IT channel, split among node holders in proportion to nodes held.

    The idle pool (``idle_owner``) holds whatever no job or service holds. It listens to the cluster
    (`Cluster.on_holding_change`): an owner taking or giving back nodes changes two loads (its own and
    the idle pool's), O(1) per allocation whatever the cluster size.
    """

    def __init__(self, meter: Meter, channel: str, power_w: float, node_count: int, idle_owner: str):
        self.meter = meter
        self.channel = channel
        self.power_w = float(power_w)
        self.node_count = node_count
        self.idle_owner = idle_owner
        self._held: dict[str, int] = {}
        self._loads: dict[str, Load] = {}
        self._set(idle_owner, node_count, 0.0)

    def _set(self, owner: str, nodes: int, now_s: float) -> None:
        if owner not in self._loads:
            self._loads[owner] = self.meter.load(self.channel, owner)
        self._loads[owner].set_power_w(now_s, self.power_w * nodes / self.node_count)

    @property
    def free_nodes(self) -> int:
        return self.node_count - sum(self._held.values())

    def holding_changed(self, owner: str, nodes: int, now_s: float) -> None:
        """``owner`` now holds ``nodes`` nodes."""
        self._held[owner] = nodes
        if self.free_nodes < 0:
            raise RuntimeError(f"{owner} holds more nodes than the cluster has")
        self._set(owner, nodes, now_s)
        self._set(self.idle_owner, self.free_nodes, now_s)


@dataclass
class StorageFacility:
    """The tier of a run and its idle draw, split among node holders. With ``powered`` false ([storage]
    enabled = false) the tier still sets checkpoint and reload times but draws nothing."""

    tier: StorageTier
    idle: NodeShare | None
    powered: bool = True

    @property
    def idle_power_w(self) -> float:
        return self.tier.idle_power_w if self.powered else 0.0

    def write_time_s(self, size_bytes: float) -> float:
        """Time to write ``size_bytes`` at the tier's aggregate write bandwidth [s] (jobs writing at once
        are not slowed: stated simplification)."""
        return size_bytes / self.tier.write_bandwidth_bytes_per_s

    def read_time_s(self, size_bytes: float) -> float:
        return size_bytes / self.tier.read_bandwidth_bytes_per_s

    def write_power_w(self) -> float:
        """Power above idle while writing at full bandwidth [W]: ``e_write x B_write``."""
        if not self.powered:
            return 0.0
        return self.tier.write_energy_j_per_byte * self.tier.write_bandwidth_bytes_per_s

    def read_power_w(self, bytes_per_s: float | None = None) -> float:
        """Power above idle while reading at ``bytes_per_s`` (default: full bandwidth) [W]."""
        if not self.powered:
            return 0.0
        rate = self.tier.read_bandwidth_bytes_per_s if bytes_per_s is None else bytes_per_s
        return self.tier.read_energy_j_per_byte * rate



def build_storage(section: StorageSection | None, meter: Meter, cluster) -> StorageFacility:
    """The storage tier of a run; its idle power on the `storage` channel, split by nodes held, when enabled."""
    section = section if section is not None else StorageSection(enabled=False)
    tier = build_storage_tier(section, cluster.gpu_count)
    share = None
    if section.enabled:
        share = NodeShare(meter, "storage", tier.idle_power_w, cluster.node_count, IDLE_OWNER)
        cluster.on_holding_change(share.holding_changed)
    return StorageFacility(tier=tier, idle=share, powered=section.enabled)


def storage_summary(storage: StorageFacility) -> dict:
    t = storage.tier
    return {
        "enabled": storage.powered,
        "capacity_tb": t.capacity_bytes / BYTES_PER_TB,
        "idle_power_w": storage.idle_power_w,
        "read_bandwidth_bytes_per_s": t.read_bandwidth_bytes_per_s,
        "write_bandwidth_bytes_per_s": t.write_bandwidth_bytes_per_s,
        "read_energy_j_per_byte": t.read_energy_j_per_byte,
        "write_energy_j_per_byte": t.write_energy_j_per_byte,
    }
