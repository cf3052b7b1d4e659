"""Checkpoint sizes, storage transfer times and the power of a storage tier.

A storage tier draws an idle power proportional to its installed capacity plus an energy per byte read
or written:

    P(t) = p_idle * C + e_read * r_read(t) + e_write * r_write(t)

with C the capacity [byte], p_idle [W/byte], e_read and e_write [J/byte] and r the byte rates [byte/s].
The coefficients can be built from a flash drive's datasheet (``storage_tier_from_drives``): idle power
per drive over capacity per drive, and the active-minus-idle power over the drive's sequential rate.
Array overheads (controllers, CPUs, NICs, fans) are a stated input, not a hidden factor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.units import BYTES_PER_GB


@dataclass(frozen=True)
class TrainingStateBytes:
    """Bytes per parameter of each part of a training state [byte/parameter].

    Mixed-precision Adam (Rajbhandari et al. 2020, "ZeRO: memory optimizations toward training
    trillion parameter models", SC20, Sec. 3.1): fp16/bf16 weights 2 + fp16/bf16 gradients 2 + an
    optimizer state of K = 12 (fp32 master weights 4, Adam momentum 4 and variance 4) = 16 bytes.
    """

    weights: float = 2.0
    gradients: float = 2.0
    master_weights: float = 4.0
    optimizer_moments: float = 8.0

    def __post_init__(self) -> None:
        for name in ("weights", "gradients", "master_weights", "optimizer_moments"):
            if not getattr(self, name) >= 0.0:
                raise ValueError(f"{name} must be >= 0 bytes per parameter")

    @property
    def per_parameter(self) -> float:
        """All model states [byte/parameter]; 16 for mixed-precision Adam."""
        return self.weights + self.gradients + self.master_weights + self.optimizer_moments

    @property
    def resumable_per_parameter(self) -> float:
        """What a restart needs, gradients excluded [byte/parameter]; 14 for mixed-precision Adam."""
        return self.weights + self.master_weights + self.optimizer_moments


MIXED_PRECISION_ADAM = TrainingStateBytes()
"""16 bytes per parameter (ZeRO, Rajbhandari et al. 2020)."""


def checkpoint_size_bytes(parameters: float, bytes_per_parameter: float = MIXED_PRECISION_ADAM.per_parameter) -> float:
    """Size of a full checkpoint of the model states [byte]: ``N * bytes_per_parameter``.

    Worked number: Llama 3 405B at 16 bytes per parameter: 405e9 * 16 = 6.48e12 bytes (6.48 TB), or
    about 396 MB per GPU over 16,384 GPUs (Dubey et al. 2024 report 1 MB to 4 GB per GPU).
    """
    if not (parameters >= 0.0 and bytes_per_parameter >= 0.0):
        raise ValueError("parameters and bytes_per_parameter must be >= 0")
    return parameters * bytes_per_parameter


def transfer_time_s(size_bytes: float, bandwidth_bytes_per_s: float, latency_s: float = 0.0) -> float:
    """Time to move ``size_bytes`` at ``bandwidth_bytes_per_s`` after a fixed ``latency_s`` [s]:
    ``t = latency + n / B``. ``B = inf`` gives ``latency`` alone."""
    if not (size_bytes >= 0.0 and bandwidth_bytes_per_s > 0.0 and latency_s >= 0.0):
        raise ValueError("size_bytes and latency_s must be >= 0, bandwidth_bytes_per_s > 0")
    return latency_s + size_bytes / bandwidth_bytes_per_s


def checkpoint_write_time_s(
    size_bytes: float,
    storage_write_bandwidth_bytes_per_s: float,
    client_bandwidth_bytes_per_s: float = math.inf,
) -> float:
    """Time to write a checkpoint [s]: ``n / min(B_storage, B_clients)``, the slower of the tier's
    aggregate write bandwidth and the writers' aggregate network bandwidth.

    Worked number: 6.48 TB into Meta's Tectonic at its 2 TB/s sustained rate (Dubey et al. 2024,
    Sec. 3.3.1) takes 3.24 s; at the 7 TB/s peak, 0.93 s.
    """
    bandwidth = min(storage_write_bandwidth_bytes_per_s, client_bandwidth_bytes_per_s)
    return transfer_time_s(size_bytes, bandwidth)


def checkpoint_read_time_s(
    size_bytes: float,
    storage_read_bandwidth_bytes_per_s: float,
    client_bandwidth_bytes_per_s: float = math.inf,
) -> float:
    """Time to read a checkpoint back on restart [s]: ``n / min(B_storage, B_clients)``."""
    bandwidth = min(storage_read_bandwidth_bytes_per_s, client_bandwidth_bytes_per_s)
    return transfer_time_s(size_bytes, bandwidth)


@dataclass(frozen=True)
class StorageTier:
    """A storage tier as the energy model sees it.

    capacity_bytes [byte]; read and write bandwidth [byte/s] (aggregate); idle_power_w_per_byte [W/byte]
    of installed capacity; read and write energy [J/byte] above idle.
    """

    capacity_bytes: float
    read_bandwidth_bytes_per_s: float
    write_bandwidth_bytes_per_s: float
    idle_power_w_per_byte: float
    read_energy_j_per_byte: float
    write_energy_j_per_byte: float

    def __post_init__(self) -> None:
        for name in ("capacity_bytes", "idle_power_w_per_byte", "read_energy_j_per_byte", "write_energy_j_per_byte"):
            if not getattr(self, name) >= 0.0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        for name in ("read_bandwidth_bytes_per_s", "write_bandwidth_bytes_per_s"):
            if not getattr(self, name) > 0.0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")

    @property
    def idle_power_w(self) -> float:
        """Power with no I/O [W]: ``p_idle * C``."""
        return self.idle_power_w_per_byte * self.capacity_bytes


def storage_power_w(tier: StorageTier, read_bytes_per_s: float = 0.0, write_bytes_per_s: float = 0.0) -> float:
    """Power of a tier at the given I/O rates [W]: ``p_idle C + e_read r_read + e_write r_write``.
    A rate below zero or above the tier's bandwidth is an error, not silently clipped."""
    if not (0.0 <= read_bytes_per_s <= tier.read_bandwidth_bytes_per_s):
        raise ValueError(f"read rate {read_bytes_per_s!r} B/s outside [0, {tier.read_bandwidth_bytes_per_s}]")
    if not (0.0 <= write_bytes_per_s <= tier.write_bandwidth_bytes_per_s):
        raise ValueError(f"write rate {write_bytes_per_s!r} B/s outside [0, {tier.write_bandwidth_bytes_per_s}]")
    return (
        tier.idle_power_w
        + tier.read_energy_j_per_byte * read_bytes_per_s
        + tier.write_energy_j_per_byte * write_bytes_per_s
    )


