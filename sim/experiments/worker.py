"""The one function every executor maps over points: a resolved scenario in, its summary and files out.

It is pure in the sense that matters here: it reads nothing but its argument (the validated, frozen
scenario, with input file paths made absolute) and writes nothing that outlives it. The run directory is
written by the same code as `python -m sim SCENARIO` (`sim.runner.run_to_directory`) into a private
temporary directory, read back as bytes and removed; the caller writes those bytes atomically where the
point belongs. So a worker on another machine needs no shared file system for outputs, and a point's files
are byte-identical to a single run of its scenario.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from sim.config.schema import Scenario

OK, FAILED = "ok", "failed"


@dataclass(frozen=True)
class PointTask:
    """What a worker receives: the point's directory (its identity) and its resolved scenario."""

    point_path: str
    scenario: Scenario


@dataclass(frozen=True)
class PointOutcome:
    """What a worker returns. `files` are (name, bytes) of the run directory; empty when the point failed."""

    point_path: str
    status: str
    error: str | None
    traceback: str | None
    summary: dict | None
    files: tuple[tuple[str, bytes], ...]
    wall_s: float
    cpu_s: float = 0.0  # CPU time of the worker on this point (this process only)


def error_text(exc: BaseException) -> str:
    """One line: the messages of a SimInputError, or `ExceptionType: message`."""
    from sim.errors import SimInputError

    if isinstance(exc, SimInputError):
        return "; ".join(exc.messages)
    text = str(exc).strip().replace("\n", " ")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run_point(task: PointTask) -> PointOutcome:
    """Simulate `task.scenario`; return its summary and run-directory files, or the error it raised."""
    from sim.runner import run_to_directory

    started, cpu_started = time.perf_counter(), time.process_time()
    tmp = None
    try:
        with _sigterm_held():  # a stop between making the directory and knowing its name would leak it
            tmp = Path(tempfile.mkdtemp(prefix="sim-point-"))
        written = run_to_directory(task.scenario, tmp / "run")
        files = tuple((name, (written.out_dir / name).read_bytes()) for name in written.files)
        return PointOutcome(task.point_path, OK, None, None, written.result.summary, files,
                            time.perf_counter() - started, time.process_time() - cpu_started)
    except Exception as exc:  # a failing point is a result, not the end of the sweep
        return PointOutcome(task.point_path, FAILED, error_text(exc), traceback.format_exc(), None, (),
                            time.perf_counter() - started, time.process_time() - cpu_started)
    finally:
        if tmp is not None:
            with _sigterm_held():  # a stop in the middle of removing it would leave the rest
                shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _sigterm_held():
    """SIGTERM (the pool's stop, see init_worker_process) held back while the block runs, delivered after it."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


def init_worker_process() -> None:
    """In a pool process: Ctrl-C is the parent's to handle (it stops the pool); SIGTERM unwinds the point
    in progress so that its temporary directory is removed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    sys.stdout.flush()
