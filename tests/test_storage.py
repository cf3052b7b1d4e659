"""Checkpoint sizes and times, and the power of a storage tier."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.physics.storage import (
    MIXED_PRECISION_ADAM,
    SOLIDIGM_D5_P5336_61TB,
    FlashDrive,
    StorageTier,
    TrainingStateBytes,
    checkpoint_read_time_s,
    checkpoint_size_bytes,
    checkpoint_write_time_s,
    storage_io_energy_j,
    storage_power_w,
    storage_tier_from_drives,
    transfer_time_s,
)
from sim.units import BYTES_PER_GB


def test_mixed_precision_adam_is_16_bytes_per_parameter():
    # ZeRO (Rajbhandari et al. 2020): 2 + 2 + K = 12 -> 16 bytes; a restart needs no gradients -> 14.
    assert MIXED_PRECISION_ADAM.per_parameter == 16.0
    assert MIXED_PRECISION_ADAM.resumable_per_parameter == 14.0
    assert TrainingStateBytes(weights=2, gradients=2, master_weights=0, optimizer_moments=4).per_parameter == 8.0


def test_llama3_405b_checkpoint():
    size = checkpoint_size_bytes(405e9)
    assert size == 6.48e12
    # Per GPU over 16,384 GPUs: ~0.4 GB, inside the 1 MB - 4 GB per GPU Llama 3 reports.
    assert 1e6 < size / 16_384 < 4e9
    # Tectonic's 2 TB/s sustained and 7 TB/s peak (Dubey et al. 2024, Sec. 3.3.1).
    assert checkpoint_write_time_s(size, 2e12) == pytest.approx(3.24)
    assert checkpoint_write_time_s(size, 7e12) == pytest.approx(6.48 / 7)


def test_the_slower_side_sets_the_checkpoint_time():
    # 128 nodes x 8 x 50 GB/s NICs = 51.2 TB/s of clients: the storage tier is the bottleneck.
    assert checkpoint_write_time_s(1e12, 1e11, client_bandwidth_bytes_per_s=51.2e12) == pytest.approx(10.0)
    # A single node's 50 GB/s against a 1 TB/s tier: the client is.
    assert checkpoint_read_time_s(1e12, 1e12, client_bandwidth_bytes_per_s=50e9) == pytest.approx(20.0)
    assert transfer_time_s(0.0, 1.0, latency_s=0.5) == 0.5
    assert transfer_time_s(5.0, math.inf) == 0.0
    with pytest.raises(ValueError):
        transfer_time_s(1.0, 0.0)


def test_drive_tier_worked_numbers():
    tier = storage_tier_from_drives(SOLIDIGM_D5_P5336_61TB, drives=1, overhead_power_w_per_drive=0.0)
    assert tier.idle_power_w == pytest.approx(5.0)
    assert tier.idle_power_w_per_byte == pytest.approx(5.0 / (61_440 * BYTES_PER_GB))  # 0.081 W per TB
    assert tier.write_energy_j_per_byte == pytest.approx(20.0 / 3.3e9)
    assert tier.read_energy_j_per_byte == pytest.approx(20.0 / 7.0e9)


@given(drives=st.integers(1, 10_000), overhead=st.floats(0.0, 100.0))
def test_a_drive_tier_at_full_rate_draws_the_drives_active_power(drives, overhead):
    drive = SOLIDIGM_D5_P5336_61TB
    tier = storage_tier_from_drives(drive, drives, overhead)
    full_write = storage_power_w(tier, write_bytes_per_s=tier.write_bandwidth_bytes_per_s)
    full_read = storage_power_w(tier, read_bytes_per_s=tier.read_bandwidth_bytes_per_s)
    expected = drives * (drive.active_power_w + overhead)
    assert full_write == pytest.approx(expected, rel=1e-9)
    assert full_read == pytest.approx(expected, rel=1e-9)
    assert storage_power_w(tier) == pytest.approx(drives * (drive.idle_power_w + overhead), rel=1e-9)


def test_power_and_energy_are_linear_in_the_io():
    tier = StorageTier(
        capacity_bytes=1e15,
        read_bandwidth_bytes_per_s=1e11,
        write_bandwidth_bytes_per_s=5e10,
        idle_power_w_per_byte=1e-12,
        read_energy_j_per_byte=2e-9,
        write_energy_j_per_byte=5e-9,
    )
    assert tier.idle_power_w == pytest.approx(1000.0)
    assert storage_power_w(tier, 1e10, 1e10) == pytest.approx(1000.0 + 20.0 + 50.0)
    # Writing a 6.48 TB checkpoint costs 6.48e12 * 5 nJ = 32.4 kJ above idle.
    assert storage_io_energy_j(tier, bytes_written=6.48e12) == pytest.approx(32_400.0)
    assert storage_io_energy_j(tier, bytes_read=1e12, bytes_written=1e12) == pytest.approx(7_000.0)
    with pytest.raises(ValueError, match="write rate"):
        storage_power_w(tier, write_bytes_per_s=6e10)
    with pytest.raises(ValueError, match="read rate"):
        storage_power_w(tier, read_bytes_per_s=-1.0)


def test_invalid_inputs_are_refused():
    with pytest.raises(ValueError):
        FlashDrive(1.0, 1.0, 1.0, idle_power_w=10.0, active_power_w=5.0, source="x")
    with pytest.raises(ValueError):
        storage_tier_from_drives(SOLIDIGM_D5_P5336_61TB, drives=0, overhead_power_w_per_drive=0.0)
    with pytest.raises(ValueError):
        checkpoint_size_bytes(-1.0)
    with pytest.raises(ValueError):
        StorageTier(1.0, 0.0, 1.0, 0.0, 0.0, 0.0)
