"""The grading machine checks itself: a broken setup never becomes a student's grade.

The instructor-written setup cell of matmul_timing is broken in a scratch course (it imports a
module the kernel does not have, as when the sandboxed kernel cannot reach course_utils). Then
``coursekit grade`` must stop at its canary, before writing any grade, and say why; and with
the canary skipped, the hand-in is "not graded" with the setup error, never a low score.
"""

from __future__ import annotations

import csv

import nbformat
import pytest

from tests.helpers import kit

NAME = "matmul_timing"
BROKEN = "import course_utils_is_not_here  # the grading machine's fault\n"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def broken(make_course, perfect_handin):
    root = make_course()
    source = root / "assignments" / f"{NAME}.py"
    text = source.read_text()
    marker = "# %matplotlib inline\n"
    assert text.count(marker) == 1
    source.write_text(text.replace(marker, marker + BROKEN))
    released = kit(root, "release", NAME)
    assert released.returncode == 0, released.stdout[-2000:] + released.stderr[-2000:]
    handins = root / "handins"
    handins.mkdir()
    nbformat.write(perfect_handin(root, NAME), handins / f"s001__{NAME}.ipynb")
    assert kit(root, "collect", str(handins)).returncode == 0
    return root


def test_canary_stops_grading_before_any_grade(broken):
    result = kit(broken, "grade", NAME)
    assert result.returncode == 1
    assert "canary" in result.stderr and "no grade was written" in result.stderr
    assert "ModuleNotFoundError" in result.stderr and "course_utils_is_not_here" in result.stderr
    assert not (broken / "grades.csv").exists() and not (broken / "grading_report.csv").exists()
    assert not (broken / "autograded").exists()


def test_doctor_reports_the_same(broken):
    result = kit(broken, "doctor", NAME)
    assert result.returncode == 1
    assert "isolation" in result.stdout and "course_utils" in result.stdout
    assert "course_utils_is_not_here" in result.stderr


def test_setup_error_is_not_graded_never_a_low_score(broken):
    result = kit(broken, "grade", NAME, "--no-canary")
    assert result.returncode == 1
    with open(broken / "grading_report.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert row["status"] == "not graded" and row["score"] == ""
    assert "instructor's cell" in row["reason"] and "course_utils_is_not_here" in row["reason"]
    assert "not the student's fault" in row["reason"]
