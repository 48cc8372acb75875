"""Publish: the students' repository holds what students need and provably no answer.

One publish of a scratch copy of the course; then each kind of leak is planted in a copy of
the published tree (as a stale notebook, a stray file or a pasted line would put it there)
and the scan must name it, file and line.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import nbformat
import pytest

from coursekit.config import Course
from coursekit.publish import PLACEHOLDER_REPO, machine_paths, publish, scan
from tests.helpers import ROOT, kit, read, scratch_course

EXPECTED_TOP = {
    "README.md",
    "LICENSE",
    "pyproject.toml",
    "course_utils",
    "notebooks",
    "lessons",
    "assignments",
}


def _publish(course: Course, dest: Path) -> str:
    """Publish without the site (that is tests/coursekit/test_site.py); what it wrote on stderr."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert publish(course, dest, site=False) == []
    return err.getvalue()


@pytest.fixture(scope="module")
def published_run(tmp_path_factory):
    """A scratch copy of this course (public_repo still the kit's placeholder), published."""
    tmp = tmp_path_factory.mktemp("publish")
    course = Course.load(scratch_course(tmp / "course"))
    dest = tmp / "students"
    return course, dest, _publish(course, dest)


@pytest.fixture(scope="module")
def published(published_run):
    return published_run[:2]


@pytest.fixture(scope="module")
def spring(tmp_path_factory):
    """A course of its own repository on branch "spring", built and published: ``(course, dest, stderr)``."""
    root = scratch_course(tmp_path_factory.mktemp("spring") / "course")
    toml = (root / "course.toml").read_text(encoding="utf-8")
    toml = re.sub(r'(?m)^public_repo = ".*"', 'public_repo = "someone/deep-lab"', toml)
    toml = re.sub(r'(?m)^branch = ".*"', 'branch = "spring"', toml)
    (root / "course.toml").write_text(toml, encoding="utf-8")
    built = kit(root, "build")
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    course = Course.load(root)
    assert (course.public_repo, course.branch) == ("someone/deep-lab", "spring")
    dest = root.parent / "students"
    return course, dest, _publish(course, dest)


def test_tree_holds_the_student_material_only(published):
    course, dest = published
    assert {p.name for p in dest.iterdir()} == EXPECTED_TOP
    for track in course.tracks:
        assert sorted(p.name for p in (dest / "notebooks" / track).glob("*.ipynb")) == sorted(
            p.name for p in (ROOT / "notebooks" / track).glob("*.ipynb")
        )
    for name in course.notebook_names():
        student = read(dest / "assignments" / name / f"{name}.ipynb")
        text = json.dumps(student)
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
        assert "raise NotImplementedError()" in text  # the student version, not the source
    assert not list(dest.rglob("*.py")) or all(
        p.parts[len(dest.parts)] in {"course_utils", "lessons"} for p in dest.rglob("*.py")
    )
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
    # the lessons that ask Colab for a GPU runtime are marked as such, the others not
    assert "| `05_mnist` (GPU) |" in readme and "| `01_perceptron` |" in readme


def test_publish_warns_while_public_repo_is_the_placeholder(published_run, spring):
    *_, stderr = published_run
    assert "WARNING" in stderr and f"public_repo in {published_run[0].root / 'course.toml'}" in stderr
    assert PLACEHOLDER_REPO in stderr and "Set [course] public_repo" in stderr, stderr
    assert "public_repo" not in spring[2], spring[2]  # the instructor's own repository: no warning


def test_readme_and_lesson_02_follow_the_branch(spring):
    """branch = "spring": every Colab link of the README, its clone and lesson 02's data URL say so."""
    course, dest, _ = spring
    readme = (dest / "README.md").read_text()
    colab = "https://colab.research.google.com/github/someone/deep-lab/blob/"
    links = re.findall(re.escape(colab) + r"([^/]+)/([^)\s]+\.ipynb)", readme)
    assert links and {branch for branch, _ in links} == {"spring"}, links
    assert "git clone --branch spring https://github.com/someone/deep-lab.git" in readme
    lessons = {str(p.relative_to(dest)) for p in (dest / "notebooks").glob("*/*.ipynb")}
    released = {f"assignments/{n}/{n}.ipynb" for n in course.notebook_names()}
    assert {path for _, path in links} == lessons | released  # every lesson and released assignment notebook
    assert all((dest / path).is_file() for path in released)
    for key, spec in course.assignments.items():  # each assignment once, with its title and points
        assert readme.count(f"* **{spec.title}** ({spec.points:g} points") == 1, key
    assert "(9 points, at most 8 count)" in readme  # param_study's counts_at_most
    for track in course.tracks:
        source = "".join(c.source for c in read(dest / "notebooks" / track / "02_softmax.ipynb").cells)
        assert "https://raw.githubusercontent.com/someone/deep-lab/spring/lessons/data/" in source
        assert "{{branch}}" not in source and "/main/" not in source


