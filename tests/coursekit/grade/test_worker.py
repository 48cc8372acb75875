"""The grading worker process: a worker that dies says which request it died on and where its log is."""

from __future__ import annotations

import os

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
