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
    Column("wet_bulb_c", "degC", "time-mean outdoor wet-bulb temperature (NaN when no weather is modelled)"),
    Column("carbon_intensity_g_per_kwh", "gCO2e/kWh", "energy-weighted grid carbon intensity over the interval", formula="integral of intensity x facility power / facility energy, so carbon_kg = facility_kwh x this / 1000"),
    Column("carbon_kg", "kgCO2e", "operational, location-based carbon = facility_kwh x intensity / 1000", formula="facility_kwh x carbon_intensity_g_per_kwh / 1000"),
    Column("water_l", "L", "on-site water consumed by the cooling plant", formula="integral of the plant's water rate [L/s] over the interval"),
    # cooling energy by equipment (model = "plant": one column per equipment the plant has; sim/facility/plant.py)
    Column("cooling_chiller_kwh", "kWh", "chiller compressors (with the condenser fans of air-cooled chillers)"),
    Column("cooling_crah_fan_kwh", "kWh", "room-air fans (CRAH units, fan walls, outdoor-air handlers)"),
    Column("cooling_cdu_pump_kwh", "kWh", "pumps of the direct-to-chip liquid loop (only with liquid cooling)"),
    Column("cooling_pump_kwh", "kWh", "chilled-water and condenser-water (or dry-cooler loop) pumps"),
    Column("cooling_tower_fan_kwh", "kWh", "cooling-tower fans (only with heat_rejection = towers)"),
    Column("cooling_dry_cooler_fan_kwh", "kWh", "dry-cooler fans (only with heat_rejection = dry)"),
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
    Column("kind", "", "training or batch"),
    Column("status", "", "completed, running (at the end of the run) or queued"),
    Column("gpus", "1", "accelerators the job works on"),
    Column("nodes", "1", "whole servers allocated to the job"),
    Column("submitted_at", "UTC", "when the job was submitted"),
    Column("started_at", "UTC", "when the job got its nodes"),
    Column("finished_at", "UTC", "when the job completed"),
    Column("wait_s", "s", "started_at - submitted_at", formula="started_at - submitted_at"),
    Column("duration_s", "s", "finished_at (or end of run) - started_at", formula="finished_at (or end of run) - started_at"),
    Column("iterations", "1", "iterations completed (queued jobs: share of their work done)", formula="ceil(flop / (6 x parameters x batch_tokens)) when completed; elapsed / iteration_s while running"),
    Column("iteration_s", "s", "mean time of one iteration (training time / iterations computed, lost ones included; "
           "queued jobs: their work at full clock)"),
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
    # policies (sim/policies/, sim/engine/policy_wiring.py, sim/engine/shift_credit.py)
    Column("deadline_at", "UTC", "latest finish (submit + run time at full clock + slack, or the given deadline); null without"),
    Column("slack_s", "s", "deadline - submit - run time at full clock (0 without deadline)"),
    Column("interruptible", "bool", "whether a policy may suspend and resume the job"),
    Column("deferred_s", "s", "time the shifting policy held the job back before it entered the queue"),
    Column("queued_s", "s", "time in the queue after any deferral, up to the first start (waiting for nodes)"),
    Column("suspended_s", "s", "time suspended by the shifting policy (interruptible jobs)"),
    Column("suspensions", "1", "times the job was suspended"),
    Column("reserved_start_at", "UTC", "start reserved for the job as head of the queue (easy_backfill); null otherwise"),
    Column("mean_clock_ratio", "1", "time-mean GPU clock / full clock while running (below 1 under a power cap)"),
    Column("deadline_met", "bool", "finished by deadline_at (null without deadline)"),
    Column("carbon_as_run_kg", "kgCO2e", "carbon of the job's running stretches as run (reconstructed; = carbon_kg for a fixed PUE)"),
    Column("carbon_run_now_kg", "kgCO2e",
           "carbon of the same stretches put back to back from the submission instant, on the same signal (run-now baseline)"),
    Column("carbon_saved_kg", "kgCO2e", "carbon_run_now_kg - carbon_as_run_kg: carbon credited to deferral and suspension"),
    Column("carbon_deferral_saved_kg", "kgCO2e",
           "carbon_run_now_kg - the same profile back to back from queue entry: what the deferral decision alone saved"),
    Column("carbon_marginal_run_now_kg", "kgCO2e", "run-now baseline on the marginal signal (NaN without one)"),
    Column("carbon_marginal_saved_kg", "kgCO2e", "marginal run-now baseline - marginal carbon as run (NaN without one)"),
    Column("carbon_marginal_deferral_saved_kg", "kgCO2e", "carbon_deferral_saved_kg on the marginal signal (NaN without one)"),
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

# Added to timeseries.parquet when the scenario has [[services]] (sim/workloads/service.py), all services pooled.
# An interval in which no request completes has 0 requests and NaN percentiles (no sample, not zero).
SERVICE_TIMESERIES_COLUMNS: tuple[Column, ...] = (
    Column("requests", "1", "inference requests completed in the interval"),
    Column("prompt_tokens", "tokens", "prompt tokens of those requests"),
    Column("output_tokens", "tokens", "output tokens of those requests"),
    Column("ttft_p50_s", "s", "median time to first token of those requests (NaN if none)"),
    Column("ttft_p99_s", "s", "99th percentile time to first token (NaN if none)"),
    Column("latency_p50_s", "s", "median end-to-end latency of those requests (NaN if none)"),
    Column("latency_p99_s", "s", "99th percentile end-to-end latency (NaN if none)"),
)

REQUEST_COLUMNS: tuple[Column, ...] = (
    Column("service", "", "service name"),
    Column("request_id", "1", "index of the request in its service, in arrival order"),
    Column("replica", "1", "replica the router chose (-1 if rejected)"),
    Column("status", "", "completed, unfinished (queued or running when the run ended) or rejected "
                         "(prompt as long as the context window)"),
    Column("arrival_at", "UTC", "arrival instant"),
    Column("arrival_s", "s", "arrival, seconds from the start of the run"),
    Column("queueing_delay_s", "s", "admission into the running batch - arrival"),
    Column("ttft_s", "s", "time to first token: end of the request's prefill step - arrival"),
    Column("tpot_s", "s", "time per output token after the first: (finish - first token) / (output tokens - 1)"),
    Column("latency_s", "s", "end-to-end latency: last token - arrival"),
    Column("prompt_tokens", "tokens", "prompt length"),
    Column("output_tokens", "tokens", "output length (cut at the model's context window)"),
    Column("gpu_energy_j", "J", "the request's share of the GPU energy of the steps it was in (prefill by "
                                "prompt tokens, decode equally per sequence)"),
    Column("energy_j", "J", "facility energy attributed: gpu_energy_j plus its share of the service's idle "
                            "GPU, host, cooling, power-loss and misc energy in the interval it completed"),
    Column("carbon_g", "gCO2e", "carbon of energy_j, at the intensity of the intervals the energy was used in"),
)