def test_readme_has_nothing_for_the_instructor(published):
    readme = (published[1] / "README.md").read_text()
    for instructor in (
        "GitHub Pages",
        "Deploy from a branch",
        "/docs",
        "coursekit",
        "course.toml",
        "nbgrader",
    ):
        assert instructor not in readme, instructor


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
        course.root / "gradebook.db"
    ).exists() else (dest / "course_utils" / "cache.db").write_bytes(b"SQLite format 3\x00" + bytes(100))
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


def _plant_in_lesson(dest, text):
    path = dest / "notebooks" / "keras" / "03_convolution.ipynb"
    nb = read(path)
    nb.cells.append(nbformat.v4.new_markdown_cell(text))
    nbformat.write(nb, path)
    return "notebooks/keras/03_convolution.ipynb"


def _plant_in_site(dest, text):
    """An executed output on a site page, as Sphinx writes it."""
    page = dest / "docs" / "lessons" / "05_mnist.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(
        f'<html><body>\n<div class="highlight"><pre><span></span>{text}\n</pre></div>\n</body></html>\n'
    )
    return "docs/lessons/05_mnist.html"


def _site_packages():
    import sysconfig

    return sysconfig.get_paths()["purelib"]


PLANTS = {
    "solution line": lambda d, c: _plant_line(d, c, "solution"),
    "hidden-test line": lambda d, c: _plant_line(d, c, "hidden"),
    "hand-in": _plant_handin,
    "gradebook": _plant_gradebook,
    "assignment source": _plant_source,
    "instructor tool": _plant_tool,
    "gradebook export": _plant_export,
    # traces of the build machine, as executed outputs and pasted notes would leave them
    "home folder": lambda d, c: _plant_in_site(d, f"Downloading to {Path.home()}/.keras/datasets/mnist.npz"),
    "course directory": lambda d, c: _plant_in_lesson(d, f"The data is in `{c.root}/lessons/data`."),
    "site-packages (warning)": lambda d, c: _plant_in_site(
        d, f"{_site_packages()}/keras/src/layers/core/dense.py:93: UserWarning: Do not pass an input_shape"
    ),
    "Python environment": lambda d, c: _plant_in_site(d, f"kernel: {sys.prefix}/bin/python -m ipykernel"),
    "temporary folder": lambda d, c: _plant_in_site(d, f"saved {tempfile.gettempdir()}/kernel-x1/a.png"),
    "published tree's location": lambda d, c: _plant_in_site(d, f"cwd = {d}/notebooks/keras"),
    "coursekit command": lambda d, c: _plant_in_lesson(d, "Run `coursekit execute` on it first."),
    "coursekit, capitalised": lambda d, c: _plant_in_site(d, "made with CourseKit"),
    "benchmarks module": lambda d, c: _plant_in_lesson(d, "`python -m benchmarks.bench_lessons --lessons 5`"),
    "benchmarks script": lambda d, c: _plant_in_site(d, "see Benchmarks/bench_mnist_cnn.py"),
    "benchmarks package run": lambda d, c: _plant_in_lesson(d, "run python -m  benchmarks"),
}
MACHINE = {
    "home folder": "home folder",
    "course directory": "course directory",
    "site-packages (warning)": "site-packages",
    "Python environment": "Python environment",
    "temporary folder": "temporary folder",
    "published tree's location": "published tree",
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
    if kind in MACHINE:  # it says which path, what it is and what to do
        assert leaks[0].line > 0 and "absolute path of the build machine" in leaks[0].what, leaks
        assert MACHINE[kind] in leaks[0].what and "publish again" in leaks[0].what, leaks
    if kind.startswith(("coursekit", "benchmarks")):
        assert leaks[0].line > 0 and "instructor tool" in leaks[0].what, leaks
        assert "say what a student can run instead" in leaks[0].what, leaks


def test_machine_paths_are_absolute_and_longest_first(tmp_path, monkeypatch):
    """A relative $COURSE_DATA_DIR (as the README's examples set it) counts as the folder it names."""
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setenv("COURSE_DATA_DIR", "../shared/data")
    paths = machine_paths(Course.load(ROOT), tmp_path / "out")
    assert "../shared/data" not in paths and os.path.realpath(tmp_path / "shared" / "data") in paths
    assert all(p.startswith("/") for p in paths) and not {"/", "/usr"} & set(paths), paths
    assert list(paths) == sorted(paths, key=len, reverse=True)  # the most specific is named
    assert paths[os.path.realpath(tmp_path / "out")] == "the published tree's own location"


ALLOWED = [  # what must pass: the English word, example paths, paths of no machine in particular
    "Numbers from the course's benchmark notes; benchmarks on a GPU would differ.",
    "export COURSE_DATA_DIR=/path/to/shared/data",
    "#!/usr/bin/env python",
    "https://example.org/root/tmp/index.html and ./tmp/run.png",
]


@pytest.mark.parametrize("text", ALLOWED)
def test_what_students_may_read_passes_the_scan(published, tmp_path, text):
    course, dest = published
    copy = tmp_path / "students"
    shutil.copytree(dest, copy)
    _plant_in_lesson(copy, text)
    _plant_in_site(copy, text)
    assert scan(copy, course) == []


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
