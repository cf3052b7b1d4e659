"""sim: a discrete-event simulator of the energy and carbon of AI data centers.

For notebooks and scripts (see sim/api.py):

    import sim
    run = sim.run("scenarios/quickstart.toml", {"cluster.node": "dgx-a100"})
    run.summary["carbon_kg"], run.timeseries, run.jobs
"""

__version__ = "0.1.0"

# The Python API, imported on first use so that `python -m sim` and `import sim` stay light.
_API = ("load", "run", "open_run", "Run")
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from sim import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
