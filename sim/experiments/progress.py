"""A progress bar over points on stderr, with the time left; silent when stderr is not a terminal."""

from __future__ import annotations

import sys


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int | None, description: str, enabled: bool = True):
    """tqdm on stderr (rate, elapsed and remaining time), or an object that does nothing.

    tqdm's `disable=None` turns the bar off when stderr is not a TTY, so logs and CI output stay clean.
    """
    if not enabled:
        return _Silent()
    try:
        from tqdm import tqdm
    except ImportError:
        return _Silent()
    return tqdm(total=total, desc=description, unit="point", file=sys.stderr, disable=None, dynamic_ncols=True,
                smoothing=0.1)
