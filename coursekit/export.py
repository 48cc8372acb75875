"""Export: grades back into the LMS the hand-ins came from (``coursekit export <lms> NAME``).

``coursekit collect`` keeps the LMS's own ids of every hand-in it read from an LMS download
(``lms_ids.csv``: Moodle's participant identifier, Canvas' user and submission ids). ``export``
joins them with the gradebook (autograded and manual points) and the cap of course.toml
(``counts_at_most``: 課題4 counts at most 8 of its 9 points) and writes the LMS's import file with
that LMS's plugin (:mod:`coursekit.lms`: Moodle's grading worksheet, Canvas' gradebook CSV).

A hand-in that was not graded (``grading_report.csv``) gets no grade, and the comment says why,
so nothing is uploaded as a silent 0. Nor is a partial grade: while cells still wait for manual
grading (the formgrader), the hand-in gets no grade and the comment names the points pending;
``--pending`` posts the autograded part now, with a comment saying it is partial.

The maximum is the assignment's points without its optional parts (course.toml ``optional``),
which count as extra credit (``extra_credit = true``, the default): a perfect matmul_timing is
16 of 16 without Part C and 21 of 16 with it, never 16 of 21. The grade is nbgrader's score less
its late penalty, capped by ``counts_at_most``; the comment says what was taken off or added.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from coursekit.config import Course
from coursekit.errors import CourseError


def _read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def capped(score: float, course: Course, name: str) -> float:
    """The score that counts: at most the assignment's ``counts_at_most`` of course.toml."""
    cap = course.assignment_of(name).counts_at_most
    return min(score, cap) if cap is not None else score


@dataclass(frozen=True)
class Posted:
    """One hand-in's grade as the LMS gets it."""

    score: float | None  # None: no grade is posted (``note`` says why)
    maximum: float  # the LMS's maximum: without extra-credit points, capped by counts_at_most
    note: str = ""  # what the student's comment adds: why no grade, partial, late penalty, extra credit
    partial: bool = False  # posted while cells still wait for manual grading (--pending)


def _cells(gb, course: Course, name: str) -> dict[str, float]:
    """``{grade_id: points}`` of the assignment's graded cells (the gradebook's, else the source's)."""
    import nbformat
    from nbgrader.api import MissingEntry

    try:
        return {c.name: c.max_score for nb in gb.find_assignment(name).notebooks for c in nb.grade_cells}
    except MissingEntry:
        source = course.root / "assignments" / name / f"{name}.ipynb"
        meta = [c.metadata.get("nbgrader", {}) for c in nbformat.read(source, as_version=4).cells]
        return {m["grade_id"]: float(m.get("points", 0)) for m in meta if m.get("grade")}


def maximum(course: Course, cells: dict[str, float], name: str) -> float:
    """The maximum the LMS gets: every graded cell's points, less the optional ones when they are
    extra credit (course.toml ``optional``, ``extra_credit``), capped by ``counts_at_most``."""
    assignment = course.assignment_of(name)
    unknown = [g for g in assignment.optional if g not in cells]
    if unknown:
        raise CourseError(
            f"course.toml: [assignments.{assignment.key}] optional = {unknown} names no graded "
            f"cell of {name}: write grade_ids of its graded cells {sorted(cells)}"
        )
    total = sum(cells.values())
    if assignment.extra_credit:
        total -= sum(cells[g] for g in assignment.optional)
    return min(total, assignment.counts_at_most) if assignment.counts_at_most is not None else total


def grades(course: Course, name: str, pending: bool, gb) -> tuple[dict[str, Posted], float]:
    """``({student: Posted}, the LMS's maximum)`` from gradebook ``gb`` and grading_report.csv.

    A hand-in with cells still to grade by hand gets no score (with ``pending``: its score so far,
    marked partial), and a note that says how many points wait. The score is nbgrader's, less its
    late penalty, capped by ``counts_at_most``; optional points count as extra credit (above the
    maximum) unless course.toml says ``extra_credit = false``.
    """
    from nbgrader.api import MissingEntry

    assignment = course.assignment_of(name)
    rows = _read(course.root / "grading_report.csv")
    report = {r["student_id"]: r for r in rows if r["assignment"] == name}
    out = {}
    cells = _cells(gb, course, name)
    top = maximum(course, cells, name)
    for student, row in report.items():
        if row["status"] != "graded":
            out[student] = Posted(None, top, f"not graded: {row['reason']}")
            continue
        try:
            submission = gb.find_submission(name, student)
        except MissingEntry:
            out[student] = Posted(None, top, "not graded: no submission in the gradebook")
            continue
        grades_ = [g for nb in submission.notebooks for g in nb.grades]
        waiting = sum(g.max_score for g in grades_ if g.needs_manual_grade)
        if waiting and not pending:
            out[student] = Posted(
                None,
                top,
                f"manual grading pending: {number(waiting)} point(s) to "
                "grade in the formgrader (or export with --pending)",
            )
            continue
        notes = [f"partial: {number(waiting)} point(s) still to be graded by hand"] if waiting else []
        penalty = submission.late_submission_penalty or 0.0
        score = max(0.0, submission.score - penalty)
        if penalty:
            notes.append(f"late penalty of {number(penalty)} point(s) taken off")
        extra = sum(g.score or 0.0 for g in grades_ if g.name in assignment.optional)
        if extra and assignment.extra_credit:
            notes.append(f"includes {number(extra)} extra-credit point(s) of the optional part")
        cap = assignment.counts_at_most
        if cap is not None and score > cap:
            notes.append(f"{number(score)} points earned, at most {number(cap)} count")
        out[student] = Posted(capped(score, course, name), top, "; ".join(notes), partial=bool(waiting))
    return out, top


def number(value: float) -> str:
    """A number of points as the LMS shows it: ``16``, ``7.5``."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def export(
    course: Course,
    lms: str,
    name: str,
    out: Path | None = None,
    column: str | None = None,
    pending: bool = False,
) -> list[str]:
    """Write ``lms_export/<lms>_<name>.csv`` (or ``out``) with LMS ``lms``'s plugin; the problems."""
    from nbgrader.api import Gradebook

    from coursekit import lms as plugins
    from coursekit.grade.gradebook import gradebook_url

    if name not in course.notebook_names():
        return [f"unknown assignment {name!r}; course.toml has {', '.join(course.notebook_names())}"]
    exporter = plugins.plugin(lms).Export(assignment=[name], pending=pending, column=column or "")
    with Gradebook(gradebook_url(course.root)) as gb:
        exporter.write(course, gb, name, out or course.root / "lms_export" / f"{lms}_{name}.csv")
    return []
