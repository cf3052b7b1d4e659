"""A progress bar for long runs, driven by SIMULATED time, on stderr.

The bar advances when the meter closes an output interval: the recorder's callback is wrapped, so
it costs one clock read per interval and nothing per event. It is drawn only when it helps:

- never when stderr is not a terminal (a pipe, a file, CI) or when the user asked for quiet;
- never for a run that ends within `delay_s` (1 s) of wall time: short runs print no bar at all;
- at most every `refresh_s` (0.2 s) of wall time, whatever the number of intervals.

The bar is a `tqdm` bar (a small, well-kept library with no dependencies). Its total is the
scenario's `duration` when given; otherwise the end is unknown and the bar counts simulated time.

The same hook makes Ctrl-C stop a run every time. Two CPython behaviours can lose it (both seen
here, each about one run in forty under load, the run then going on for minutes):

- the KeyboardInterrupt is raised inside a callback whose exceptions CPython ignores ("Exception
  ignored in ..."), e.g. importlib's module-lock weakref callback while pandas is imported lazily
  mid-run. So while the hook is attached, SIGINT goes to a handler that also records it, and the
  hook raises KeyboardInterrupt again at its next check if the first one was swallowed;
- CPython 3.11 notices a signal promptly only when the C-level handler ran in the main thread; when
  the kernel hands SIGINT to one of pyarrow's worker threads, it stays pending while the main thread
  computes. So each check also asks the interpreter to run pending handlers
  (`signal.pthread_sigmask` with an empty set calls PyErr_CheckSignals).

Checks happen every `check_s` (0.1 s) of wall time, at the next closed interval.
"""

from __future__ import annotations

import functools
import io
import os
import signal
import sys
import threading
import time
from typing import Callable, TextIO

from sim.units import S_PER_DAY, S_PER_H

DELAY_S = 1.0     # no bar for runs shorter than this (wall time)
REFRESH_S = 0.2   # redraw at most this often (wall time)
CHECK_S = 0.1     # look for a pending Ctrl-C this often (wall time)


def _signal_pump() -> Callable[[], object] | None:
    """A call that runs pending signal handlers now, from the main thread; None where not needed."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        return None  # Windows always wakes the main thread; other threads never run handlers
    nothing: tuple = ()
    return lambda: signal.pthread_sigmask(signal.SIG_BLOCK, nothing)


@functools.cache
def _bar_class():
    """tqdm's bar without its monitor thread (this module redraws on its own schedule)."""
    from tqdm import tqdm

    return type("SimulatedTimeBar", (tqdm,), {"monitor_interval": 0})


def time_unit(total_s: float | None) -> tuple[str, float]:
    """The unit the bar counts simulated time in: hours for runs up to two days, days beyond."""
    if total_s is not None and total_s <= 2 * S_PER_DAY:
        return "h", S_PER_H
    return "d", S_PER_DAY


def stream_is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a real file
        return False


