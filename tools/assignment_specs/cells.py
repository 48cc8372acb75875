"""Cell constructors carrying nbgrader metadata (schema version 3).

Kinds of cells, as nbgrader names them:

* ``md`` / ``code``: ordinary cells; ``locked=True`` makes them read-only for students.
* ``answer``: autograded answer, a code cell with ``### BEGIN SOLUTION`` regions that
  ``nbgrader generate_assignment`` replaces by ``raise NotImplementedError()``.
* ``tests``: autograder tests (locked, worth ``points``); ``hidden=`` code is wrapped in
  ``### BEGIN HIDDEN TESTS`` and removed from the student version.
* ``manual_md`` / ``manual_code``: manually graded answers (a written discussion, a plot).
"""

from __future__ import annotations

import textwrap

from build_notebooks import COLAB_REPO  # the one place that names the public repository

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}

# First lines of every setup cell: on Colab, install the course helpers (course_utils).
COLAB_INSTALL = f"""
import sys

if "google.colab" in sys.modules:  # on Colab: install the course helpers first
    %pip install -q "git+https://github.com/{COLAB_REPO}"
"""


def _src(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def _cell(cell_type: str, source: str, nbgrader: dict | None, cell_id: str | None) -> dict:
    meta: dict = {}
    if nbgrader is not None:
        meta["nbgrader"] = {"schema_version": 3, **nbgrader}
        if nbgrader.get("locked") or (nbgrader.get("grade") and not nbgrader.get("solution")):
            meta["deletable"] = False
            meta["editable"] = False
    cell = {"cell_type": cell_type, "metadata": meta, "source": _src(source), "_id": cell_id}
    if cell_type == "code":
        cell["outputs"] = []
        cell["execution_count"] = None
    return cell


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def md(text: str, grade_id: str | None = None) -> dict:
    """Read-only markdown (instructions). ``grade_id`` makes it locked in nbgrader."""
    nb = _meta(grade_id, grade=False, solution=False, locked=True) if grade_id else None
    return _cell("markdown", text, nb, grade_id)


def code(text: str, grade_id: str | None = None) -> dict:
    """Given code; with ``grade_id`` locked (students cannot edit it)."""
    nb = _meta(grade_id, grade=False, solution=False, locked=True) if grade_id else None
    return _cell("code", text, nb, grade_id)


def answer(grade_id: str, text: str) -> dict:
    """Autograded answer: code with ``### BEGIN SOLUTION`` / ``### END SOLUTION`` regions."""
    return _cell("code", text, _meta(grade_id, grade=False, solution=True, locked=False), grade_id)


def tests(grade_id: str, points: float, visible: str, hidden: str = "") -> dict:
    """Autograder tests worth ``points``; ``hidden`` is removed from the student version."""
    source = _src(visible)
    if hidden:
        source += "\n\n### BEGIN HIDDEN TESTS\n" + _src(hidden) + "\n### END HIDDEN TESTS"
    meta = _meta(grade_id, grade=True, solution=False, locked=True, points=points)
    return _cell("code", source, meta, grade_id)


def manual_md(grade_id: str, points: float, solution: str) -> dict:
    """Manually graded written answer; the model answer becomes "YOUR ANSWER HERE"."""
    meta = _meta(grade_id, grade=True, solution=True, locked=False, points=points)
    return _cell("markdown", solution, meta, grade_id)


def manual_code(grade_id: str, points: float, solution: str) -> dict:
    """Manually graded code (a plot): the grader looks at the output."""
    meta = _meta(grade_id, grade=True, solution=True, locked=False, points=points)
    return _cell("code", solution, meta, grade_id)
