"""Command line: `python -m sim SCENARIO.toml [--out DIR] [--set key=value ...] [--force]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim import __version__
from sim.errors import SimInputError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sim",
        description="Simulate the energy and carbon of an AI data center from a scenario file.",
        epilog="example: python -m sim scenarios/gpt3.toml --set grid.carbon_intensity_g_per_kwh=20 --out outputs/gpt3-quebec",
    )
    parser.add_argument("scenario", type=Path, help="scenario TOML file")
    parser.add_argument("--out", type=Path, default=None,
                        help="run directory (default: outputs/<scenario file stem>/)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a scenario key, e.g. --set cluster.nodes=64 (repeatable)")
    parser.add_argument("--force", action="store_true", help="replace an existing run directory")
    parser.add_argument("--version", action="version", version=f"sim {__version__}")
    return parser


def _fmt(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def format_energy(energy_kwh: float) -> str:
    """kWh below 1 MWh, MWh below 1 GWh, GWh above: the unit a reader expects at that size."""
    if abs(energy_kwh) < 1_000:
        return f"{energy_kwh:,.1f} kWh"
    if abs(energy_kwh) < 1_000_000:
        return f"{energy_kwh / 1_000:,.1f} MWh"
    return f"{energy_kwh / 1_000_000:,.2f} GWh"


def format_carbon(carbon_kg: float) -> str:
    return f"{carbon_kg:,.1f} kgCO2e" if abs(carbon_kg) < 1_000 else f"{carbon_kg / 1_000:,.1f} tCO2e"


def print_summary(summary: dict, out_dir: Path, files: tuple[str, ...], stream=sys.stdout) -> None:
    simulated_d = summary["simulated_s"] / 86_400
    pue = summary["pue"]
    lines = [
        f"sim {summary['sim_version']}: {summary['scenario']} (seed {summary['seed']})",
        f"  simulated      {_fmt(simulated_d, 2)} days  ({summary['start']} to {summary['end']})",
        f"  GPUs           {summary['gpus']:,} in {summary['nodes']:,} nodes; {_fmt(summary['gpu_hours'], 0)} GPU-hours of jobs",
        f"  IT energy      {format_energy(summary['it_energy_kwh'])}",
        f"  facility       {format_energy(summary['facility_energy_kwh'])}"
        + (f"   PUE {pue:.3f}" if pue else ""),
        f"  carbon         {format_carbon(summary['carbon_kg'])} (operational, location-based)",
        f"  wall time      {summary['wall_s']:.2f} s, {summary['events']:,} events",
        f"  wrote          {out_dir}/ ({', '.join(files)})",
    ]
    for warning in summary.get("warnings", []):
        lines.append(f"  warning: {warning}")
    print("\n".join(lines), file=stream)


def run_command(argv: list[str]) -> int:
    args = _run_parser().parse_args(argv)
    from sim.config import load_scenario
    from sim.runner import DEFAULT_OUTPUT_ROOT, run_to_directory

    scenario = load_scenario(args.scenario, args.overrides)
    out_dir = args.out if args.out is not None else DEFAULT_OUTPUT_ROOT / args.scenario.stem
    written = run_to_directory(scenario, out_dir, force=args.force)
    print_summary(written.result.summary, out_dir, written.files)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return run_command(argv)
    except SimInputError as exc:
        for message in exc.messages:
            print(f"error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130
