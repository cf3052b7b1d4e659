"""Helpers shared by the end-to-end tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"


def run_cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """`python -m sim ARGS` in a subprocess, as a user would run it."""
    env = dict(os.environ)
    # The package under test, whether or not it is installed in this interpreter.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env=env)


def read_run(out: Path) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    summary = json.loads((out / "summary.json").read_text())
    return summary, pd.read_parquet(out / "timeseries.parquet"), pd.read_parquet(out / "jobs.parquet")
