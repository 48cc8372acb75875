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


@pytest.mark.parametrize("text, says", [
    ("[course]\nid = 'x'\n", "public_repo"),
    ("[course]\nid = 'x'\npublic_repo = 'no-slash'\n", "owner/name"),
    (MINIMAL.replace('"keras"]', '"jax"]'), "unknown track"),
    (MINIMAL + "\n[grading]\ntimeout = 3\n", "unknown [grading]"),
    (MINIMAL + "\n[grading]\nkeras_backend = 'jax'\n", "must be one of ['torch', 'tensorflow']"),
    ("[course\n", "not valid TOML"),
])  # fmt: skip
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
