"""Progress bar and Ctrl-C: a bar on a terminal for long runs only, driven by simulated time; Ctrl-C
stops with one clear line, exit code 130, and leaves no run directory and no temporary directory."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pandas as pd
import pytest

import sim
from helpers import REPO, SCENARIOS
from sim.engine.simulation import Simulation
from sim.progress import RunProgress, run_progress, time_unit
from sim.units import S_PER_DAY, S_PER_H

QUICKSTART = SCENARIOS / "quickstart.toml"
# 1-second output intervals over ~15 simulated days: a run of minutes, stopped long before its end.
LONG = ["--set", "output.interval=1", "--set", "jobs.0.tokens=2e12", "--set", "scenario.duration='30d'"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_no_bar_within_the_first_second():
    stream, clock = Terminal(), Clock()
    bar = RunProgress(S_PER_DAY, stream=stream, clock=clock)
    for k in range(1, 50):
        clock.now = 100.0 + 0.02 * k  # 0.98 s of wall time
        bar.update(k * 600.0)
    bar.close()
    assert stream.getvalue() == ""
    assert bar.draws == 0


def test_bar_shows_simulated_time_after_a_second_and_is_cleared_at_the_end():
    stream, clock = Terminal(), Clock()
    with RunProgress(S_PER_DAY, label="quickstart", stream=stream, clock=clock) as bar:
        clock.now += 1.5
        bar.update(6 * S_PER_H)
    text = stream.getvalue()
    assert "quickstart  25%" in text and "6.0/24.0 h simulated" in text
    assert text.endswith("\r")  # the line is blanked on close: the summary prints on a clean line


def test_redraws_are_throttled_whatever_the_number_of_intervals():
    clock = Clock()
    bar = RunProgress(None, stream=Terminal(), clock=clock)
    clock.now += 2.0
    for k in range(10_000):  # 10,000 intervals closed within 0.1 s of wall time
        clock.now += 1e-5
        bar.update(float(k))
    bar.close()
    assert bar.draws == 1


@pytest.mark.parametrize("stream, quiet", [(io.StringIO(), False), (Terminal(), True)], ids=["not-a-tty", "quiet"])
def test_silent_when_not_a_terminal_or_quiet(stream, quiet):
    clock = Clock()
    bar = RunProgress(S_PER_DAY, stream=stream, quiet=quiet, clock=clock)
    clock.now += 10
    bar.update(S_PER_DAY / 2)
    bar.close()
    assert not bar.enabled and stream.getvalue() == ""


def test_unit_follows_the_length_of_the_run():
    assert time_unit(S_PER_DAY) == ("h", S_PER_H)
    assert time_unit(30 * S_PER_DAY) == ("d", S_PER_DAY)
    assert time_unit(None) == ("d", S_PER_DAY)


def test_the_bar_changes_nothing_in_the_run():
    scenario = sim.load(QUICKSTART, {"output.interval": 60})
    plain = Simulation(scenario).run()
    watched = Simulation(scenario)
    bar = RunProgress(None, stream=Terminal(), clock=lambda: 1e9, delay_s=0.0, refresh_s=0.0, check_s=0.0)
    bar.attach(watched)
    result = watched.run()
    bar.close()
    assert bar.draws == plain.summary["intervals"]  # advanced once per closed interval...
    assert result.summary["events"] == plain.summary["events"]  # ...without adding a single event
    pd.testing.assert_frame_equal(result.timeseries.to_pandas(), plain.timeseries.to_pandas())


def test_a_swallowed_ctrl_c_is_raised_again_at_the_next_check():
    """CPython ignores a KeyboardInterrupt raised inside some callbacks (importlib's module-lock weakref
    callback, finalizers); the run must stop anyway."""
    scenario = sim.load(QUICKSTART, {"output.interval": 60})
    simulation = Simulation(scenario)
    watcher = RunProgress(None, quiet=True, check_s=0.0)
    watcher.attach(simulation)
    handler = signal.getsignal(signal.SIGINT)
    assert handler is not signal.default_int_handler
    closed = []
    forward = simulation.recorder.on_bin

    def on_bin(record):
        forward(record)
        closed.append(record.end_s)
        if len(closed) == 10:
            try:  # Ctrl-C arrives inside code that swallows it
                handler(signal.SIGINT, None)
            except KeyboardInterrupt:
                pass

    simulation.recorder.on_bin = on_bin
    simulation.footprint.emit = on_bin
    with pytest.raises(KeyboardInterrupt):
        simulation.run()
    watcher.close()
    assert len(closed) == 10  # stopped at the very next interval
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # given back


def test_an_ignored_sigint_stays_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as in a shell's background job
    try:
        watcher = RunProgress(None, quiet=True)
        watcher.attach(Simulation(sim.load(QUICKSTART)))
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        watcher.close()
    finally:
        signal.signal(signal.SIGINT, previous)


def test_run_progress_totals_the_duration_limit():
    scenario = sim.load(QUICKSTART, {"scenario.duration": "2d"})
    assert run_progress(scenario, stream=Terminal()).total_s == 2 * S_PER_DAY
    assert run_progress(sim.load(QUICKSTART), stream=Terminal()).total_s is None


# --------------------------------------------------------------------------------- end to end
def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return env


def _wait_for(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir())


def test_ctrl_c_stops_cleanly_with_exit_130_and_leaves_nothing(tmp_path):
    out = tmp_path / "long"
    process = subprocess.Popen([sys.executable, "-m", "sim", str(QUICKSTART), *LONG, "--out", str(out)],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    try:
        assert _wait_for(lambda: any(p.name.startswith(".long.tmp-") for p in tmp_path.iterdir()), 60), \
            "the run never started writing"
        time.sleep(0.3)  # well inside the simulation
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert stderr == "interrupted: stopped cleanly, nothing half-written was left\n"
    assert stdout == ""
    assert _leftovers(tmp_path) == []  # neither the run directory nor its temporary directory


def _run_on_a_terminal(args: list[str], cwd: Path, interrupt_when=None, timeout_s: float = 120.0):
    """Run `python -m sim ARGS` with stderr on a pseudo-terminal; optionally Ctrl-C once `interrupt_when(text)`."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    process = subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=slave, stdin=subprocess.DEVNULL, env=_env())
    os.close(slave)
    seen = b""
    interrupted = False
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal closed: the process has exited
                break
            if not chunk:
                break
            seen += chunk
            if interrupt_when and not interrupted and interrupt_when(seen.decode(errors="replace")):
                process.send_signal(signal.SIGINT)
                interrupted = True
        process.wait(timeout=60)
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
    return process.returncode, seen.decode(errors="replace")


