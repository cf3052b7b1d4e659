"""A progress bar for long runs, driven by SIMULATED time, on stderr.

The bar advances when the meter closes an output interval: the recorder's callback is wrapped, so
it costs one clock read per interval and nothing per event. It is drawn only when it helps:

- never when stderr is not a terminal (a pipe, a file, CI) or when the user asked for quiet;
- never for a run that ends within `delay_s` (1 s) of wall time: short runs print no bar at all;
- at most every `refresh_s` (0.2 s) of wall time, whatever the number of intervals.

The bar is a `tqdm` bar (a small, well-kept library with no dependencies). Its total is the
scenario's `duration` when given; otherwise the end is unknown and the bar counts simulated time.

The same hook keeps Ctrl-C working during long stretches of pure computation. CPython (3.11) runs a
Python signal handler only in the main thread, and only notices a signal promptly when the C-level
handler ran in the main thread: when the kernel delivers SIGINT to one of pyarrow's worker threads,
the signal stays pending while the main thread computes, and Ctrl-C seems ignored (seen here: about
one run in fifty under load). So every `check_s` of wall time the hook asks the interpreter to run
pending handlers (`signal.pthread_sigmask` with an empty set calls PyErr_CheckSignals), and a
pending Ctrl-C becomes a KeyboardInterrupt at the next closed interval.
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

    def close(self) -> None:
        """Remove the bar from the terminal (on success, error or Ctrl-C alike).

        A Ctrl-C may land inside tqdm while it draws, before the bar object exists or half-way through
        its own bookkeeping, so the line is also blanked here, whatever tqdm managed to do.
        """
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
