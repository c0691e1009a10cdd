"""A progress bar on stderr for backups and restores (on a terminal, or when asked)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``label [#####.....] done/total`` redrawn at most ten times a second.

    Args:
        label: what is going on (``backing up``).
        total: how many records there are.
        enabled: draw it (``None``: only when ``stream`` is a terminal).
        stream: where to draw (stderr).
    """

    WIDTH = 30

    def __init__(self, label: str, total: int, *, enabled: bool | None = None,
                 stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label, self.total, self.done = label, max(total, 0), 0
        self._drawn = 0.0

    def tick(self, n: int = 1) -> None:
        """``n`` more records done."""
        self.done += n
        if self.enabled and time.monotonic() - self._drawn >= 0.1:
            self._draw()

    def finish(self) -> None:
        """Draw the full bar and end its line."""
        if self.enabled:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        self._drawn = time.monotonic()
        total = max(self.total, self.done, 1)
        filled = self.WIDTH * self.done // total
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (self.WIDTH - filled)}] "
                          f"{self.done}/{total} records")
        self.stream.flush()
