"""Parallel grading and reproducible grades, on the fc_vs_conv_pytorch assignment (MNIST).

Five hand-ins (three copies of the worked solution, one wrong answer, one broken file) are
graded with two jobs at once, twice in a row: the copies get the same score cell by cell,
in the same run and across runs; the gradebook holds exactly one complete submission per
gradable student, and nothing failed for a lock.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import nbformat
import pytest

from tests.coursekit.grade.test_assignments import WRONG
from tests.helpers import KIT, mnist_available

NAME = "fc_vs_conv_pytorch"
SAME = ("same1", "same2", "same3")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not mnist_available(), reason="MNIST not found (set COURSE_DATA_DIR)"),
]


def _grade(root):
    tool = [*KIT, "grade", NAME, "--jobs", "2", "--no-canary"]  # the canary: test_canary.py
    result = subprocess.run(tool, cwd=root, capture_output=True, text=True, timeout=900)
    with open(root / "grading_report.csv", newline="") as f:
        report = {r["student_id"]: r for r in csv.DictReader(f)}
    return result, report, _cell_scores(root)


def _cell_scores(root):
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for sub in gb.assignment_submissions(NAME):
            nb = gb.find_submission_notebook(NAME, NAME, sub.student.id)
            scores[sub.student.id] = {g.name: g.score for g in nb.grades if g.auto_score is not None}
    return scores


@pytest.fixture(scope="module")
def runs(make_course, perfect_handin):
    root = make_course([NAME])
    run = dict(cwd=root, capture_output=True, text=True, timeout=900)
    # a due date long past: every hand-in is late (nbgrader's default policy: no penalty)
    nbgrader = [sys.executable, "-m", "nbgrader", "db", "assignment", "add", NAME]
    env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]]))
    due = subprocess.run([*nbgrader, "--duedate=2020-01-01 00:00:00 UTC"], **run, env=env)  # PATH: alembic
    assert due.returncode == 0, due.stdout + due.stderr
    handins = root / "handins"
    handins.mkdir()
    for student in SAME:
        nbformat.write(perfect_handin(root, NAME), handins / f"{student}__{NAME}.ipynb")
    wrong = perfect_handin(root, NAME)
    old, new = WRONG[NAME]
    (cell,) = [c for c in wrong.cells if old in c.source]
    cell.source = cell.source.replace(old, new)
    nbformat.write(wrong, handins / f"wrong__{NAME}.ipynb")
    (handins / f"broken__{NAME}.ipynb").write_text('{"cells": [')
    subprocess.run([*KIT, "collect", str(handins)], **run)
    return [_grade(root) for _ in range(2)]  # two runs in a row: the second grades everyone again


def test_parallel_batch_grades_everyone(runs):
    for result, report, _ in runs:
        assert "2 job(s)" in result.stdout, result.stdout[-2000:]
        assert "database is locked" not in result.stdout + result.stderr
        status = {s: r["status"] for s, r in report.items()}
        assert status == {**dict.fromkeys((*SAME, "wrong"), "graded"), "broken": "not graded"}, report


def test_gradebook_is_complete_after_parallel_writes(runs):
    _, _, scores = runs[-1]
    assert sorted(scores) == ["same1", "same2", "same3", "wrong"]  # one submission each, no stale one
    cells = set(scores["same1"])
    assert len(cells) >= 4 and all(set(s) == cells for s in scores.values())


def test_same_submission_same_score_every_time(runs):
    first = runs[0][2]["same1"]
    for _, report, scores in runs:
        for student in SAME:
            assert scores[student] == first, (student, scores[student], first)
            assert report[student]["score"] == runs[0][1]["same1"]["score"]
        assert sum(scores["wrong"].values()) < sum(first.values())


def test_late_hand_ins_are_reported(runs):
    _, report, _ = runs[-1]
    for student in (*SAME, "wrong"):
        assert "after the due date" in report[student]["notes"], report[student]