class RunProgress:
    """Progress of one run in simulated seconds; a context manager that always clears its bar."""

    def __init__(
        self,
        total_s: float | None,
        label: str = "simulating",
        *,
        quiet: bool = False,
        stream: TextIO | None = None,
        delay_s: float = DELAY_S,
        refresh_s: float = REFRESH_S,
        check_s: float = CHECK_S,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = not quiet and stream_is_terminal(self.stream)
        self.total_s = total_s if total_s is not None and total_s > 0 else None
        self.label = label
        self.delay_s = delay_s
        self.refresh_s = refresh_s
        self.check_s = check_s
        self.clock = clock
        self.unit, self.s_per_unit = time_unit(self.total_s)
        self.started_at = clock()
        self._next_draw_at = self.started_at + delay_s
        self._next_check_at = self.started_at
        self._pump = None  # set by attach(): runs pending signal handlers
        self.interrupted = False  # Ctrl-C was received while attached
        self._previous_sigint = None  # the handler to put back on close(), when ours was installed
        self._bar = None  # a tqdm bar, made on the first draw after `delay_s`
        self._on_screen = False  # something was (or was being) drawn: close() must blank the line
        self.draws = 0

    # ------------------------------------------------------------------ hooks
    def attach(self, simulation) -> None:
        """Advance with every output interval the simulation's meter closes (bar or not: see Ctrl-C above).

        The run's wall time is counted from here, once the simulation is built: loading and imports
        do not make a short run look long.
        """
        self.started_at = self.clock()
        self._next_draw_at = self.started_at + self.delay_s
        self._next_check_at = self.started_at + self.check_s
        self._pump = _signal_pump()
        self._install_sigint_handler()
        meter = simulation.meter
        forward = meter.on_bin

        def on_bin(record) -> None:
            forward(record)
            self.update(record.end_s)

        meter.on_bin = on_bin

    def update(self, simulated_s: float) -> None:
        """Simulated time reached [s]; looks for Ctrl-C and redraws only when the throttles allow."""
        now = self.clock()
        if now < self._next_check_at:
            return
        self._next_check_at = now + self.check_s
        if self._pump is not None:
            self._pump()  # raises KeyboardInterrupt here if Ctrl-C is pending
        if self.interrupted:
            raise KeyboardInterrupt  # the first one was swallowed on its way up
        if self.enabled and now >= self._next_draw_at:
            self._next_draw_at = now + self.refresh_s
            self._draw(simulated_s)

    def _draw(self, simulated_s: float) -> None:
        self._on_screen = True
        value = simulated_s / self.s_per_unit
        if self._bar is None:
            tqdm = _bar_class()
            if self.total_s is not None:
                bar_format = (f"{{desc}} {{percentage:3.0f}}%|{{bar}}| {{n:.1f}}/{{total:.1f}} {self.unit} "
                              "simulated [{elapsed}<{remaining}]")
            else:
                bar_format = f"{{desc}} {{n:.1f}} {self.unit} simulated [{{elapsed}}, {{rate_fmt}}]"
            self._bar = tqdm(
                total=None if self.total_s is None else self.total_s / self.s_per_unit,
                desc=self.label, file=self.stream, leave=False, dynamic_ncols=True, unit=self.unit,
                bar_format=bar_format, mininterval=0, miniters=0,
                # tqdm measures its own elapsed time; start it where the run started
                initial=0,
            )
            self._bar.start_t = self._bar.last_print_t = self._bar._time() - (self.clock() - self.started_at)
        self._bar.n = value
        self._bar.refresh()
        self.draws += 1

    def _install_sigint_handler(self) -> None:
        """Record Ctrl-C as well as raising it, when SIGINT has Python's default handler (not when it is
        ignored, e.g. in a background job, nor when an application installed its own)."""
        if threading.current_thread() is not threading.main_thread() or self._previous_sigint is not None:
            return
        if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            return

        def on_sigint(signum, frame):
            self.interrupted = True
            raise KeyboardInterrupt

        self._previous_sigint = signal.signal(signal.SIGINT, on_sigint)

    def _restore_sigint_handler(self) -> None:
        if self._previous_sigint is not None:
            signal.signal(signal.SIGINT, self._previous_sigint)
            self._previous_sigint = None

    def close(self) -> None:
        """Remove the bar from the terminal (on success, error or Ctrl-C alike); give SIGINT back.

        A Ctrl-C may land inside tqdm while it draws, before the bar object exists or half-way through
        its own bookkeeping, so the line is also blanked here, whatever tqdm managed to do.
        """
        self._restore_sigint_handler()
        try:
            if self._bar is not None:
                self._bar.close()
        finally:
            self._bar = None
            if self._on_screen:
                self._on_screen = False
                self._blank_line()

    def _blank_line(self) -> None:
        try:
            width = os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            width = 80
        try:
            self.stream.write("\r" + " " * max(width - 1, 1) + "\r")
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: nothing left to clean
            pass

    def __enter__(self) -> "RunProgress":
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False


def run_progress(scenario, *, quiet: bool = False, stream: TextIO | None = None) -> RunProgress:
    """The bar for one run of `scenario`: its total is the scenario's duration limit, when given."""
    section = scenario.scenario
    return RunProgress(section.duration, label=section.name or "simulating", quiet=quiet, stream=stream)
