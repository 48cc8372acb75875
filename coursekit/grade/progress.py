"""A progress line for a whole grading run: hand-ins done / total, not graded so far, time left.

tqdm is not a dependency of the course, so this is a small line printer: on a terminal it
redraws one line in place; otherwise (a log, CI) it prints a line at most every
``every_s`` seconds and at the end.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    """``progress.update(graded=True)`` after each hand-in; ``progress.close()`` at the end."""

    def __init__(self, total: int, label: str = "grading", out: TextIO | None = None, every_s: float = 10):
        self.total, self.label, self.out, self.every_s = total, label, out or sys.stderr, every_s
        self.done = self.failed = 0
        self.started = self.shown_at = time.perf_counter()
        self.tty = self.out.isatty()

    def line(self) -> str:
        """``grading: 5/20 hand-ins (25%), 1 not graded, 1 min 10 s left``."""
        elapsed = time.perf_counter() - self.started
        share = self.done / self.total if self.total else 1.0
        left = _duration(elapsed / self.done * (self.total - self.done)) if self.done else "?"
        return (
            f"{self.label}: {self.done}/{self.total} hand-ins ({share:.0%}), {self.failed} not graded, "
            f"{left} left, {_duration(elapsed)} so far"
        )

    def update(self, graded: bool = True) -> None:
        self.done += 1
        self.failed += not graded
        now = time.perf_counter()
        if self.tty:
            self.out.write("\r\033[K" + self.line())
        elif now - self.shown_at >= self.every_s or self.done == self.total:
            self.out.write(self.line() + "\n")
            self.shown_at = now
        self.out.flush()

    def write(self, text: str) -> None:
        """Print ``text`` (a row) on standard output, above the progress line on a terminal."""
        if self.tty:
            self.out.write("\r\033[K")
            self.out.flush()
        print(text, flush=True)
        if self.tty and self.done:
            self.out.write(self.line())
            self.out.flush()

    def close(self) -> None:
        if self.tty:
            self.out.write("\n")
            self.out.flush()
