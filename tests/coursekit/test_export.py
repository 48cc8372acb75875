"""Honest exports to the LMS: the maximum without extra credit, no silent partial grade (seconds).

A real nbgrader gradebook (SQLite) is filled with the graded cells of the course's own source
notebooks and a few hand-ins' scores, as autograding and the formgrader would leave them; then
``coursekit export`` writes Moodle's and Canvas' files. A perfect matmul_timing must be 16 of 16
(Part C is optional: extra credit), 21 of 16 with Part C, never 16 (or 10) of 21.
(tests/coursekit/collect/test_handins.py exports hand-ins graded for real.)
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from coursekit.assignments import source_notebook
from coursekit.config import Course
from coursekit.errors import CourseError
from coursekit.export import export, grades
from coursekit.notebooks import SourceError
from tests.helpers import ROOT

NAME = "matmul_timing"
PLOTS = ("plot_a", "plot_b", "plots", "plot")  # code cells graded by hand
MOODLE = {"perfect": "1001", "with_c": "1002", "pending": "1003", "late": "1004", "blank": "1005"}


@pytest.fixture(autouse=True)
def _gradebook_env(monkeypatch):
    monkeypatch.delenv("COURSE_GRADEBOOK_URL", raising=False)  # this test's SQLite file, not a server
    bin_dir = str(Path(sys.executable).parent)  # nbgrader runs `alembic` from PATH
    monkeypatch.setenv("PATH", bin_dir + os.pathsep + os.environ.get("PATH", ""))


def _cells(name: str) -> list[dict]:
    nb = nbformat.read(ROOT / "assignments" / name / f"{name}.ipynb", as_version=4)
    return [
        c.metadata["nbgrader"] | {"type": c.cell_type}
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    ]


def _gradebook(root: Path, name: str, students: dict[str, dict]) -> None:
    """``students``: {id: {"optional": points of the optional cells or None (pending), "manual": points
    of the other hand-graded cells or None (pending), "auto": True (full) or False (0), "late": penalty}}."""
    from nbgrader.api import Gradebook

    course = Course.load(root)
    optional = set(course.assignment_of(name).optional)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        gb.add_assignment(name)
        gb.add_notebook(name, name)
        cells = _cells(name)
        for meta in cells:
            gb.add_grade_cell(meta["grade_id"], name, name, max_score=meta["points"], cell_type=meta["type"])
        for student, how in students.items():
            gb.add_student(student)
            submission = gb.add_submission(name, student)
            notebook = submission.notebooks[0]
            notebook.late_submission_penalty = how.get("late", 0.0)
            for grade in notebook.grades:
                manual = grade.cell.cell_type == "markdown" or grade.name in PLOTS
                if grade.name in optional:
                    points = how["optional"]
                elif manual:
                    points = how["manual"]
                else:
                    grade.auto_score = grade.max_score if how["auto"] else 0.0
                    grade.needs_manual_grade = False
                    continue
                grade.manual_score = None if points is None else min(points, grade.max_score)
                grade.needs_manual_grade = points is None
            gb.db.commit()


def _course(tmp_path: Path, toml_change: tuple[str, str] | None = None) -> Path:
    root = tmp_path / "course"
    root.mkdir()
    text = (ROOT / "course.toml").read_text(encoding="utf-8")
    if toml_change:
        assert toml_change[0] in text
        text = text.replace(*toml_change)
    (root / "course.toml").write_text(text, encoding="utf-8")
    shutil.copytree(ROOT / "assignments" / NAME, root / "assignments" / NAME)
    return root


def _handed_in(root: Path, name: str, students: dict[str, str], status: dict[str, str] | None = None) -> None:
    """grading_report.csv and lms_ids.csv rows (Moodle participants ``students``: {id: participant})."""
    with open(root / "grading_report.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student_id", "assignment", "status", "reason", "score", "max_score", "notes"])
        for student in students:
            state = (status or {}).get(student, "graded")
            reason = "" if state == "graded" else "kernel died in cell 3"
            writer.writerow([student, name, state, reason, "", "", ""])
    for lms in ("moodle", "canvas"):
        with open(root / "lms_ids.csv", "a", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            if lms == "moodle":
                writer.writerow(
                    ["lms", "assignment", "student_id", "identifier", "name", "user_id", "submission_id"]
                )
            for student, number in students.items():
                writer.writerow([lms, name, student, f"Participant {number}", student, number, f"9{number}"])


def _grades(root: Path, name: str) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return grades(Course.load(root), name, False, gb)[0]


def _moodle(root: Path, name: str, *args: str) -> dict[str, dict]:
    course = Course.load(root)
    assert export(course, "moodle", name, pending="--pending" in args) == []
    with open(root / "lms_export" / f"moodle_{name}.csv", newline="", encoding="utf-8") as f:
        return {r["Identifier"].split()[-1]: r for r in csv.DictReader(f)}


@pytest.fixture
def matmul(tmp_path):
    root = _course(tmp_path)
    _gradebook(
        root,
        NAME,
        {
            "perfect": {
                "auto": True,
                "manual": 99,
                "optional": 0.0,
            },  # Part C not answered: 0, nothing to grade
            "with_c": {"auto": True, "manual": 99, "optional": 5.0},
            "pending": {"auto": True, "manual": None, "optional": None},  # the formgrader has not been opened
            "late": {"auto": True, "manual": 99, "optional": 0.0, "late": 2.0},
            "blank": {"auto": False, "manual": 0.0, "optional": 0.0},
        },
    )
    _handed_in(root, NAME, MOODLE)
    return root


def test_optional_points_are_extra_credit_not_in_the_maximum(matmul, capsys):
    rows = _moodle(matmul, NAME)
    assert {r["Maximum Grade"] for r in rows.values()} == {"16"}  # 21 less Part C's 5
    got = {student: rows[number]["Grade"] for student, number in MOODLE.items()}
    assert got == {"perfect": "16", "with_c": "21", "pending": "", "late": "14", "blank": "0"}
    extra = "includes 5 extra-credit point(s) of the optional part"
    assert extra in rows[MOODLE["with_c"]]["Feedback comments"]
    assert "late penalty of 2 point(s)" in rows[MOODLE["late"]]["Feedback comments"]
    assert rows[MOODLE["perfect"]]["Feedback comments"] == "16 of 16 points"
    printed = capsys.readouterr().out
    assert "Unlimited grades" in printed and "with_c" in printed  # Moodle takes 21 of 16 only so
    assert "the maximum of matmul_timing is 16 points" in printed


def test_no_partial_grade_unless_asked_and_then_marked(matmul, capsys):
    rows = _moodle(matmul, NAME)
    pending = rows[MOODLE["pending"]]
    assert pending["Grade"] == "" and "manual grading pending: 11 point(s)" in pending["Feedback comments"]
    rows = _moodle(matmul, NAME, "--pending")
    pending = rows[MOODLE["pending"]]
    assert pending["Grade"] == "10" and pending["Maximum Grade"] == "16", pending  # never 10 of 21
    assert "partial: 11 point(s) still to be graded by hand" in pending["Feedback comments"]
    assert "PARTIAL grade posted: pending" in capsys.readouterr().out
    assert rows[MOODLE["perfect"]]["Feedback comments"] == "16 of 16 points"  # complete ones are not partial


def test_canvas_points_possible_and_scores(matmul):
    course = Course.load(matmul)
    assert export(course, "canvas", NAME, column="Matmul (77)") == []
    with open(matmul / "lms_export" / f"canvas_{NAME}.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0][-1] == "Matmul (77)" and rows[1][0] == "Points Possible" and rows[1][-1] == "16"
    expected = {"perfect": "16", "with_c": "21", "pending": "", "late": "14", "blank": "0"}
    assert {r[1]: r[-1] for r in rows[2:]} == {MOODLE[s]: grade for s, grade in expected.items()}


def test_not_graded_gets_no_grade(matmul):
    _handed_in(matmul, NAME, MOODLE, status={"blank": "not graded"})
    (matmul / "lms_ids.csv").unlink()
    _handed_in(matmul, NAME, MOODLE, status={"blank": "not graded"})
    row = _moodle(matmul, NAME)[MOODLE["blank"]]
    assert row["Grade"] == "" and row["Feedback comments"] == "not graded: kernel died in cell 3"


def test_extra_credit_false_counts_optional_points_in_the_maximum(tmp_path):
    root = _course(tmp_path, ('optional = ["optional_c"]', 'optional = ["optional_c"]\nextra_credit = false'))
    _gradebook(
        root,
        NAME,
        {
            "perfect": {"auto": True, "manual": 99, "optional": 0.0},
            "with_c": {"auto": True, "manual": 99, "optional": 5.0},
        },
    )
    _handed_in(root, NAME, {"perfect": "1", "with_c": "2"})
    rows = _moodle(root, NAME)
    assert (rows["1"]["Grade"], rows["1"]["Maximum Grade"]) == ("16", "21")
    assert (rows["2"]["Grade"], rows["2"]["Maximum Grade"]) == ("21", "21")
    assert "extra-credit" not in rows["2"]["Feedback comments"]


def test_bonus_within_the_cap(tmp_path):
    """param_study: 4 + 4 points and a bonus of 1, at most 8 count."""
    name = "param_study_keras"
    root = _course(tmp_path)
    shutil.copytree(ROOT / "assignments" / name, root / "assignments" / name)
    _gradebook(
        root,
        name,
        {
            "all": {"auto": True, "manual": 99, "optional": 1.0},
            "no_bonus": {"auto": True, "manual": 99, "optional": 0.0},
        },
    )
    _handed_in(root, name, {"all": "1", "no_bonus": "2"})
    posted = _grades(root, name)
    assert (posted["all"].score, posted["all"].maximum) == (8, 8)
    assert "9 points earned, at most 8 count" in posted["all"].note
    assert (posted["no_bonus"].score, posted["no_bonus"].maximum) == (8, 8)


def test_optional_must_name_graded_cells(tmp_path):
    root = _course(tmp_path, ('optional = ["optional_c"]', 'optional = ["part_c"]'))
    with pytest.raises(CourseError, match=r"optional = \['part_c'\] names no graded cell of matmul_timing"):
        _grades(root, NAME)
    shutil.copy(ROOT / "assignments" / f"{NAME}.py", root / "assignments")  # `coursekit check` says so too
    with pytest.raises(SourceError, match=r"optional = \['part_c'\] names no graded cell of matmul_timing"):
        source_notebook(Course.load(root), NAME)
    text = (ROOT / "course.toml").read_text().replace("optional = [", "extra_credit = 1\noptional = [", 1)
    said = r"`assignments.matmul_timing.extra_credit` = 1 should be true \(optional"
    with pytest.raises(CourseError, match=said):
        Course.from_text(text, root)


def test_nbgrader_export_takes_the_plugin(matmul):
    """The LMS plugins are nbgrader export plugins: ``nbgrader export --exporter`` writes the same file."""
    expected = matmul / "expected.csv"
    assert export(Course.load(matmul), "moodle", NAME, out=expected) == []
    nbgrader = [
        sys.executable,
        "-m",
        "nbgrader",
        "export",
        "--exporter=coursekit.lms.moodle.Export",
        f"--assignment={NAME}",
        "--to=by_nbgrader.csv",
        f"--db=sqlite:///{matmul / 'gradebook.db'}",
    ]
    done = subprocess.run(nbgrader, cwd=matmul, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (matmul / "by_nbgrader.csv").read_text() == expected.read_text()


def test_unknown_lms_says_which_exist(matmul):
    with pytest.raises(CourseError, match="no LMS plugin 'blackboard'; known: canvas, moodle"):
        export(Course.load(matmul), "blackboard", NAME)