def test_a_long_run_on_a_terminal_shows_simulated_time_and_ctrl_c_clears_it(tmp_path):
    code, text = _run_on_a_terminal([str(QUICKSTART), *LONG, "--out", str(tmp_path / "long")], tmp_path,
                                    interrupt_when=lambda seen: " d simulated [" in seen)
    assert code == 130, text
    assert "quickstart " in text and "/30.0 d simulated [" in text and "%|" in text
    assert "Traceback" not in text
    # the bar line is blanked (spaces between carriage returns) before the message is printed over it
    head, message = text.rstrip("\r\n").rsplit("\r", 1)  # the terminal ends lines with \r\n
    assert message.strip() == "interrupted: stopped cleanly, nothing half-written was left"
    assert head.rsplit("\r", 1)[1].strip() == ""
    assert _leftovers(tmp_path) == []


def test_a_short_run_on_a_terminal_shows_no_bar(tmp_path):
    code, text = _run_on_a_terminal([str(QUICKSTART), "--out", str(tmp_path / "qs")], tmp_path)
    assert code == 0
    assert text == ""  # stderr stayed empty: the run took well under a second


# A run in which the kernel must deliver SIGINT to one of pyarrow's worker threads: the main thread
# blocks SIGINT once the workers exist, and the signal comes from outside (this test), as Ctrl-C does.
# Without the watcher attached, CPython 3.11 noticed such a signal only 13.7 s later in this run.
CTRL_C_ON_A_WORKER_THREAD = """
import os, signal, sys, time
import numpy as np, pyarrow as pa, pyarrow.compute as pc
import sim
from sim.engine.simulation import Simulation
from sim.progress import RunProgress

pc.sum(pa.chunked_array([np.arange(1_000_000)] * 16))  # starts pyarrow's CPU thread pool
if len(os.listdir("/proc/self/task")) < 2:
    print("no worker thread", flush=True); sys.exit(3)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
scenario = sim.load(sys.argv[1], {"output.interval": 1, "jobs.0.tokens": 2e12, "scenario.duration": "30d"})
simulation = Simulation(scenario)
RunProgress(None, quiet=True).attach(simulation)
print("ready", flush=True)
started = time.monotonic()
try:
    simulation.run()
    print("not interrupted", flush=True)
except KeyboardInterrupt:
    print(f"interrupted after {time.monotonic() - started:.2f} s", flush=True)
"""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir() or not hasattr(signal, "pthread_sigmask"),
                    reason="needs Linux threads and pthread_sigmask")
def test_ctrl_c_delivered_to_a_worker_thread_still_stops_the_run(tmp_path):
    script = tmp_path / "ctrl_c.py"
    script.write_text(CTRL_C_ON_A_WORKER_THREAD)
    process = subprocess.Popen([sys.executable, str(script), str(QUICKSTART)], stdout=subprocess.PIPE, text=True,
                               env=_env())
    try:
        first = process.stdout.readline().strip()
        if first == "no worker thread":
            pytest.skip("pyarrow started no worker thread here")
        assert first == "ready"
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        last = process.stdout.readline().strip()
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
    assert last.startswith("interrupted after"), last
    assert float(last.split()[2]) < 3.0  # 0.5 s until the signal, then at most a check interval (plus load)