def storage_io_energy_j(tier: StorageTier, bytes_read: float = 0.0, bytes_written: float = 0.0) -> float:
    """Energy above idle of reading and writing the given volumes [J]: ``e_read n_read + e_write n_write``."""
    if not (bytes_read >= 0.0 and bytes_written >= 0.0):
        raise ValueError("byte counts must be >= 0")
    return tier.read_energy_j_per_byte * bytes_read + tier.write_energy_j_per_byte * bytes_written


@dataclass(frozen=True)
class FlashDrive:
    """Datasheet figures of one data-center SSD: capacity [byte], sequential read and write [byte/s],
    idle and active power [W], and where they come from."""

    capacity_bytes: float
    read_bandwidth_bytes_per_s: float
    write_bandwidth_bytes_per_s: float
    idle_power_w: float
    active_power_w: float
    source: str

    def __post_init__(self) -> None:
        if not min(self.capacity_bytes, self.read_bandwidth_bytes_per_s, self.write_bandwidth_bytes_per_s) > 0:
            raise ValueError("capacity and bandwidths must be > 0")
        if not (0.0 <= self.idle_power_w <= self.active_power_w):
            raise ValueError("need 0 <= idle_power_w <= active_power_w")


SOLIDIGM_D5_P5336_61TB = FlashDrive(
    # 61.44 TB QLC NVMe, PCIe 4.0 x4. Sequential read 7,000 MB/s, write 3,300 MB/s (Solidigm product
    # brief, as quoted by architecting.it, "100TB+ SSD vendors", 2024) [S].
    capacity_bytes=61_440 * BYTES_PER_GB,
    read_bandwidth_bytes_per_s=7_000e6,
    write_bandwidth_bytes_per_s=3_300e6,
    # 5 W idle, 25 W maximum average active (write): the figures of the same family's D5-P5316
    # product brief; assumed equal for the P5336 (same controller generation, same form factors) [S].
    idle_power_w=5.0,
    active_power_w=25.0,
    source="Solidigm D5-P5336 61.44 TB (bandwidth) and D5-P5316 product brief (5 W idle, 25 W active)",
)


def storage_tier_from_drives(
    drive: FlashDrive, drives: int, overhead_power_w_per_drive: float
) -> StorageTier:
    """A tier of ``drives`` identical SSDs plus a stated per-drive share of the servers around them.

    ``p_idle = (P_idle,drive + P_overhead) / C_drive``; ``e_write = (P_active - P_idle) / B_write``;
    ``e_read = (P_active - P_idle) / B_read`` (an upper bound: datasheets give the active power of
    writes, reads draw less). Worked number for the D5-P5336 without overhead: 5 W / 61.44 TB =
    0.081 W/TB idle; 20 W / 3.3 GB/s = 6.1 nJ/byte written; 20 W / 7 GB/s = 2.9 nJ/byte read.
    """
    if not (isinstance(drives, int) and drives >= 1):
        raise ValueError(f"drives must be an integer >= 1, got {drives!r}")
    if not overhead_power_w_per_drive >= 0.0:
        raise ValueError("overhead_power_w_per_drive must be >= 0")
    dynamic_w = drive.active_power_w - drive.idle_power_w
    return StorageTier(
        capacity_bytes=drives * drive.capacity_bytes,
        read_bandwidth_bytes_per_s=drives * drive.read_bandwidth_bytes_per_s,
        write_bandwidth_bytes_per_s=drives * drive.write_bandwidth_bytes_per_s,
        idle_power_w_per_byte=(drive.idle_power_w + overhead_power_w_per_drive) / drive.capacity_bytes,
        read_energy_j_per_byte=dynamic_w / drive.read_bandwidth_bytes_per_s,
        write_energy_j_per_byte=dynamic_w / drive.write_bandwidth_bytes_per_s,
    )
