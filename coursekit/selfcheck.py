"""Selfcheck: autograde the worked solutions in a scratch copy of the course; every test must pass.

Proves, before students see an assignment, that its tests accept the reference answers when
run the way grading runs them (released notebook, repair, sandbox, fast mode).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from coursekit.config import Course
from coursekit.grade.gradebook import ENV as GRADEBOOK_ENV

# What a course directory is made of (no tools: coursekit is an installed package).
COURSE_FILES = ("course.toml", "nbgrader_config.py", "assignments", "solutions", "lessons", "notebooks",
                "course_utils", "pyproject.toml", "LICENSE")


def copy_course(root: Path, target: Path) -> Path:
    """A scratch course directory: configuration, sources, solutions and student material of ``root``."""
    target.mkdir(parents=True, exist_ok=True)
    for name in COURSE_FILES:
        if (root / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
            shutil.copytree(root / name, target / name, ignore=ignore)
        else:
            shutil.copy2(root / name, target / name)
    return target


@contextlib.contextmanager
def _scratch_gradebook() -> Iterator[None]:
    """Grade into the scratch course's SQLite file, not a gradebook server of the real course."""
    saved = os.environ.pop(GRADEBOOK_ENV, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[GRADEBOOK_ENV] = saved


def _report(root: Path) -> dict[str, dict]:
    """The scratch course's grading_report.csv rows of the reference hand-in, by assignment."""
    import csv

    path = root / "grading_report.csv"
    if not path.exists():
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        return {r["assignment"]: r for r in csv.DictReader(f) if r["student_id"] == "reference"}


def _errors(notebook: Path, grade_ids: list[str]) -> str:
    """The first error message of each failing test cell, and the first error before them."""
    import nbformat

    from coursekit.grade.diagnose import explain

    if not notebook.exists():
        return "no graded notebook"
    messages = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "?")
                messages.append(f"{gid}: {out.get('ename')}: {str(out.get('evalue'))[:200]}")
                break
    if not messages:
        return "no error output"
    return f"first error {messages[0]}; {explain(messages[0])}"


def selfcheck(course: Course, names: list[str], jobs: int = 1) -> list[str]:
    """Release, hand in and autograde each worked solution in a scratch copy of ``course``."""
    from contextlib import redirect_stdout
    from io import StringIO

    from nbgrader.api import Gradebook

    from coursekit.collect import collect
    from coursekit.grade.batch import FALLBACK_NOTE, grade
    from coursekit.release import release

    names = names or course.notebook_names()
    failed = []
    log = StringIO()
    with tempfile.TemporaryDirectory(prefix="course-selfcheck-") as tmp, _scratch_gradebook():
        scratch = Course.load(copy_course(course.root, Path(tmp) / "course"))
        handins = Path(tmp) / "handins"
        handins.mkdir()
        with redirect_stdout(log):
            for name in names:
                if release(scratch, [name]):
                    failed.append(f"{name}: generate_assignment failed")
                    continue
                solution = scratch.root / "solutions" / f"{name}.ipynb"
                shutil.copy(solution, handins / f"reference__{name}.ipynb")
            failed += collect(handins, None, scratch.root)
            started = time.perf_counter()
            grade(names, scratch.root, jobs=jobs)
            seconds = time.perf_counter() - started
        report = _report(scratch.root)
        with Gradebook(f"sqlite:///{scratch.root / 'gradebook.db'}") as gb:
            for name in names:
                row = report.get(name, {})
                if row.get("status") != "graded":
                    reason = row.get("reason") or "no row in grading_report.csv"
                    failed.append(f"{name}: the worked solution was not graded: {reason}")
                    continue
                fallback = next((n for n in row.get("notes", "").split("; ")
                                 if n.startswith(FALLBACK_NOTE)), None)  # fmt: skip
                if fallback:
                    failed.append(f"{name}: the worked solution does not run on Keras's PyTorch backend, so "
                                  f"every hand-in would be executed twice ({fallback}). Make the notebook's "
                                  f"Keras code backend-neutral (keras.ops.convert_to_numpy instead of "
                                  f"np.asarray on a model's output), or set keras_backend = \"tensorflow\" "
                                  f"in course.toml's [grading].")  # fmt: skip
                    continue
                nb = gb.find_submission_notebook(name, name, "reference")
                lost = [g.name for g in nb.grades if g.auto_score is not None and g.auto_score < g.max_score]
                auto = sum(g.auto_score for g in nb.grades if g.auto_score is not None)
                print(f"{name:<24} worked solution: {auto:g} autograded points, "
                      f"{'all tests pass' if not lost else 'FAILED: ' + ', '.join(lost)}")  # fmt: skip
                if lost:
                    errors = _errors(scratch.root / "autograded" / "reference" / name / f"{name}.ipynb", lost)
                    failed.append(f"{name}: the worked solution fails {', '.join(lost)} ({errors})")
        print(f"{len(names)} worked solution(s) autograded in {seconds:.0f} s")
        if failed:
            print(log.getvalue()[-4000:])
    return failed
