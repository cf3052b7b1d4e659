"""What one change costs the energy meter: a load's power, a grid signal, the weather; against an older meter.

Six loads (GPU and host of three owners) under fixed_pue with the three grid signals a run always has (carbon,
price, off-site water); the clock moves 1 s per change, so hourly bins close on the way. CPU time per change,
best of `--repeats`, with no SimPy around it (SimPy's own cost per event is what benchmarks/run_all.py's engine
benchmark compares with), the replay of any changes still logged included (`Meter.flush`). This tree's meter
is measured twice: as it runs (load and signal changes logged and replayed in bulk by sim/engine/meter_kernel.py)
and with the log off (each change integrated as it comes: the Python path). `--baseline REV` measures the meter
of a git revision side by side (default: the commit before the lazy meter).

    python benchmarks/meter_cost.py [--changes 50000] [--repeats 5] [--baseline ff5e7ee]
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sim.engine.footprint import ELECTRICITY_PRICE, WATER_OFFSITE
from sim.physics.fixed_pue import FixedPue

ROOT = Path(__file__).resolve().parents[1]


def meter_module(revision: str | None):
    if revision is None:
        import sim.engine.meter as current

        return current
    source = subprocess.run(["git", "show", f"{revision}:sim/engine/meter.py"], capture_output=True, text=True,
                            check=True, cwd=ROOT).stdout
    path = Path(tempfile.mkdtemp()) / f"meter_{revision}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def per_change_us(module, what: str, changes: int, logged: bool) -> float:
    meter = module.Meter(3600.0, FixedPue(1.2), lambda b: None, 400.0, signals=(ELECTRICITY_PRICE, WATER_OFFSITE))
    if hasattr(meter, "defer_changes"):
        meter.defer_changes = logged
    loads = [meter.load(channel, owner) for channel in ("gpu", "host") for owner in ("a", "b", "idle")]
    for load in loads:
        load.set_power_w(0.0, 1000.0)
    started = time.process_time()
    if what == "load":
        for i in range(1, changes + 1):
            loads[i % 6].set_power_w(float(i), 100.0 + i % 7)
    elif what == "signal":
        for i in range(1, changes + 1):
            meter.set_signal("carbon", float(i), 100.0 + i % 7)
    else:
        for i in range(1, changes + 1):
            meter.set_weather(float(i), None, 10.0 + i % 7)
    if hasattr(meter, "flush"):
        meter.flush()
    return (time.process_time() - started) / changes * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline", default="ff5e7ee", help="git revision of the meter to compare with ('' for none)")
    args = parser.parse_args()
    from sim.engine import meter_kernel

    meter_kernel.warm_up()   # loaded from numba's cache (or compiled) before any clock starts
    meters = {"this tree": (meter_module(None), True), "this tree, log off": (meter_module(None), False)}
    if args.baseline:
        meters[f"meter at {args.baseline}"] = (meter_module(args.baseline), False)
    kinds = ("load", "signal", "weather")
    best = {(name, kind): float("inf") for name in meters for kind in kinds}
    for _ in range(args.repeats):                 # interleaved: both meters see the same machine
        for kind in kinds:
            for name, (module, logged) in meters.items():
                best[name, kind] = min(best[name, kind], per_change_us(module, kind, args.changes, logged))
    print(f"CPU us per change, best of {args.repeats} interleaved rounds of {args.changes:,} changes")
    print("| meter | load power | grid signal | weather |")
    print("|---|---|---|---|")
    for name in meters:
        print(f"| {name} | " + " | ".join(f"{best[name, kind]:.2f}" for kind in kinds) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
