"""The grading machine checks itself: a broken setup never becomes a student's grade.

The instructor-written setup cell of matmul_timing is broken in a scratch course (it imports a
module the kernel does not have, as when the sandboxed kernel cannot reach course_utils). Then
``coursekit grade`` must stop at its canary, before writing any grade, and say why (the failing
cell's error and traceback, the scratch course kept and named); and with the canary skipped, the
hand-in is "not graded" with the setup error, never a low score. ``coursekit doctor`` names the
isolation grading really uses, and shows nbgrader's own error when nbgrader itself fails.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from tests.helpers import kit, mnist_available

NAME = "matmul_timing"
BROKEN = "import course_utils_is_not_here  # the grading machine's fault\n"

BROKEN_PREPROCESSOR = """
from nbconvert.preprocessors import Preprocessor  # noqa: E402


class _Broken(Preprocessor):
    enabled = True

    def preprocess(self, nb, resources):
        raise RuntimeError("a preprocessor broken on purpose")


c.Autograde.autograde_preprocessors = [*c.Autograde.autograde_preprocessors, _Broken]
"""

pytestmark = pytest.mark.slow
KEPT = re.compile(r"the scratch course is kept for a look: (\S+) ")


def _kept(stderr: str) -> Path:
    """The scratch course the failed canary kept and named; checked, then removed."""
    found = KEPT.search(stderr)
    assert found, stderr[-3000:]
    kept = Path(found.group(1))
    assert (kept / "grading_logs").is_dir() and (kept / "course.toml").is_file(), kept
    shutil.rmtree(kept.parent)  # course-selfcheck-*/course
    return kept


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
    _kept(result.stderr)


def test_doctor_reports_the_same(broken):
    from coursekit.grade import jail

    result = kit(broken, "doctor", NAME)
    assert result.returncode == 1
    assert "course_utils" in result.stdout
    # the isolation grading will use here, as `grade` chooses it
    line = next(line for line in result.stdout.splitlines() if line.startswith("isolation   "))
    found = jail.isolation()
    assert line.startswith(f"isolation   {found.mode}: "), line
    if found.jailed:
        assert "bubblewrap jail" in line and "memory 4 GiB" in line and "run as root" not in line, line
    else:
        assert found.why_not in line and "grading refuses" in line, line
    # the failing cell's error and its traceback (the source line that raised), not "see the above traceback"
    assert "course_utils_is_not_here" in result.stderr
    assert "traceback of cell" in result.stderr and "import course_utils_is_not_here" in result.stderr
    assert "above traceback" not in result.stderr
    kept = _kept(result.stderr)
    assert str(kept) in result.stderr


@pytest.mark.skipif(not mnist_available(), reason="MNIST not found (set COURSE_DATA_DIR)")
def test_canary_of_two_assignments_at_once_passes(make_course):
    """The canary grades one reference hand-in per assignment; with two jobs, the two start
    together, as hand-ins of one student. Each autograde adds its student to the gradebook, and
    once the second add failed (UNIQUE constraint: a race, seen once in five assignments, not
    reproduced in three more runs); grading now adds the students before it starts."""
    names = ["fc_vs_conv_pytorch", "param_study_pytorch"]  # not timed: two jobs beside the other xdist worker
    root = make_course()
    result = kit(root, "selfcheck", *names, "--jobs", "2")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for name in names:
        said = rf"{name} +worked solution: [0-9.]+ autograded points, all tests pass"
        assert re.search(said, result.stdout), result.stdout[-3000:]
    assert "2 worked solution(s) autograded" in result.stdout, result.stdout[-3000:]


def test_doctor_shows_nbgrader_own_error(make_course):
    """When nbgrader itself fails (not a cell), its first error and traceback are shown."""
    root = make_course([NAME])
    config = root / "nbgrader_config.py"
    config.write_text(config.read_text() + BROKEN_PREPROCESSOR)
    result = kit(root, "doctor", NAME)
    assert result.returncode == 1
    assert "nbgrader's log" in result.stderr
    assert "RuntimeError: a preprocessor broken on purpose" in result.stderr
    _kept(result.stderr)


def test_setup_error_is_not_graded_never_a_low_score(broken):
    result = kit(broken, "grade", NAME, "--no-canary")
    assert result.returncode == 1
    with open(broken / "grading_report.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert row["status"] == "not graded" and row["score"] == ""
    assert "instructor's cell" in row["reason"] and "course_utils_is_not_here" in row["reason"]
    assert "not the student's fault" in row["reason"]


def test_canary_of_a_release_that_is_not_there_says_so(make_course):
    """``released=True`` (a Dask worker's canary) copies this run's release and gradebook; without
    them it stops and says what is missing, instead of quietly releasing again."""
    from coursekit.config import Course
    from coursekit.errors import CourseError
    from coursekit.selfcheck import selfcheck

    root = make_course([NAME])
    (root / "gradebook.db").unlink()
    with pytest.raises(CourseError, match=r"gradebook\.db missing; release them first"):
        selfcheck(Course.load(root), [NAME], released=True)
