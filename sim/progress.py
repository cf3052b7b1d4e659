"""A progress bar for long runs, driven by SIMULATED time, on stderr.

The bar advances when the meter closes an output interval: the recorder's callback is wrapped, so
it costs one clock read per interval and nothing per event. It is drawn only when it helps:

- never when stderr is not a terminal (a pipe, a file, CI) or when the user asked for quiet;
- never for a run that ends within `delay_s` (1 s) of wall time: short runs print no bar at all;
- at most every `refresh_s` (0.2 s) of wall time, whatever the number of intervals.

The bar is a `tqdm` bar (a small, well-kept library with no dependencies). Its total is the
scenario's `duration` when given; otherwise the end is unknown and the bar counts simulated time.
"""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

from sim.units import S_PER_DAY, S_PER_H

DELAY_S = 1.0     # no bar for runs shorter than this (wall time)
REFRESH_S = 0.2   # redraw at most this often (wall time)


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
        clock: Callable[[], float] = time.monotonic,
    ):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = not quiet and stream_is_terminal(self.stream)
        self.total_s = total_s if total_s is not None and total_s > 0 else None
        self.label = label
        self.delay_s = delay_s
        self.refresh_s = refresh_s
        self.clock = clock
        self.unit, self.s_per_unit = time_unit(self.total_s)
        self.started_at = clock()
        self._next_draw_at = self.started_at + delay_s
        self._bar = None  # a tqdm bar, made on the first draw after `delay_s`
        self.draws = 0

    # ------------------------------------------------------------------ hooks
    def attach(self, simulation) -> None:
        """Advance with every output interval the simulation's meter closes."""
        if not self.enabled:
            return
        meter = simulation.meter
        forward = meter.on_bin

        def on_bin(record) -> None:
            forward(record)
            self.update(record.end_s)

        meter.on_bin = on_bin

    def update(self, simulated_s: float) -> None:
        """Simulated time reached [s]; redraws only when the throttle allows."""
        if not self.enabled:
            return
        now = self.clock()
        if now < self._next_draw_at:
            return
        self._next_draw_at = now + self.refresh_s
        self._draw(simulated_s)

    def _draw(self, simulated_s: float) -> None:
        value = simulated_s / self.s_per_unit
        if self._bar is None:
            from tqdm import tqdm

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
        """Remove the bar from the terminal (on success, error or Ctrl-C alike)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "RunProgress":
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False


def run_progress(scenario, *, quiet: bool = False, stream: TextIO | None = None) -> RunProgress:
    """The bar for one run of `scenario`: its total is the scenario's duration limit, when given."""
    section = scenario.scenario
    return RunProgress(section.duration, label=section.name or "simulating", quiet=quiet, stream=stream)
