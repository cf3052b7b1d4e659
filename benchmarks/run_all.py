"""The whole benchmark suite in one command: a table, and the same figures as JSON in benchmarks/results/.

    python benchmarks/run_all.py            # every benchmark, medians of 5 interleaved repeats (~15 min)
    python benchmarks/run_all.py --quick    # smaller cases, 3 repeats (~3 min)
    python benchmarks/run_all.py --only scale,memory --repeats 7

Every measurement runs in a fresh Python process (so peak memory is that of one case: `ru_maxrss` of the child,
imports included) and the cases of a benchmark are interleaved: each round runs every case once, in turn, and
the table shows medians over the rounds, so a slow spell of a shared machine hits all cases alike. Ratios are
taken between medians measured in the same run. Wall time is what a user waits for: building the simulation
(reading the scenario, drawing what is drawn up front, the flow tables) and running it; the libraries are
imported, and their garbage collected, before the clock starts (and the request-level cases load the compiled
replicas, sim/workloads/batching_kernel.py, from numba's cache: 0.3 s once per process) (pandas, which some paths import lazily, would
otherwise charge 0.3 s, and the collection the imports leave due tens of ms, to whichever case comes to them
first).

Benchmarks and their targets (issue 11):
  engine     simulated events per wall second / SimPy's raw timeout loop in the same run (>= 0.5): SimPy events
             of the meter loops (its load and signal changes logged and replayed in bulk, the meter's compiled
             replay loaded before the clock) and of whole runs (the year, a batch queue), and a request-level
             service's own events (arrivals and replica changes, which its run-ahead handles in time order
             without SimPy)
  year       scenarios/year-10k.toml: simulated seconds per wall second (>= 1e7)
  scale      the year against its first month (<= 12.2x: linear) and 1,000 against 100,000 GPUs (<= 1.2x); a
             generated batch queue (scenarios/batch-queue.toml at 40 DGX, 4 jobs/h), a year against a month
  memory     request-level inference at 10x the requests (<= 1.3x peak RSS); year against month (<= 1.2x)
  flow       flow against request fidelity on the same scenario, 20-90 % of capacity: energy within 2 %,
             p99 latency within 15 % below 80 % (benchmarks/flow_vs_request.py)
  existing   gpu_scaling.py (10x GPUs <= 1.2x), inference_speed.py (requests per wall second vs raw SimPy),
             facility_overhead.py (the cooling plant against fixed_pue), through their own scenario builders
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
YEAR = ROOT / "scenarios" / "year-10k.toml"
RESULTS = HERE / "results"
S_PER_DAY = 86_400.0  # only to print days; the simulator's conversions live in sim/units.py


# ------------------------------------------------------------------------------------------ the child side
def _year_overrides(gpus: int) -> list[str]:
    """year-10k at another size: the job's work scales with the GPUs (so it still trains ~111 days), the service
    with the replicas (the same load per replica), the plant with the IT load."""
    f = gpus / 10_000
    return [f"cluster.gpus={gpus}", f"jobs.0.gpus={gpus}", f"jobs.0.flop={3.8e25 * f}", f"jobs.0.tokens={15.6e12 * f}",
            f"services.0.replicas={gpus // 8}", f"services.0.arrivals.rate_per_s={600.0 * f}",
            f"facility.design_it_power_w={1.0e7 * f}"]


def _scenario(case: dict):
    sys.path.insert(0, str(HERE))
    from sim.config import load_scenario

    if "builder" in case:
        module, function = case["builder"]
        return getattr(__import__(module), function)(*case.get("args", []))
    return load_scenario(ROOT / case["path"], case.get("overrides", []))


def _run_scenario(case: dict) -> dict:
    import pandas  # noqa: F401  (imported lazily by some paths: 0.3 s that would land in whichever case needs it)
    import pyarrow.parquet  # noqa: F401

    from sim.engine.simulation import Simulation
    from sim.runner import run_to_directory

    if case.get("builder", [None])[0] == "inference_speed":
        from sim.workloads import batching_kernel

        batching_kernel.warm_up()  # the compiled replicas loaded from numba's cache: an import, once per process

    # The imports leave the collector a full collection due (tens of ms over their objects), which would land in
    # whichever case first allocates enough: settled before the clock, as facility_overhead.py does between runs.
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    scenario = _scenario(case)
    if case.get("to_disk"):
        with tempfile.TemporaryDirectory() as tmp:
            summary = run_to_directory(scenario, Path(tmp) / "run").result.summary
    else:
        summary = Simulation(scenario).run().summary
    out = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu,
           "simulated_s": summary["simulated_s"], "events": summary["events"], "run_wall_s": summary["wall_s"]}
    for key, path in case.get("report", {}).items():
        value = summary
        for part in path:
            value = value[part]
        out[key] = value
    return out


def _simpy_raw(case: dict) -> dict:
    import simpy

    env = simpy.Environment()

    def loop():
        while True:
            yield env.timeout(1.0)

    env.process(loop())
    wall, cpu = time.perf_counter(), time.process_time()
    env.run(until=case["events"])
    return {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu, "events": case["events"],
            "simulated_s": float(case["events"])}


def _meter_loop(case: dict) -> dict:
    """A SimPy process whose every event changes the meter: a load of one of three owners ('load'), or the carbon
    intensity ('signal'), with fixed_pue, three grid signals and hourly bins closing on the way."""
    import simpy

    from sim.engine import meter_kernel
    from sim.engine.footprint import ELECTRICITY_PRICE, WATER_OFFSITE
    from sim.engine.meter import Meter
    from sim.physics.fixed_pue import FixedPue

    meter_kernel.warm_up()  # loaded from numba's cache before the clock, as the scenario cases do

    env = simpy.Environment()
    meter = Meter(3600.0, FixedPue(1.2), lambda b: None, 400.0, signals=(ELECTRICITY_PRICE, WATER_OFFSITE))
    loads = [meter.load(channel, owner) for channel in ("gpu", "host") for owner in ("a", "b", "idle")]
    for load in loads:
        load.set_power_w(0.0, 1000.0)

    def loop():
        i = 0
        while True:
            yield env.timeout(1.0)
            if case["change"] == "load":
                loads[i % 6].set_power_w(env.now, 100.0 + i % 7)
            else:
                meter.set_signal("carbon", env.now, 100.0 + i % 7)
            i += 1

    env.process(loop())
    wall, cpu = time.perf_counter(), time.process_time()
    env.run(until=case["events"])
    meter.finish(env.now)
    return {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu, "events": case["events"],
            "simulated_s": float(case["events"])}


def child(case: dict) -> dict:
    kind = case["kind"]
    if kind == "simpy_raw":
        out = _simpy_raw(case)
    elif kind == "meter_loop":
        out = _meter_loop(case)
    else:
        out = _run_scenario(case)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0   # KiB on Linux
    return out


# ----------------------------------------------------------------------------------------- the parent side
def measure(case: dict) -> dict:
    """Run one case in a fresh interpreter and return what it measured."""
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps(case)], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode != 0:
        raise RuntimeError(f"case {case} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def interleaved(cases: dict[str, dict], repeats: int) -> dict[str, dict]:
    """Every case `repeats` times, round by round; per case the median of every measured figure."""
    runs: dict[str, list[dict]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, case in cases.items():
            runs[name].append(measure(case))
    medians = {}
    for name, results in runs.items():
        medians[name] = {key: statistics.median(r[key] for r in results) for key in results[0]
                         if isinstance(results[0][key], (int, float))}
        medians[name]["repeats"] = len(results)
    return medians


def benchmarks(quick: bool) -> dict[str, dict]:
    """name -> {cases, ratios: [(label, numerator case, denominator case, figure, target, sense)]}."""
    raw_events = 300_000 if quick else 1_000_000
    loop_events = 100_000 if quick else 300_000
    requests = 20_000 if quick else 60_000
    month = ["scenario.duration=30d"]
    queue = ["cluster.nodes=40", "queue.generator.rate_per_h=4.0", "queue.generator.duration_median='1h'"]
    queue_month = {"kind": "scenario", "path": "scenarios/batch-queue.toml",
                   "overrides": [*queue, "scenario.duration='30d'", "queue.generator.span='30d'"]}
    queue_year = {"kind": "scenario", "path": "scenarios/batch-queue.toml",
                  "overrides": [*queue, "scenario.duration='365d'", "queue.generator.span='365d'"]}
    year = {"kind": "scenario", "path": "scenarios/year-10k.toml"}
    signals_year = {"kind": "scenario", "path": "scenarios/climate/temperate-air.toml",
                    "overrides": ["grid.region='us-virginia'"]}
    return {
        "engine": {
            "cases": {
                "simpy raw timeout loop": {"kind": "simpy_raw", "events": raw_events},
                "meter: a load changes at every event": {"kind": "meter_loop", "change": "load", "events": loop_events},
                "meter: the carbon intensity changes at every event": {"kind": "meter_loop", "change": "signal",
                                                                       "events": loop_events},
                "a year of hourly weather + carbon, one job": signals_year,
                "year-10k (in memory)": year,
                "batch-queue: 9,800 jobs in 2 days (in memory)": {"kind": "scenario", "path": "scenarios/batch-queue.toml"},
                "request-level inference (inference_speed.py's case)": {
                    "kind": "scenario", "builder": ["inference_speed", "scenario"], "args": [requests],
                    "report": {"arrivals": ["services", 0, "requests"], "changes": ["services", 0, "replica_changes"]}},
            },
            "ratios": [
                (label, name, "simpy raw timeout loop", "events_per_s", 0.5, ">=")
                for label, name in (
                    ("meter load changes / raw SimPy", "meter: a load changes at every event"),
                    ("meter signal changes / raw SimPy", "meter: the carbon intensity changes at every event"),
                    ("hourly weather + carbon year / raw SimPy", "a year of hourly weather + carbon, one job"),
                    ("year-10k / raw SimPy", "year-10k (in memory)"),
                    ("batch queue / raw SimPy", "batch-queue: 9,800 jobs in 2 days (in memory)"),
                )
            ] + [("request-level arrivals + replica changes / raw SimPy",
                  "request-level inference (inference_speed.py's case)", "simpy raw timeout loop", "service_events_per_s",
                  0.5, ">=")],
        },
        "year": {
            "cases": {"year-10k (run directory)": {**year, "to_disk": True}},
            "ratios": [("year-10k simulated s per wall s", "year-10k (run directory)", None, "speedup", 1e7, ">=")],
        },
        "scale": {
            "cases": {
                "year-10k, first month": {**year, "overrides": month},
                "year-10k, whole year": year,
                "year-10k at 1,000 GPUs": {**year, "overrides": _year_overrides(1_000)},
                "year-10k at 100,000 GPUs": {**year, "overrides": _year_overrides(100_000)},
                "batch queue (40 DGX, 4 jobs/h), a month": queue_month,
                "batch queue (40 DGX, 4 jobs/h), a year": queue_year,
            },
            "ratios": [
                ("year / month wall (<= 365/30: linear)", "year-10k, whole year", "year-10k, first month",
                 "wall_s", 365.0 / 30.0, "<="),
                ("100,000 / 1,000 GPUs wall", "year-10k at 100,000 GPUs", "year-10k at 1,000 GPUs", "wall_s", 1.2,
                 "<="),
                ("batch queue year / month wall (<= 365/30: linear)", "batch queue (40 DGX, 4 jobs/h), a year",
                 "batch queue (40 DGX, 4 jobs/h), a month", "wall_s", 365.0 / 30.0, "<="),
            ],
        },
        "memory": {
            "cases": {
                f"request-level inference, {requests:,} requests": {
                    "kind": "scenario", "builder": ["inference_speed", "scenario"], "args": [requests],
                    "to_disk": True},
                f"request-level inference, {10 * requests:,} requests": {
                    "kind": "scenario", "builder": ["inference_speed", "scenario"], "args": [10 * requests],
                    "to_disk": True},
                "year-10k month (run directory)": {**year, "overrides": month, "to_disk": True},
                "year-10k year (run directory)": {**year, "to_disk": True},
            },
            "ratios": [
                ("10x requests / 1x peak RSS", f"request-level inference, {10 * requests:,} requests",
                 f"request-level inference, {requests:,} requests", "peak_rss_mb", 1.3, "<="),
                ("year / month peak RSS", "year-10k year (run directory)", "year-10k month (run directory)",
                 "peak_rss_mb", 1.2, "<="),
            ],
        },
        "existing": {
            "cases": {
                "gpu_scaling: GPT-3, 10,000 GPUs": {"kind": "scenario", "path": "scenarios/gpt3.toml"},
                "gpu_scaling: GPT-3, 100,000 GPUs": {
                    "kind": "scenario", "path": "scenarios/gpt3.toml",
                    "overrides": ["cluster.gpus=100000", "jobs.0.gpus=100000", "jobs.0.flop=3.14e24"]},
                "inference_speed: request level": {
                    "kind": "scenario", "builder": ["inference_speed", "scenario"], "args": [requests],
                    "report": {"completed": ["services", 0, "completed"]}},
                "facility_overhead: fixed_pue": {
                    "kind": "scenario", "builder": ["facility_overhead", "scenario"],
                    "args": [{"model": "fixed_pue", "pue": 1.1}, None]},
                "facility_overhead: plant": {
                    "kind": "scenario", "builder": ["facility_overhead", "scenario"],
                    "args": [{"model": "plant", "preset": "hyperscale_air", "design_it_power_w": 1.0e6},
                             {"climate": "temperate"}]},
            },
            "ratios": [
                ("GPT-3 100,000 / 10,000 GPUs wall", "gpu_scaling: GPT-3, 100,000 GPUs",
                 "gpu_scaling: GPT-3, 10,000 GPUs", "wall_s", 1.2, "<="),
                ("request-level requests per wall s / raw SimPy events per s", "inference_speed: request level",
                 ("engine", "simpy raw timeout loop"), "requests_per_s", 0.25, ">="),
                ("plant / fixed_pue wall", "facility_overhead: plant", "facility_overhead: fixed_pue", "wall_s", 1.2,
                 "<="),
            ],
        },
    }


def figure(m: dict, name: str) -> float:
    if name == "events_per_s":
        return m["events"] / m["wall_s"]
    if name == "speedup":
        return m["simulated_s"] / m["wall_s"]
    if name == "service_events_per_s":   # the service's own events, handled in its run-ahead (compiled)
        return (m["arrivals"] + m["changes"]) / m["wall_s"]
    if name == "requests_per_s":
        return m["completed"] / m["wall_s"]
    return m[name]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller cases and 3 repeats")
    parser.add_argument("--repeats", type=int, default=None, help="rounds per benchmark (default 5, quick 3)")
    parser.add_argument("--only", default="", help="comma-separated benchmark names (default: all but flow)")
    parser.add_argument("--flow", action="store_true", help="also run benchmarks/flow_vs_request.py")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    repeats = args.repeats or (3 if args.quick else 5)
    suite = benchmarks(args.quick)
    chosen = [name for name in suite if not args.only or name in args.only.split(",")]
    results = {}
    for name in chosen:
        print(f"running {name} ({len(suite[name]['cases'])} cases x {repeats} rounds) ...", file=sys.stderr, flush=True)
        results[name] = interleaved(suite[name]["cases"], repeats)
    verdicts = []
    for name in chosen:
        for label, top, bottom, what, target, sense in suite[name]["ratios"]:
            num = figure(results[name][top], what)
            if bottom is None:
                value = num
            else:
                where, case = bottom if isinstance(bottom, tuple) else (name, bottom)
                if where not in results:
                    continue
                # a rate of requests or of a service's own events is set against SimPy's raw event rate
                per_s = what in ("requests_per_s", "service_events_per_s")
                den = figure(results[where][case], "events_per_s" if per_s else what)
                value = num / den
            ok = value >= target if sense == ">=" else value <= target
            verdicts.append({"benchmark": name, "ratio": label, "value": value, "target": f"{sense} {target:g}",
                             "met": ok})
    print(f"\nmedians of {repeats} interleaved rounds, each case in its own process "
          f"({platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs)")
    print(f"| benchmark | case | wall s | CPU s | peak RSS MB | simulated days | events | events / wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for name in chosen:
        for case, m in results[name].items():
            print(f"| {name} | {case} | {m['wall_s']:.3f} | {m['cpu_s']:.3f} | {m['peak_rss_mb']:.0f} | "
                  f"{m['simulated_s'] / S_PER_DAY:,.2f} | {m['events']:,.0f} | {m['events'] / m['wall_s']:,.0f} |")
    print("\n| benchmark | ratio | value | target | met |")
    print("|---|---|---|---|---|")
    for v in verdicts:
        print(f"| {v['benchmark']} | {v['ratio']} | {v['value']:.4g} | {v['target']} | {'yes' if v['met'] else 'NO'} |")
    flow = None
    if args.flow:
        done = subprocess.run([sys.executable, str(HERE / "flow_vs_request.py"), "--json"] +
                              (["--quick"] if args.quick else []), capture_output=True, text=True, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        print(done.stdout)
        if done.returncode not in (0, 1):
            print(done.stderr[-3000:], file=sys.stderr)
        flow = json.loads(done.stdout.strip().splitlines()[-1])
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    report = {"when": stamp, "quick": args.quick, "repeats": repeats, "python": platform.python_version(),
              "cpus": os.cpu_count(), "medians": results, "ratios": verdicts, "flow_vs_request": flow}
    for path in (RESULTS / f"run_all-{stamp}.json", RESULTS / "latest.json"):
        path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {RESULTS / f'run_all-{stamp}.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
