"""Killing a sweep midway, then running it again: finished points are not redone, nothing half-written
is left, and the table ends complete and equal to the points' summaries."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from helpers import REPO, run_cli
from sweep_fixtures import point_dirs, read_points, same_value, write_sweep

# 8 points of a few months of hourly output each (about half a second of work apiece), so that the sweep
# is still running when the first points are done.
SWEEP = """
[sweep]
name = "long"
[axes]
"facility.pue" = [1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8]
[set]
"scenario.duration" = "100d"
"jobs.0.tokens" = 2.0e13
"""


def start_sweep(path, out, tmp):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])),
               TMPDIR=str(tmp))
    return subprocess.Popen([sys.executable, "-m", "sim", "sweep", str(path), "--out", str(out), "--workers", "2"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_for_points(out, count, process, timeout_s=120.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if len(point_dirs(out)) >= count:
            return
        if process.poll() is not None:
            pytest.fail(f"the sweep ended before it could be interrupted: {process.communicate()}")
        time.sleep(0.02)
    pytest.fail("no point finished in time")


def hidden_leftovers(out):
    return [p for p in out.rglob(".*") if ".tmp-" in p.name or ".old-" in p.name]


def check_complete(out):
    points = read_points(out)
    assert len(points) == 8 and (points["status"] == "ok").all()
    for row in points.to_dict("records"):
        summary = json.loads((out / "sweep=long" / row["point"] / "summary.json").read_text())
        assert same_value(row["carbon_kg"], summary["carbon_kg"])
        assert same_value(row["facility_energy_kwh"], summary["facility_energy_kwh"])


@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT"])
def test_an_interrupted_sweep_resumes_without_redoing_finished_points(tmp_path, how):
    path = write_sweep(tmp_path, SWEEP)
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    process = start_sweep(path, out, tmp)
    wait_for_points(out, 2, process)
    if how == "SIGKILL":  # the whole process group, workers included: nothing gets to clean up
        os.killpg(process.pid, signal.SIGKILL)
    else:  # Ctrl-C in the main process: it stops the workers and rebuilds the table
        os.kill(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    finished = {p: ((p / "point.json").stat().st_mtime_ns, p.stat().st_ino) for p in point_dirs(out)}
    assert 2 <= len(finished) < 8, "the sweep was not interrupted midway"
    for folder in finished:  # every point present is whole
        assert {f.name for f in folder.iterdir()} == {"summary.json", "timeseries.parquet", "jobs.parquet",
                                                      "scenario.json", "point.json"}
    if how == "SIGINT":
        assert process.returncode == 130 and "interrupted" in stderr, stderr
        assert hidden_leftovers(out) == []  # the run directory being written was removed
        assert list(tmp.iterdir()) == []  # the workers' private directories were removed
        partial = read_points(out)
        assert set(partial["status"]) == {"ok", "pending"}
        assert (partial["status"] == "ok").sum() == len(finished)

    result = run_cli("sweep", str(path), "--out", str(out), "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert f"8 points ({8 - len(finished)} ran, {len(finished)} already done, 0 failed)" in result.stdout
    for folder, stamp in finished.items():  # not redone: same file, same directory
        assert ((folder / "point.json").stat().st_mtime_ns, folder.stat().st_ino) == stamp
    assert hidden_leftovers(out) == []
    check_complete(out)
