"""Build the nbgrader source notebooks and their worked solutions (``coursekit build``).

An assignment is written once, as a percent source ``assignments/<key>.py`` (see
:mod:`coursekit.notebooks`): nbgrader's cell metadata sits in each cell header
(``# %% nbgrader={"grade": true, "grade_id": "...", "points": 2, ...}``), solutions between
``### BEGIN SOLUTION`` / ``### END SOLUTION``, hidden tests between ``### BEGIN HIDDEN TESTS`` /
``### END HIDDEN TESTS`` (every autograded test cell has them: they are *judged* outside the
student's kernel, :mod:`coursekit.grade.judge`), and cells tagged with a track of course.toml go
only into that track's notebook. From it the build writes, per track,

* ``assignments/<name>/<name>.ipynb``: nbgrader's *source* notebook (solutions and hidden
  tests included; ``nbgrader generate_assignment`` makes the students' version from it);
* ``solutions/<name>.ipynb``: the same without solution markers and hidden tests, what a
  perfect student hands in (``coursekit selfcheck`` grades it).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

from coursekit.config import Course
from coursekit.grade import judge
from coursekit.notebooks import SourceError, make_notebook, read_cells, render, sync, track_cells

_HIDDEN = re.compile(r"\n*[ \t]*### BEGIN HIDDEN TESTS\n.*?### END HIDDEN TESTS[ \t]*", re.S)
_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)


def source_of(course: Course, key: str) -> Path:
    return course.root / "assignments" / f"{key}.py"


def source_notebook(course: Course, name: str) -> nbformat.NotebookNode:
    """nbgrader's source notebook ``name`` (one track of its assignment's source)."""
    assignment = course.assignment_of(name)
    cells = read_cells(source_of(course, assignment.key), course.tracks)

    def cell_id(_i: int, j: int, cell) -> str:  # the grade_id where nbgrader has one
        return cell.metadata.get("nbgrader", {}).get("grade_id") or f"{name[:20]}-{j:02d}"

    path = f"assignments/{name}/{name}.ipynb"
    built = track_cells(cells, course, assignment.track_of(name), path, cell_id)
    ids = [c.id for c in built]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise SourceError(
            f"{source_of(course, assignment.key)}: grade_id used twice in {name}: {twice}; "
            "give each nbgrader cell its own grade_id, then run `coursekit build`"
        )
    graded = [c.id for c in built if c.metadata.get("nbgrader", {}).get("grade")]
    unknown = [g for g in assignment.optional if g not in graded]
    if unknown:
        raise SourceError(
            f"course.toml: [assignments.{assignment.key}] optional = {unknown} names no graded "
            f"cell of {name}: write grade_ids of its graded cells, {graded}"
        )
    tests = [c for c in built if c.cell_type == "code" and _is_test(c)]
    unjudged = [c.id for c in tests if judge.split(c.source)[1] is None]
    if unjudged:
        raise SourceError(
            f"{source_of(course, assignment.key)}: test cell(s) {unjudged} of {name} have no "
            "judged part: add the checks that earn the points between ### BEGIN HIDDEN TESTS "
            "and ### END HIDDEN TESTS, written with `student` (coursekit.grade.judge)"
        )
    return make_notebook(built)


def _is_test(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def to_solution(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The source notebook without solution markers and hidden tests."""
    solution = copy.deepcopy(nb)
    for cell in solution.cells:
        text = _HIDDEN.sub("", cell.source)
        cell.source = _MARKER.sub("", text).rstrip("\n")
    return solution


def targets(course: Course) -> dict[Path, str]:
    """Every file the assignment build writes, with its content."""
    files = {}
    for name in course.notebook_names():
        nb = source_notebook(course, name)
        files[course.root / "assignments" / name / f"{name}.ipynb"] = render(nb)
        files[course.root / "solutions" / f"{name}.ipynb"] = render(to_solution(nb))
    return files


def build(course: Course, check: bool = False) -> int:
    """Write (or with ``check`` compare) every assignment's source notebook and solution."""
    missing = [
        f"no source assignments/{key}.py for assignment {key!r} of course.toml"
        for key in course.assignments
        if not source_of(course, key).exists()
    ]
    if missing:
        print(*missing, sep="\n")
        return 1
    expected = targets(course)
    built = set(course.notebook_names())
    orphans = [
        p
        for p in (course.root / "assignments").glob("*/*.ipynb")
        if p.parent.name == p.stem and p.stem not in built
    ]
    orphans += [p for p in (course.root / "solutions").glob("*.ipynb") if p.stem not in built]
    return sync(
        expected,
        orphans,
        root=course.root,
        check=check,
        rebuild="Run `coursekit build` (make assignments) and commit the result.",
    )
