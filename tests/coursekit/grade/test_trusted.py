"""No silent fallback: without the kernel jail, grading refuses unless ``--trusted`` says so.

``COURSE_GRADING_SANDBOX=0`` stands in for a machine without bubblewrap (the fallback that
once let a hand-in log into the gradebook with the grader's ``PGPASSWORD``).
"""

from __future__ import annotations

import csv
import os

import nbformat
import pytest

from tests.helpers import kit

NAME = "matmul_timing"


@pytest.mark.slow
def test_no_jail_means_no_grade_unless_trusted(make_course, perfect_handin):
    root = make_course([NAME])
    handins = root / "handins"
    handins.mkdir()
    nbformat.write(perfect_handin(root, NAME), handins / f"s1__{NAME}.ipynb")
    assert kit(root, "collect", str(handins)).returncode == 0
    env = {k: v for k, v in os.environ.items() if k != "COURSE_GRADING_TRUSTED"}
    env.update(COURSE_GRADING_SANDBOX="0", PGPASSWORD="pg-secret-2b9")
    refused = kit(root, "grade", NAME, "--no-canary", env=env)
    assert refused.returncode != 0
    said = refused.stdout + refused.stderr
    assert "grading refused" in said and "--trusted" in said and "bubblewrap" in said, said[-2000:]
    assert not (root / "grading_report.csv").exists() and not (root / "grades.csv").exists()
    assert not list((root / "autograded").glob("*/*/*.ipynb"))  # no kernel ran a hand-in

    trusted = kit(root, "grade", NAME, "--no-canary", "--trusted", env=env)
    with open(root / "grading_report.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert row["status"] == "graded", trusted.stdout[-3000:] + trusted.stderr[-3000:]
    assert "TRUSTED single-user mode" in row["notes"], row
    assert "TRUSTED single-user mode" in trusted.stdout
