"""Export: grades back into the LMS the hand-ins came from (``coursekit export moodle|canvas NAME``).

``coursekit collect`` keeps the LMS's own ids of every hand-in it read from a Moodle or Canvas zip
(``lms_ids.csv``: Moodle's participant identifier, Canvas' user and submission ids). ``export``
joins them with the gradebook (autograded and manual points) and the cap of course.toml
(``counts_at_most``: 課題4 counts at most 8 of its 9 points) and writes

* for **Moodle**, the assignment's *grading worksheet* (Assignment → View all submissions →
  Grading action "Upload grading worksheet", with offline grading worksheets enabled): the
  ``Identifier`` column (``Participant 123456``) is how Moodle matches a row, ``Grade`` is the
  grade, ``Feedback comments`` goes to the student;
* for **Canvas**, a *gradebook import* CSV (Grades → Import): ``Student``, ``ID`` (Canvas' user id,
  how Canvas matches a row), ``SIS User ID``, ``SIS Login ID``, ``Section`` and one column named
  ``<assignment> (<Canvas assignment id>)``; its second row, ``Points Possible``, is read-only
  for Canvas.

A hand-in that was not graded (``grading_report.csv``) gets no grade, and the comment says why,
so nothing is uploaded as a silent 0. Nor is a partial grade: while cells still wait for manual
grading (the formgrader), the hand-in gets no grade and the comment names the points pending;
``--pending`` posts the autograded part now, with a comment saying it is partial.
"""

from __future__ import annotations

import csv
from pathlib import Path

from coursekit.collect import LMS_IDS
from coursekit.config import Course

MOODLE_HEADER = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                 "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
                 "Feedback comments"]  # fmt: skip
CANVAS_FIXED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def _read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def capped(score: float, course: Course, name: str) -> float:
    """The score that counts: at most the assignment's ``counts_at_most`` of course.toml."""
    cap = course.assignment_of(name).counts_at_most
    return min(score, cap) if cap is not None else score


def grades(course: Course, name: str, pending: bool = False) -> dict[str, tuple[float | None, float, str]]:
    """``{student: (score or None, max, note)}`` from the gradebook and grading_report.csv.

    A hand-in with cells still to grade by hand gets ``None`` (with ``pending``: its score so far),
    and a note that says how many points wait.
    """
    from nbgrader.api import Gradebook, MissingEntry

    from coursekit.grade.gradebook import gradebook_url

    rows = _read(course.root / "grading_report.csv")
    report = {r["student_id"]: r for r in rows if r["assignment"] == name}
    out = {}
    with Gradebook(gradebook_url(course.root)) as gb:
        try:
            maximum = gb.find_assignment(name).max_score
        except MissingEntry:
            maximum = course.assignment_of(name).points
        for student, row in report.items():
            if row["status"] != "graded":
                out[student] = (None, maximum, f"not graded: {row['reason']}")
                continue
            try:
                submission = gb.find_submission(name, student)
                waiting = sum(g.max_score for nb in submission.notebooks for g in nb.grades
                              if g.needs_manual_grade)  # fmt: skip
                if not waiting:
                    out[student] = (submission.score, maximum, "")
                elif pending:
                    out[student] = (submission.score, maximum, f"partial: {_number(waiting)} point(s) "
                                    "still to be graded by hand")  # fmt: skip
                else:
                    out[student] = (None, maximum, f"manual grading pending: {_number(waiting)} point(s) to "
                                    "grade in the formgrader (or export with --pending)")  # fmt: skip
            except MissingEntry:
                out[student] = (None, maximum, "not graded: no submission in the gradebook")
    return out


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def export(course: Course, lms: str, name: str, out: Path | None = None,
           canvas_column: str | None = None, pending: bool = False) -> list[str]:  # fmt: skip
    """Write ``lms_export/<lms>_<name>.csv`` (or ``out``); the problems, if any."""
    if name not in course.notebook_names():
        return [f"unknown assignment {name!r}; course.toml has {', '.join(course.notebook_names())}"]
    ids = [r for r in _read(course.root / LMS_IDS) if r["assignment"] == name and r["lms"] == lms]
    if not ids:
        return [f"no {lms} hand-ins of {name} were collected (lms_ids.csv): collect the {lms} zip with "
                f"`coursekit collect ZIP --assignment {name}` first"]  # fmt: skip
    scores = grades(course, name, pending)
    cap = course.assignment_of(name).counts_at_most
    out = out or course.root / "lms_export" / f"{lms}_{name}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    missing = []
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        if lms == "moodle":
            writer.writerow(MOODLE_HEADER)
        else:
            column = canvas_column or f"{name}"
            writer.writerow([*CANVAS_FIXED, column])
            top = next(iter(scores.values()), (None, course.assignment_of(name).points, ""))[1]
            writer.writerow(["Points Possible", "", "", "", "", _number(min(top, cap) if cap else top)])
        for row in ids:
            absent = (None, 0.0, "not graded: not in grading_report.csv")
            score, maximum, why = scores.get(row["student_id"], absent)
            shown = "" if score is None else _number(capped(score, course, name))
            if score is None:
                missing.append(f"{row['student_id']}: {why}")
            if lms == "moodle":
                counted = _number(min(maximum, cap) if cap else maximum)
                comment = f"{shown} of {counted} points" + (f" ({why})" if why and score is not None else "")
                writer.writerow([row["identifier"], row["name"], "", "", shown, counted, "Yes", "", "",
                                 comment if score is not None else why])  # fmt: skip
            else:
                writer.writerow([row["name"], row["user_id"], "", row["name"], "", shown])
    posted = [(r["student_id"], scores.get(r["student_id"], (None, 0.0, ""))) for r in ids]
    partial = [f"{student}: {note}" for student, (score, _, note) in posted if score is not None and note]
    print(f"wrote {out} ({len(ids)} student(s); {len(missing)} without a grade, {len(partial)} partial)")
    for line in missing:
        print(f"  no grade: {line}")
    for line in partial:
        print(f"  PARTIAL grade posted: {line}")
    return []
