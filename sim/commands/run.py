"""Run one scenario and write its run directory (the default command)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXAMPLE = "python -m sim scenarios/gpt3.toml --set grid.carbon_intensity_g_per_kwh=20 --out outputs/gpt3-quebec"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", type=Path, help="scenario TOML file")
    parser.add_argument("--out", type=Path, default=None,
                        help="run directory (default: outputs/<scenario file stem>/)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a scenario key, e.g. --set cluster.nodes=64 (repeatable)")
    parser.add_argument("--force", action="store_true", help="replace an existing run directory")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bar (it is shown on stderr only for runs over 1 s on a terminal)")


def format_energy(energy_kwh: float) -> str:
    """kWh below 1 MWh, MWh below 1 GWh, GWh above: the unit a reader expects at that size."""
    if abs(energy_kwh) < 1_000:
        return f"{energy_kwh:,.1f} kWh"
    if abs(energy_kwh) < 1_000_000:
        return f"{energy_kwh / 1_000:,.1f} MWh"
    return f"{energy_kwh / 1_000_000:,.2f} GWh"


def format_carbon(carbon_kg: float) -> str:
    return f"{carbon_kg:,.1f} kgCO2e" if abs(carbon_kg) < 1_000 else f"{carbon_kg / 1_000:,.1f} tCO2e"


def summary_lines(summary: dict) -> list[str]:
    simulated_d = summary["simulated_s"] / 86_400
    pue = summary["pue"]
    lines = [
        f"sim {summary['sim_version']}: {summary['scenario']} (seed {summary['seed']})",
        f"  simulated      {simulated_d:,.2f} days  ({summary['start']} to {summary['end']})",
        f"  GPUs           {summary['gpus']:,} in {summary['nodes']:,} nodes; {summary['gpu_hours']:,.0f} GPU-hours of jobs",
        f"  IT energy      {format_energy(summary['it_energy_kwh'])}",
        f"  facility       {format_energy(summary['facility_energy_kwh'])}" + (f"   PUE {pue:.3f}" if pue else ""),
        *plant_lines(summary),
        f"  carbon         {format_carbon(summary['carbon_kg'])} (operational, location-based)",
        *footprint_lines(summary),
        *split_lines(summary),
        f"  wall time      {summary['wall_s']:.2f} s, {summary['events']:,} events",
    ]
    for service in summary.get("services", []):
        lines.append(service_line(service))
    parts = [f"{name} {format_energy(summary[key])}" for name, key in (("network", "network_energy_kwh"),
             ("storage", "storage_energy_kwh")) if summary.get(key)]
    if parts:
        lines[3] += f" ({', '.join(parts)})"
    if summary.get("failures"):
        ratios = [job["effective_training_time_ratio"] for job in summary.get("jobs", []) if job.get("failures")]
        at = next(i for i, line in enumerate(lines) if line.startswith("  wall time"))
        lines.insert(at, f"  failures       {summary['failures']:,}; effective training time "
                        + ", ".join(f"{r:.1%}" for r in ratios))
    return lines


def plant_lines(summary: dict) -> list[str]:
    """The cooling plant and its weather (model = 'plant', sim/facility/plant.py), when present."""
    facility = summary.get("facility") or {}
    if facility.get("model") != "plant":
        return []
    wue = summary.get("wue_l_per_kwh")
    return [
        f"  cooling plant  {facility['preset']} ({facility['cooling']}-cooled, "
        f"{'cooling towers' if facility['heat_rejection'] == 'towers' else 'dry coolers'}), "
        f"design {facility['design_it_power_w'] / 1e6:,.3g} MW IT"
        + (f"; on-site WUE {wue:.3f} L/kWh" if wue is not None else ""),
        f"  weather        {summary['weather']['source'].split(' (')[0]}, {summary['weather']['steps']:,} steps",
    ]


def split_lines(summary: dict) -> list[str]:
    """Facility energy and carbon by kind of owner (sim/output/split.py), when both jobs and services ran."""
    split = summary.get("split")
    if not split or not (summary.get("jobs") and summary.get("services")):
        return []
    parts = ", ".join(f"{kind} {format_energy(split[kind]['facility_energy_kwh'])} / "
                      f"{format_carbon(split[kind]['carbon_kg'])}"
                      for kind in ("training", "inference", "idle") if split[kind]["facility_energy_kwh"] > 0)
    return [f"  split          {parts}"]


def footprint_lines(summary: dict) -> list[str]:
    """Market-based, marginal and embodied carbon, water and cost (sim/engine/footprint.py), when present."""
    if "carbon_market_kg" not in summary:
        return []
    carbon = [f"market-based {format_carbon(summary['carbon_market_kg'])}"]
    if summary.get("carbon_marginal_kg") is not None:
        carbon.append(f"marginal {format_carbon(summary['carbon_marginal_kg'])}")
    carbon.append(f"embodied {format_carbon(summary['embodied_carbon_kg'])}")
    cost = f"energy {summary['energy_cost_usd']:,.0f} USD"
    if summary.get("hardware_cost_usd") is not None:
        cost += f" + hardware {summary['hardware_cost_usd']:,.0f} USD"
    return [
        f"  footprint      {', '.join(carbon)}",
        f"  water          {summary['water_total_l']:,.0f} L ({summary['water_l']:,.0f} on site, "
        f"{summary['water_offsite_l']:,.0f} off site)",
        f"  cost           {cost}",
    ]


def service_line(service: dict) -> str:
    """One line per inference service: requests, tail latencies, energy and carbon per request."""
    def num(value, fmt):
        return "n/a" if value is None else format(value, fmt)

    return (f"  service        {service['service']}: {service['completed']:,} requests, "
            f"p99 TTFT {num(service['ttft_p99_s'], '.2f')} s, p99 latency {num(service['latency_p99_s'], '.1f')} s, "
            f"{num(service['energy_per_output_token_j'], '.2f')} J/output token "
            f"(GPU {num(service['gpu_energy_per_output_token_j'], '.2f')}), "
            f"{num(service['carbon_per_request_g'], '.3f')} gCO2e/request")


def _say_if_compiling() -> None:
    """The first request-level run after installing compiles the replicas (about 10 s): say so on a terminal, as the
    progress bar does, rather than seem stuck."""
    try:
        from sim.workloads import batching_kernel
    except ImportError:
        return
    if batching_kernel.needs_compiling():
        print("sim: compiling the request-level replicas (numba), once: about 10 s; later runs load them from the "
              "cache", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from sim.config import load_scenario
    from sim.runner import DEFAULT_OUTPUT_ROOT, run_to_directory

    scenario = load_scenario(args.scenario, args.overrides)
    out_dir = args.out if args.out is not None else DEFAULT_OUTPUT_ROOT / args.scenario.stem
    from sim.progress import run_progress

    if not args.quiet and sys.stderr.isatty() and any(s.fidelity == "request" for s in scenario.services):
        _say_if_compiling()
    with run_progress(scenario, quiet=args.quiet) as progress:
        written = run_to_directory(scenario, out_dir, force=args.force, progress=progress)
    lines = summary_lines(written.result.summary)
    lines.append(f"  wrote          {out_dir}/ ({', '.join(written.files)})")
    lines += [f"  warning: {w}" for w in written.result.summary.get("warnings", [])]
    print("\n".join(lines), file=sys.stdout)
    return 0
