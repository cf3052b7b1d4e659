"""Every output column: name (unit in the name), unit and meaning. The one place they are defined."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    unit: str
    description: str
    formula: str = ""  # how the value is computed, in terms of other columns or integrals (docs/output-reference.md)


TIMESERIES_COLUMNS: tuple[Column, ...] = (
    Column("timestamp", "UTC", "start of the interval"),
    Column("interval_s", "s", "length of the interval (the last one may be shorter)", formula="min(output interval, end of run - timestamp)"),
    Column("gpu_kwh", "kWh", "energy of the accelerators (busy and idle)", formula="integral of the accelerators' power over the interval, J -> kWh"),
    Column("host_kwh", "kWh", "energy of the servers' hosts: CPUs, memory, NICs, fans, drives", formula="integral of the hosts' power over the interval, J -> kWh"),
    Column("network_kwh", "kWh", "energy of network switches and links", formula="integral of the network's power over the interval, J -> kWh"),
    Column("storage_kwh", "kWh", "energy of the storage tier", formula="integral of the storage tier's power over the interval, J -> kWh"),
    Column("it_kwh", "kWh", "IT energy = gpu + host + network + storage", formula="gpu_kwh + host_kwh + network_kwh + storage_kwh"),
    Column("cooling_kwh", "kWh", "cooling energy (sum of the cooling equipment)", formula="from the facility model, integrated over the interval; fixed_pue: it_kwh x (pue - 1) x cooling_share"),
    Column("power_loss_kwh", "kWh", "power-distribution losses (UPS, PDU, transformers)", formula="from the facility model; fixed_pue: it_kwh x (pue - 1) x (1 - cooling_share)"),
    Column("misc_kwh", "kWh", "other facility loads (lighting, offices)", formula="from the facility model; fixed_pue: 0"),
    Column("facility_kwh", "kWh", "facility energy = it + cooling + power_loss + misc", formula="it_kwh + cooling_kwh + power_loss_kwh + misc_kwh"),
    Column("pue", "1", "facility_kwh / it_kwh over the interval", formula="facility_kwh / it_kwh (NaN when it_kwh = 0)"),
    Column("ambient_c", "degC", "time-mean outdoor dry-bulb temperature (NaN when no weather is modelled)", formula="integral of the dry-bulb temperature over the interval / interval_s"),
    Column("carbon_intensity_g_per_kwh", "gCO2e/kWh", "energy-weighted grid carbon intensity over the interval", formula="integral of intensity x facility power / facility energy, so carbon_kg = facility_kwh x this / 1000"),
    Column("carbon_kg", "kgCO2e", "operational, location-based carbon = facility_kwh x intensity / 1000", formula="facility_kwh x carbon_intensity_g_per_kwh / 1000"),
    Column("water_l", "L", "on-site water consumed by the cooling plant", formula="integral of the plant's water rate [L/s] over the interval"),
    # footprint (sim/engine/footprint.py)
    Column("carbon_marginal_intensity_g_per_kwh", "gCO2e/kWh",
           "energy-weighted marginal carbon intensity (only when [grid] gives a marginal signal)"),
    Column("carbon_marginal_kg", "kgCO2e", "marginal-based carbon = facility_kwh x marginal intensity / 1000 (only when given)", formula="facility_kwh x carbon_marginal_intensity_g_per_kwh / 1000"),
    Column("electricity_price_usd_per_mwh", "USD/MWh", "energy-weighted electricity price over the interval", formula="integral of price x facility power / facility energy"),
    Column("energy_cost_usd", "USD", "energy cost = facility_kwh x price / 1000", formula="facility_kwh x electricity_price_usd_per_mwh / 1000"),
    Column("water_intensity_l_per_kwh", "L/kWh", "water consumed off site per kWh generated (grid)"),
    Column("water_offsite_l", "L", "off-site water = facility_kwh x water intensity", formula="facility_kwh x water_intensity_l_per_kwh"),
    Column("carbon_market_kg", "kgCO2e",
           "market-based carbon: location-based minus the contract's clean energy, matched by UTC hour (24/7) or annually"),
    Column("embodied_carbon_kg", "kgCO2e", "embodied carbon of every installed node, amortised over its lifetime"),
    Column("water_total_l", "L", "water_l (on site) + water_offsite_l", formula="water_l + water_offsite_l"),
    Column("hardware_cost_usd", "USD", "installed accelerators x hours x cost.hardware_usd_per_gpu_hour (only when given)"),
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
    Column("wait_s", "s", "started_at - submitted_at", formula="started_at - submitted_at"),
    Column("duration_s", "s", "finished_at (or end of run) - started_at", formula="finished_at (or end of run) - started_at"),
    Column("iterations", "1", "iterations completed", formula="ceil(flop / (6 x parameters x batch_tokens)) when completed; elapsed / iteration_s while running"),
    Column("iteration_s", "s", "time of one iteration"),
    Column("flop", "FLOP", "work of the whole job", formula="given flop, or 6 x parameters x tokens"),
    Column("gpu_hours", "h", "accelerators x time held", formula="gpus x time held / 3600 s/h"),
    Column("gpu_kwh", "kWh", "energy of the job's accelerators (incl. idle ones in its nodes)"),
    Column("host_kwh", "kWh", "energy of the job's hosts"),
    Column("it_kwh", "kWh", "IT energy attributed to the job", formula="sum of the job's IT channels (gpu_kwh + host_kwh + ...)"),
    Column("facility_kwh", "kWh", "IT energy plus the job's share of cooling, losses and misc", formula="it_kwh + overhead x (job IT energy / all IT energy), stretch by stretch"),
    Column("carbon_kg", "kgCO2e", "operational carbon of the job's facility energy, hour by hour", formula="sum over stretches of the job's facility energy x intensity / 1000"),
    Column("carbon_marginal_kg", "kgCO2e", "marginal-based carbon of the job (NaN when no marginal signal is given)"),
    Column("carbon_market_kg", "kgCO2e", "market-based carbon of the job: its location-based carbon less its share of matched clean energy"),
    Column("embodied_carbon_kg", "kgCO2e", "embodied carbon of the nodes the job held, for as long as it held them"),
    Column("water_l", "L", "the job's share of on-site water"),
    Column("water_offsite_l", "L", "the job's facility energy x grid water intensity"),
    Column("water_total_l", "L", "water_l + water_offsite_l"),
    Column("energy_cost_usd", "USD", "the job's facility energy x electricity price"),
    Column("hardware_cost_usd", "USD", "accelerators held (whole nodes) x hours x hardware_usd_per_gpu_hour (NaN when not given)"),
    Column("cost_usd", "USD", "energy_cost_usd + hardware_cost_usd"),
    Column("allocated_node_hours", "h", "nodes held x time held"),
)
