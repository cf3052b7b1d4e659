"""Every output column: name (unit in the name), unit and meaning. The one place they are defined."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    unit: str
    description: str


TIMESERIES_COLUMNS: tuple[Column, ...] = (
    Column("timestamp", "UTC", "start of the interval"),
    Column("interval_s", "s", "length of the interval (the last one may be shorter)"),
    Column("gpu_kwh", "kWh", "energy of the accelerators (busy and idle)"),
    Column("host_kwh", "kWh", "energy of the servers' hosts: CPUs, memory, NICs, fans, drives"),
    Column("network_kwh", "kWh", "energy of network switches and links"),
    Column("storage_kwh", "kWh", "energy of the storage tier"),
    Column("it_kwh", "kWh", "IT energy = gpu + host + network + storage"),
    Column("cooling_kwh", "kWh", "cooling energy (sum of the cooling equipment)"),
    Column("power_loss_kwh", "kWh", "power-distribution losses (UPS, PDU, transformers)"),
    Column("misc_kwh", "kWh", "other facility loads (lighting, offices)"),
    Column("facility_kwh", "kWh", "facility energy = it + cooling + power_loss + misc"),
    Column("pue", "1", "facility_kwh / it_kwh over the interval"),
    Column("ambient_c", "degC", "time-mean outdoor dry-bulb temperature (NaN when no weather is modelled)"),
    Column("carbon_intensity_g_per_kwh", "gCO2e/kWh", "energy-weighted grid carbon intensity over the interval"),
    Column("carbon_kg", "kgCO2e", "operational, location-based carbon = facility_kwh x intensity / 1000"),
    Column("water_l", "L", "on-site water consumed by the cooling plant"),
)

JOB_COLUMNS: tuple[Column, ...] = (
    Column("job", "", "job name"),
    Column("kind", "", "training"),
    Column("status", "", "completed, running (at the end of the run) or queued"),
    Column("gpus", "1", "accelerators the job works on"),
    Column("nodes", "1", "whole servers allocated to the job"),
    Column("submitted_at", "UTC", "when the job was submitted"),
    Column("started_at", "UTC", "when the job got its nodes"),
    Column("finished_at", "UTC", "when the job completed"),
    Column("wait_s", "s", "started_at - submitted_at"),
    Column("duration_s", "s", "finished_at (or end of run) - started_at"),
    Column("iterations", "1", "iterations completed"),
    Column("iteration_s", "s", "mean time of one iteration (training time / iterations computed, lost ones included)"),
    Column("flop", "FLOP", "work of the whole job"),
    Column("gpu_hours", "h", "accelerators x time held"),
    Column("gpu_kwh", "kWh", "energy of the job's accelerators (incl. idle ones in its nodes)"),
    Column("host_kwh", "kWh", "energy of the job's hosts"),
    Column("it_kwh", "kWh", "IT energy attributed to the job"),
    Column("facility_kwh", "kWh", "IT energy plus the job's share of cooling, losses and misc"),
    Column("carbon_kg", "kgCO2e", "operational carbon of the job's facility energy, hour by hour"),
    Column("mode", "", "reproduce (measured throughput) or predict (compute efficiency + network model)"),
    Column("exposed_communication_s", "s", "communication not hidden behind compute, per iteration (last plan)"),
    Column("network_kwh", "kWh", "network energy of the job: its share of the always-on fabric by nodes held, plus traffic"),
    Column("storage_kwh", "kWh", "storage energy of the job: its share of the tier's idle power, reads and writes"),
    Column("failures", "1", "failures that stopped the job"),
    Column("lost_work_s", "s", "training time thrown away: work since the last committed checkpoint at each failure"),
    Column("restart_s", "s", "time stopped after failures: detection, replacement or repair, checkpoint reload"),
    Column("lost_gpu_hours", "h", "accelerators x (lost work + restart time)"),
    Column("checkpoints", "1", "checkpoints committed"),
    Column("checkpoint_s", "s", "training stalled writing checkpoints (0 when asynchronous)"),
    Column("checkpoint_interval_s", "s", "training time between checkpoints (inf: none)"),
    Column("productive_s", "s", "training time whose work was kept"),
    Column("effective_training_time_ratio", "1", "productive_s / duration_s (Llama 3: above 90%)"),
)
