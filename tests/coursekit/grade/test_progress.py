"""The progress line of a grading run (``coursekit.grade.progress``): counts, failures, time left.

A whole run's line is checked where real runs happen: tests/coursekit/grade/test_cluster.py
(local and on the cluster).
"""

from __future__ import annotations

import io

import pytest

from coursekit.grade import progress as progress_module
from coursekit.grade.progress import Progress


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def clock(monkeypatch) -> _Clock:
    clock = _Clock()
    monkeypatch.setattr(progress_module.time, "perf_counter", clock)
    return clock


def test_line_counts_failures_and_estimates_time_left(clock):
    bar = Progress(4, out=io.StringIO())
    assert bar.line() == "grading: 0/4 hand-ins (0%), 0 not graded, ? left, 0 s so far"
    clock.now += 30
    bar.update(graded=True)
    clock.now += 30
    bar.update(graded=False)
    # 2 of 4 in 60 s: 60 s left
    assert bar.line() == "grading: 2/4 hand-ins (50%), 1 not graded, 1 min 00 s left, 1 min 00 s so far"
    clock.now += 7200
    bar.update()
    assert "3/4 hand-ins (75%), 1 not graded, 40 min 20 s left, 2 h 01 min so far" in bar.line()


def test_a_log_gets_a_line_at_most_every_interval_and_the_last(clock, capsys):
    log = io.StringIO()
    bar = Progress(3, label="grading on the cluster", out=log, every_s=10)
    clock.now += 1
    bar.write("s01 matmul_timing graded")
    bar.update()
    assert log.getvalue() == ""  # 1 s after the start: too soon for a line
    clock.now += 10
    bar.update(graded=False)
    clock.now += 1
    bar.update()
    lines = log.getvalue().splitlines()
    assert lines == [
        "grading on the cluster: 2/3 hand-ins (67%), 1 not graded, 6 s left, 11 s so far",
        "grading on the cluster: 3/3 hand-ins (100%), 1 not graded, 0 s left, 12 s so far",
    ]
    assert capsys.readouterr().out == "s01 matmul_timing graded\n"  # rows go to standard output
    bar.close()
    assert log.getvalue().count("\n") == 2


def test_a_terminal_redraws_one_line_under_the_rows(clock, capsys):
    term = _Terminal()
    bar = Progress(2, out=term)
    clock.now += 5
    bar.update()
    bar.write("s01 matmul_timing graded")
    bar.update()
    bar.close()
    text = term.getvalue()
    assert text.count("\r\033[K") == 3 and text.endswith("\n") and text.count("\n") == 1
    assert text.rstrip("\n").endswith("grading: 2/2 hand-ins (100%), 0 not graded, 0 s left, 5 s so far")
    assert capsys.readouterr().out == "s01 matmul_timing graded\n"
