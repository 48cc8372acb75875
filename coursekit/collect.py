"""Collect: hand-ins (a folder or an LMS zip) into nbgrader's ``submitted/<student>/<assignment>/``.

The names understood (ours, Moodle, Canvas, a folder per student) are those of
:mod:`coursekit.handins`; each notebook is checked and repaired at once (:mod:`coursekit.repair`)
and gets nbgrader's ``timestamp.txt``.
"""

from __future__ import annotations

import shutil
from datetime import UTC
from pathlib import Path

from coursekit.nbgrader_cli import assignment_names


def _grade_ids(path: Path) -> list[str]:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
            if "nbgrader" in c.metadata and "grade_id" in c.metadata["nbgrader"]]  # fmt: skip


def check_handin(path: Path, assignment: str, root: Path) -> list[str]:
    """Problems that would stop nbgrader from grading this notebook (empty list: fine)."""
    try:
        ids = _grade_ids(path)
    except Exception as err:  # not JSON, not a notebook
        return [f"cannot read it as a notebook ({type(err).__name__}: {err})"]
    problems = []
    source = root / "assignments" / assignment / f"{assignment}.ipynb"
    missing = [i for i in _grade_ids(source) if i not in ids]
    if missing:
        problems.append(f"cells without their nbgrader metadata (deleted, or re-created by copy and "
                        f"paste): {', '.join(missing)}; nbgrader grades them as missing")  # fmt: skip
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        problems.append(f"duplicated cells {', '.join(twice)}: keep one copy of each, "
                        "or autograde stops for this student")  # fmt: skip
    return problems


LMS_IDS = "lms_ids.csv"  # student data: git-ignored, never published
LMS_FIELDS = ["assignment", "student_id", "lms", "identifier", "user_id", "submission_id", "name"]


def remember_lms_ids(root: Path, handins: list) -> None:
    """Keep the LMS's ids of each collected hand-in in ``lms_ids.csv``, for ``coursekit export``."""
    import csv

    path = root / LMS_IDS
    rows = {}
    if path.exists():
        with open(path, newline="", encoding="utf-8") as f:
            rows = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(f)}
    for h in handins:
        rows[(h.assignment, h.student)] = {"assignment": h.assignment, "student_id": h.student,
                                           **{k: h.lms.get(k, "") for k in LMS_FIELDS[2:]}}  # fmt: skip
    if rows:
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=LMS_FIELDS)
            writer.writeheader()
            writer.writerows(rows[key] for key in sorted(rows))


def plan_collect(handins: Path, assignment: str | None, known: list[str]):
    """``([(student, assignment, notebook, extra files)], errors)`` from a folder of hand-ins.

    The names understood (ours, Moodle, Canvas, a folder per student) are those of
    ``coursekit.handins``; duplicates keep the newest hand-in (see ``handins.plan_folder``).
    """
    from coursekit import handins as lms

    plan = lms.plan_folder(handins, assignment, known)
    found = [(h.student, h.assignment, h.notebook, [p for p, _ in h.extras]) for h in plan.handins]
    return found, plan.errors


def collect(handins: Path, assignment: str | None, root: Path) -> list[str]:
    """Copy hand-ins (a folder or an LMS zip) to ``submitted/<student>/<assignment>/<assignment>.ipynb``."""
    from coursekit import handins as lms

    known = assignment_names(root)
    if assignment and assignment not in known:
        return [f"unknown assignment {assignment!r} (known: {', '.join(known)})"]
    with lms.opened(handins) as (folder, errors):
        if folder is None:
            return errors
        plan = lms.plan_folder(folder, assignment, known)
        errors += plan.errors
        for note in plan.notes:
            print(f"NOTE: {note}")
        remember_lms_ids(root, [h for h in plan.handins if h.lms])
        for h in plan.handins:
            target = root / "submitted" / h.student / h.assignment
            if target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True)
            shutil.copy2(h.notebook, target / f"{h.assignment}.ipynb")
            for extra, name in h.extras:
                shutil.copy2(extra, target / name)
            # when it was handed in (the zip entry's date, else the file's): nbgrader compares
            # it with the due date (`nbgrader db assignment add NAME --duedate=...`)
            (target / "timestamp.txt").write_text(handed_in(h.when))
            status = _collect_status(target / f"{h.assignment}.ipynb", h.assignment, root)
            late = "LATE (Canvas)  " if h.late else ""
            print(f"{h.student:>20} {h.assignment:<24} <- {h.label}  {late}{status}")
    print(f"collected {len(plan.handins)} notebook(s) into {root / 'submitted'}")
    return errors


def handed_in(when: float) -> str:
    """A file time as nbgrader's ``timestamp.txt`` holds it: ``2026-11-25 14:08:07.000000 UTC``."""
    from datetime import datetime

    return datetime.fromtimestamp(when, tz=UTC).strftime("%Y-%m-%d %H:%M:%S.%f %Z")


def _collect_status(notebook: Path, name: str, root: Path) -> str:
    """Repair a collected notebook now, so the instructor sees the problems at once."""
    release = root / "release" / name / f"{name}.ipynb"
    if release.exists():
        from coursekit import repair

        fixed = repair.repair_in_place(notebook, release)
        if not fixed.ok:
            return f"NOT GRADABLE: {fixed.reason}"
        return "REPAIRED: " + "; ".join(fixed.notes) if fixed.notes else "ok"
    problems = check_handin(notebook, name, root)
    return "WARNING: " + "; ".join(problems) if problems else "ok"

