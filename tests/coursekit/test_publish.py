"""Publish: the students' repository holds what students need and provably no answer.

One publish of a scratch copy of the course; then each kind of leak is planted in a copy of
the published tree (as a stale notebook, a stray file or a pasted line would put it there)
and the scan must name it, file and line.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile

import nbformat
import pytest

from coursekit.config import Course
from coursekit.publish import publish, scan
from tests.helpers import ROOT, read, scratch_course

EXPECTED_TOP = {"README.md", "LICENSE", "pyproject.toml", "course_utils", "notebooks", "lessons",
                "assignments"}


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("publish")
    course = Course.load(scratch_course(tmp / "course"))
    dest = tmp / "students"
    assert publish(course, dest, site=False) == []  # the site: tests/coursekit/test_site.py
    return course, dest


def test_tree_holds_the_student_material_only(published):
    course, dest = published
    assert {p.name for p in dest.iterdir()} == EXPECTED_TOP
    for track in course.tracks:
        assert sorted(p.name for p in (dest / "notebooks" / track).glob("*.ipynb")) == sorted(
            p.name for p in (ROOT / "notebooks" / track).glob("*.ipynb"))
    for name in course.notebook_names():
        student = read(dest / "assignments" / name / f"{name}.ipynb")
        text = json.dumps(student)
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
        assert "raise NotImplementedError()" in text  # the student version, not the source
    assert not list(dest.rglob("*.py")) or all(
        p.parts[len(dest.parts)] in {"course_utils", "lessons"} for p in dest.rglob("*.py"))
    assert scan(dest, course) == []


def test_badges_and_install_point_at_the_public_repository(published):
    course, dest = published
    readme = (dest / "README.md").read_text()
    for track in course.tracks:
        assert course.colab_url(f"notebooks/{track}/05_mnist.ipynb") in readme
    assert f"https://github.com/{course.public_repo}.git" in readme
    nb = read(dest / "notebooks" / "pytorch" / "05_mnist.ipynb")
    assert course.colab_url("notebooks/pytorch/05_mnist.ipynb") in nb.cells[0].source
    assert any(course.install_url in c.source for c in nb.cells if c.cell_type == "code")


def test_students_pyproject_builds_course_utils_only(published, tmp_path):
    _, dest = published
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    result = subprocess.run([*pip, "-w", str(wheels), str(dest)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = wheels.glob("course_utils-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "course_utils/live.py" in names
    assert not [n for n in names if n.startswith(("coursekit", "tests", "assignments"))]


def _plant_line(dest, course, what):
    """Paste a line of the assignment source (a solution or a hidden test) into a lesson notebook."""
    source = read(course.root / "assignments" / "matmul_timing" / "matmul_timing.ipynb")
    marker = "### BEGIN HIDDEN TESTS" if what == "hidden" else "### BEGIN SOLUTION"
    cell = next(c for c in source.cells if marker in c.source)
    region = cell.source.split(marker, 1)[1].split("### END", 1)[0]
    line = max(region.splitlines(), key=len).strip()
    path = dest / "notebooks" / "pytorch" / "01_perceptron.ipynb"
    nb = read(path)
    nb.cells[-1].source += "\n" + line
    nbformat.write(nb, path)
    return "notebooks/pytorch/01_perceptron.ipynb"


def _plant_handin(dest, course):
    nb = read(dest / "assignments" / "matmul_timing" / "matmul_timing.ipynb")
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", text="fast mode: True\n")]
    code.execution_count = 1
    nbformat.write(nb, dest / "notebooks" / "s2301234__matmul_timing.ipynb")
    return "notebooks/s2301234__matmul_timing.ipynb"


def _plant_gradebook(dest, course):
    shutil.copy(course.root / "gradebook.db", dest / "course_utils" / "cache.db") if (
        course.root / "gradebook.db").exists() else (dest / "course_utils" / "cache.db").write_bytes(
        b"SQLite format 3\x00" + bytes(100))
    return "course_utils/cache.db"


def _plant_source(dest, course):
    shutil.copy(course.root / "assignments" / "matmul_timing.py", dest / "lessons" / "data" / "timing.py")
    return "lessons/data/timing.py"


def _plant_tool(dest, course):
    (dest / "course_utils" / "grading_helper.py").write_text("from coursekit.grade import batch\n")
    return "course_utils/grading_helper.py"


def _plant_export(dest, course):
    (dest / "grades.csv").write_text("assignment,student_id,score\nmatmul_timing,s1,10\n")
    return "grades.csv"


PLANTS = {
    "solution line": lambda d, c: _plant_line(d, c, "solution"),
    "hidden-test line": lambda d, c: _plant_line(d, c, "hidden"),
    "hand-in": _plant_handin,
    "gradebook": _plant_gradebook,
    "assignment source": _plant_source,
    "instructor tool": _plant_tool,
    "gradebook export": _plant_export,
}


@pytest.mark.parametrize("kind", PLANTS)
def test_every_kind_of_leak_fails_the_scan(published, tmp_path, kind):
    course, dest = published
    copy = tmp_path / "students"
    shutil.copytree(dest, copy)
    where = PLANTS[kind](copy, course)
    leaks = scan(copy, course)
    assert leaks, f"the planted {kind} was not found"
    assert {leak.path for leak in leaks} == {where}, leaks
    if kind.endswith("line"):
        assert leaks[0].line > 0 and ("solution" in leaks[0].what or "hidden" in leaks[0].what), leaks


def test_publish_fails_and_names_the_leak(published, tmp_path, capsys):
    """A leak in the master (a hidden test pasted into a lesson notebook) stops the publish."""
    course, _ = published
    bad = Course.load(scratch_course(tmp_path / "course", ["matmul_timing"]))
    where = _plant_line(bad.root, course, "hidden")
    failed = publish(bad, tmp_path / "out", site=False)
    assert failed and "leak" in failed[0]
    assert f"LEAK: {where}:" in capsys.readouterr().out


@pytest.mark.slow
def test_published_lesson_runs_from_the_published_tree(published, monkeypatch):
    """Lesson 02 reads its CSV files from ../../lessons/data: the published tree has them."""
    from coursekit.execute import run_notebook

    _, dest = published
    monkeypatch.setenv("COURSE_FAST", "1")
    path = dest / "notebooks" / "pytorch" / "02_softmax.ipynb"
    nb = run_notebook(read(path), path.parent, timeout=600)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
