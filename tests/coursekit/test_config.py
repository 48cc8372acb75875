"""course.toml: the one configuration file, and errors that say what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from coursekit.config import Course
from coursekit.errors import CourseError
from tests.helpers import ROOT

MINIMAL = """
[course]
id = "dl"
public_repo = "me/dl-course"
[tracks]
keras = "Keras"
pytorch = "PyTorch"
[assignments.study]
tracks = ["pytorch", "keras"]
points = 9
counts_at_most = 8
"""


def test_this_course_loads():
    course = Course.load(ROOT)
    assert course.id and course.public_repo.count("/") == 1
    assert set(course.tracks) == {"keras", "pytorch"}
    assert "matmul_timing" in course.notebook_names()
    assert course.assignments["param_study"].counts_at_most == 8


def test_tracks_make_one_notebook_each():
    course = Course.from_text(MINIMAL, Path("/c"))
    assert course.notebook_names() == ["study_pytorch", "study_keras"]
    assert course.assignment_of("study_keras").track_of("study_keras") == "keras"
    assert course.install_url == "git+https://github.com/me/dl-course@main"


@pytest.mark.parametrize(
    "text, says",
    [
        ("[course]\nid = 'x'\n", "public_repo"),
        ("[course]\nid = 'x'\npublic_repo = 'no-slash'\n", "owner/name"),
        (MINIMAL.replace('"keras"]', '"jax"]'), "unknown track"),
        (MINIMAL + "\n[grading]\ntimeout = 3\n", "unknown setting `grading.timeout` in [grading]"),
        (
            MINIMAL + "\n[grading]\nkeras_backend = 'jax'\n",
            "`grading.keras_backend` = 'jax' should be one of ['torch', 'tensorflow']",
        ),
        ("[course\n", "not valid TOML"),
        # types: what TOML wrote is checked, never guessed
        (MINIMAL + "\n[grading]\nmemory_gib = '4'\n", "`grading.memory_gib` = '4' should be a number"),
        (MINIMAL + "\n[grading]\nnetwork = 'no'\n", "`grading.network` = 'no' should be true or false"),
        (MINIMAL + "\n[grading]\njobs = -2\n", "`grading.jobs` = -2 should be greater than or equal to 0"),
        (MINIMAL + "\n[grading]\nprocesses = 4.5\n", "`grading.processes` = 4.5 should be a"),
        (MINIMAL + "\n[grading]\nscheduler = 'host:8786'\n", "should be a Dask scheduler's address"),
        (MINIMAL.replace("points = 9", "points = 'nine'"), "`assignments.study.points` = 'nine' should be"),
        (
            MINIMAL.replace('tracks = ["pytorch", "keras"]', 'tracks = "keras"'),
            "`assignments.study.tracks` = 'keras' should be a list",
        ),
        (MINIMAL + "grading = { cell_timeout_s = '60' }\n", "`assignments.study.grading.cell_timeout_s` ="),
        (MINIMAL + "grading = { cell_timout_s = 60 }\n", "unknown setting `assignments.study.grading."),
        (MINIMAL.replace("[assignments.study]", "[assignment.study]"), "unknown setting `assignment`"),
    ],
)
def test_bad_configuration_is_explained(text, says):
    with pytest.raises(CourseError, match=r".*") as err:
        Course.from_text(text, Path("/c"))
    assert says in str(err.value)


def test_found_from_a_subfolder(tmp_path, monkeypatch):
    (tmp_path / "course.toml").write_text(MINIMAL)
    (tmp_path / "a" / "b").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "a" / "b")
    monkeypatch.delenv("COURSEKIT_COURSE", raising=False)
    assert Course.find().root == tmp_path.resolve()


def test_every_error_in_the_file_is_named_at_once():
    text = MINIMAL + "\n[grading]\nmemory_gib = 'x'\nnetwork = 1\n"
    with pytest.raises(CourseError) as err:
        Course.from_text(text, Path("/c"))
    assert "`grading.memory_gib`" in str(err.value) and "`grading.network`" in str(err.value)
    assert str(err.value).startswith("/c/course.toml: ")


def test_an_assignment_limit_overrides_the_course_limit():
    text = MINIMAL + "grading = { memory_gib = 2 }\n[grading]\nmemory_gib = 3\n"
    course = Course.from_text(text, Path("/c"))
    assert course.grading_for("study_keras").memory_gib == 2
    assert course.grading.memory_gib == 3


# ---------------------------------------------------------------- environment variables


@pytest.mark.parametrize("value", ["1", "true", "yes", "on", "0", "false", "no", "off", "", "  TRUE "])
def test_both_packages_read_course_fast_alike(monkeypatch, value):
    """``COURSE_FAST=false`` was fast mode to coursekit and full mode to course_utils."""
    from course_utils.env import flag
    from coursekit.config import environment

    monkeypatch.setenv("COURSE_FAST", value)
    assert environment().fast is flag("COURSE_FAST")


@pytest.mark.parametrize(
    "name, value",
    [
        ("COURSE_FAST", "fast"),
        ("COURSE_GRADING_JOBS", "two"),
        ("COURSE_GRADING_TIMEOUT", "-5"),
        ("COURSE_GRADING_SANDBOX", "off"),
    ],
)
def test_a_bad_environment_variable_is_named_with_the_fix(monkeypatch, name, value):
    from coursekit.config import environment

    monkeypatch.setenv(name, value)
    with pytest.raises(CourseError) as err:
        environment()
    assert str(err.value).startswith(f"{name}={value!r} is not ") and "or unset it" in str(err.value)


def test_course_utils_refuses_an_unknown_switch(monkeypatch):
    from course_utils.env import fast_mode

    monkeypatch.setenv("COURSE_FAST", "fast")
    with pytest.raises(ValueError, match="COURSE_FAST must be 1 or 0"):
        fast_mode()


def _environment_reads(source: str) -> list[int]:
    """Lines of ``source`` that read an environment variable (writes are allowed: a process sets
    what it hands to the processes it starts)."""
    import ast

    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(a.name in ("environ", "getenv", "environb") for a in node.names)
        ):
            lines.append(node.lineno)
        if not (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb")):
            continue
        parent = parents.get(node)
        if isinstance(parent, ast.Subscript) and isinstance(parent.ctx, ast.Store | ast.Del):
            continue  # os.environ[X] = ... / del os.environ[X]
        if isinstance(parent, ast.Attribute) and parent.attr in ("update", "clear"):
            continue  # os.environ.update(...) / .clear(): writes
        lines.append(node.lineno)
    return sorted(lines)


def test_the_environment_read_check_can_fail():
    assert _environment_reads("import os\nx = os.environ.get('A')\ny = os.getenv('B')\n") == [2, 3]
    assert _environment_reads("import os\nif 'A' in os.environ: pass\nz = dict(os.environ)\n") == [2, 3]
    assert _environment_reads("from os import environ\n") == [1]
    assert _environment_reads("import os\nos.environ['A'] = '1'\nos.environ.update(B='2')\n") == []


def test_only_the_configuration_modules_read_environment_variables():
    """coursekit reads them in coursekit/config.py, course_utils in course_utils/env.py: nowhere else."""
    allowed = {ROOT / "coursekit" / "config.py", ROOT / "course_utils" / "env.py"}
    found = []
    modules = [*ROOT.joinpath("coursekit").rglob("*.py"), *ROOT.joinpath("course_utils").rglob("*.py")]
    for path in sorted([*modules, ROOT / "nbgrader_config.py"]):
        if path in allowed:
            continue
        lines = _environment_reads(path.read_text(encoding="utf-8"))
        found += [f"{path.relative_to(ROOT)}:{n}" for n in lines]
    assert not found, f"environment variables read outside the configuration modules: {found}"
