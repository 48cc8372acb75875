"""The instructor's one command, and the rule that nothing joins modules by paths (import cycles:
test_imports)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import KIT, ROOT, kit, scratch_course

SUBCOMMANDS = (
    "build",
    "check",
    "execute",
    "release",
    "collect",
    "grade",
    "feedback",
    "selfcheck",
    "publish",
    "doctor",
    "export",
    "site",
)


def test_help_lists_every_subcommand():
    result = subprocess.run([*KIT, "--help"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    for name in SUBCOMMANDS:
        assert re.search(rf"^\s+{name}\s", result.stdout, re.M), f"{name} missing from --help"


def test_console_script_is_installed():
    import shutil

    script = Path(sys.executable).with_name("coursekit")
    assert script.exists() or shutil.which("coursekit"), "pip install -e . installs the `coursekit` command"


def test_outside_a_course_says_what_to_do(tmp_path):
    result = subprocess.run(
        [*KIT, "check"], capture_output=True, text=True, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"}
    )
    assert result.returncode == 2
    assert "course.toml" in result.stderr and "--course" in result.stderr
    assert "Traceback" not in result.stderr


def _bad_source(root: Path) -> Path:
    """Lesson 01 of the scratch course ``root`` with a cell tagged for a track course.toml does not have."""
    source = root / "lessons" / "01_perceptron.py"
    text = source.read_text(encoding="utf-8")
    assert '# %% tags=["keras"]' in text
    source.write_text(text.replace('# %% tags=["keras"]', '# %% tags=["jax"]', 1))
    return source


def _said(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def test_a_bad_source_is_one_line_without_traceback(tmp_path):
    """A SourceError (a CourseError): one ``coursekit: error:`` line naming the file and the fix; status 2."""
    root = scratch_course(tmp_path / "course")
    source = _bad_source(root)
    result = kit(root, "build")
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert len(_said(result)) == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    line = _said(result)[0]
    assert line.startswith(f"coursekit: error: {source}: cell "), line
    assert "unknown tag(s) ['jax']" in line and "use a track of course.toml" in line, line


@pytest.mark.parametrize("command", ["release", "selfcheck"])
def test_a_duplicate_grade_id_is_one_line_without_traceback(tmp_path, command):
    """``python -m coursekit.cli``: a grade_id used twice is one line naming the course's source (not the
    selfcheck's scratch copy, which is removed) and what to do; nothing released."""
    import os

    root = scratch_course(tmp_path / "course")
    source = root / "assignments" / "matmul_timing.py"
    text = source.read_text(encoding="utf-8")
    assert '"grade_id": "test_pure_python"' in text
    source.write_text(text.replace('"grade_id": "test_pure_python"', '"grade_id": "test_matmul"'))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "coursekit.cli", command, "matmul_timing"],
        cwd=root,
        env={**os.environ, "TMPDIR": str(scratch)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert _said(result) == [
        f"coursekit: error: {source}: grade_id used twice in matmul_timing: "
        "['test_matmul']; give each nbgrader cell its own grade_id, then run "
        "`coursekit build`"
    ], result.stderr
    assert not (root / "release").exists(), "nothing released"
    assert not list(scratch.iterdir()), "no scratch course left behind"


@pytest.mark.parametrize("where", ["before", "after"], ids=["--debug build", "build --debug"])
def test_debug_shows_the_traceback(tmp_path, where):
    """``--debug`` (before or after the subcommand): the traceback, then the same line; the same status."""
    root = scratch_course(tmp_path / "course")
    _bad_source(root)
    result = kit(root, *(["--debug", "build"] if where == "before" else ["build", "--debug"]))
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback (most recent call last)" in result.stderr, result.stderr[-3000:]
    assert "coursekit.notebooks.SourceError: " in result.stderr, result.stderr[-3000:]
    last = _said(result)[-1]
    assert last.startswith("coursekit: error: ") and "unknown tag(s) ['jax']" in last, last


@pytest.mark.parametrize("value", ["two", "-1"])
def test_a_bad_grading_jobs_variable_is_one_line(tmp_path, value):
    """``COURSE_GRADING_JOBS`` that is not a count of jobs: one line naming it and the fix, nothing graded."""
    import os

    root = scratch_course(tmp_path / "course")
    result = subprocess.run(
        [*KIT, "grade", "matmul_timing"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "COURSE_GRADING_JOBS": value},
        timeout=600,
    )
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert len(_said(result)) == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert _said(result)[0].startswith(f"coursekit: error: COURSE_GRADING_JOBS={value!r} "), result.stderr
    assert "unset it" in result.stderr and "canary" not in result.stdout


def test_no_path_hacks_anywhere():
    """Modules are imported by name: no edits of the import path, no loading files by path."""
    # what `grep -rn` for the import path would find; the pattern is built so that it does not match itself
    banned = re.compile("|".join(["sys" + r"\.path", "spec_from_" + "file_location"]))
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in {"_build", "build"} or rel.parts[0].startswith(".") or path.resolve() == __file__:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if banned.search(line):
                offenders.append(f"{rel}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
