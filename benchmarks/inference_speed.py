"""Simulated inference requests per wall-clock second, beside SimPy's own raw event rate, in one run.

The service: Llama-2-7B on the 8 A100s of one DGX A100 (8 replicas, tensor_parallel 1, max_batch 64,
join-shortest-queue), Poisson arrivals at a high load (most replicas decode a batch of tens all the
time), chat-like lognormal lengths. The raw rate is SimPy's timeout loop (`while True: yield
env.timeout(1)`) on the same machine, measured between the simulation runs, so machine noise hits both.
The figure of merit is requests per wall second / raw SimPy events per wall second. The replicas run compiled
(sim/workloads/batching_kernel.py), loaded once per process before the timed runs (the load time is printed);
`--python` times the Python classes instead.

Run:  python benchmarks/inference_speed.py [--repeats 5] [--requests 60000] [--profile] [--python]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import simpy

from sim.config import validate_scenario
from sim.engine.simulation import Simulation

RATE_PER_S = 36.0    # requests/s over 8 replicas: about 85 % of what they sustain with these lengths


def scenario(requests: int):
    duration_s = requests / RATE_PER_S
    data = {
        "scenario": {"name": "inference-speed", "seed": 11, "duration": duration_s * 1.5},
        "cluster": {"node": "dgx-a100", "nodes": 1},
        "services": [{
            "name": "bench",
            "model": "llama-2-7b",
            "tensor_parallel": 1,
            "replicas": 8,
            "max_batch": 64,
            "router": "join_shortest_queue",
            "duration": duration_s,
            "arrivals": {"process": "poisson", "rate_per_s": RATE_PER_S},
            "prompt_tokens": {"distribution": "lognormal", "median_tokens": 500, "sigma": 0.8, "max_tokens": 3000},
            "output_tokens": {"distribution": "lognormal", "median_tokens": 300, "sigma": 0.8, "max_tokens": 1000},
        }],
        "output": {"interval": "1h"},
    }
    return validate_scenario(data, "benchmark", None)


def raw_simpy_events_per_s(events: int) -> float:
    """SimPy's timeout loop: one process, one event per iteration."""
    env = simpy.Environment()

    def loop():
        while True:
            yield env.timeout(1.0)

    env.process(loop())
    started = time.perf_counter()
    env.run(until=events)
    return events / (time.perf_counter() - started)


def simulated_requests_per_s(requests: int) -> tuple[float, dict]:
    simulation = Simulation(scenario(requests))   # requests are drawn here, outside the timed run
    started = time.perf_counter()
    result = simulation.run()
    wall_s = time.perf_counter() - started
    service = result.summary["services"][0]
    return service["completed"] / wall_s, {"wall_s": wall_s, "completed": service["completed"],
                                           "events": result.summary["events"],
                                           "replica_busy_fraction": service["replica_busy_fraction"],
                                           "latency_p50_s": service["latency_p50_s"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--requests", type=int, default=60_000)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one run instead")
    parser.add_argument("--python", action="store_true", help="run the Python replica classes, not the compiled ones")
    args = parser.parse_args()
    if args.python:
        import sim.workloads.service as service

        service.COMPILED_REPLICAS = False
    if args.profile:
        import cProfile
        import pstats

        simulation = Simulation(scenario(args.requests))
        cProfile.runctx("simulation.run()", globals(), {"simulation": simulation}, "/tmp/inference_speed.prof")
        pstats.Stats("/tmp/inference_speed.prof").sort_stats("tottime").print_stats(25)
        return
    from sim.workloads import batching_kernel

    started = time.perf_counter()
    batching_kernel.warm_up()   # once per process: load the compiled replicas from numba's cache (or compile them)
    load_s = time.perf_counter() - started
    raw, simulated, details = [], [], None
    for _ in range(args.repeats):        # interleaved: both see the same machine noise
        raw.append(raw_simpy_events_per_s(1_000_000))
        rate, details = simulated_requests_per_s(args.requests)
        simulated.append(rate)
    ratios = [s / r for s, r in zip(simulated, raw)]
    result = {
        "simulated_requests_per_wall_s": statistics.median(simulated),
        "raw_simpy_events_per_wall_s": statistics.median(raw),
        "ratio": statistics.median(ratios),
        "ratios": ratios,
        "repeats": args.repeats,
        "compiled_replicas_load_s": load_s,
        "last_run": details,
    }
    print(f"simulated requests per wall second  {result['simulated_requests_per_wall_s']:>12,.0f}")
    print(f"raw SimPy timeout events per second {result['raw_simpy_events_per_wall_s']:>12,.0f}")
    print(f"ratio (aim >= 0.25)                 {result['ratio']:>12.3f}")
    print(f"(loading the compiled replicas, once per process, before timing: {load_s:.2f} s)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
