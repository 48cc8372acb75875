"""The grading worker process: a worker that dies says which request it died on and where its log is."""

from __future__ import annotations

import os
import subprocess
import sys

from coursekit.grade.batch import _exporter
from coursekit.grade.worker import Worker


def test_a_worker_that_dies_names_the_request_and_its_log(tmp_path):
    """A folder without nbgrader_config.py: the worker process fails at its start."""
    log = tmp_path / "worker.log"
    with Worker(tmp_path, dict(os.environ), log) as worker:
        released = worker.release("matmul_timing")
    assert released.returncode == 1
    assert released.output == f"the grading worker died during release (its log: {log})"
    assert "nbgrader_config.py" in log.read_text()  # the worker's own error, in the log it names
    assert worker.proc is None  # closed on the way out


def test_grades_are_exported_in_a_worker_that_runs(tmp_path):
    """The first grading thread met only a refused hand-in (its worker never started): the export
    goes to the other thread's running worker, not to a new process paying nbgrader's start-up."""
    idle, busy, ended = (Worker(tmp_path, dict(os.environ), tmp_path / f"{n}.log") for n in range(3))
    busy.proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE, text=True
    )
    ended.proc = subprocess.Popen([sys.executable, "-c", "pass"], stdin=subprocess.PIPE, text=True)
    ended.proc.wait()
    try:
        assert not idle.running() and busy.running() and not ended.running()
        assert _exporter({1: idle, 2: ended, 3: busy}) is busy
        assert _exporter({1: idle, 2: ended}) is None  # export_grades then starts a worker of its own
    finally:
        busy.close()
