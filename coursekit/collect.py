"""Collect: hand-ins (a folder or an LMS zip) into nbgrader's ``submitted/<student>/<assignment>/``.

The names understood (ours, Moodle, Canvas, a folder per student) are those of
:mod:`coursekit.handins`; each notebook is checked and repaired at once (:mod:`coursekit.repair`)
and gets nbgrader's ``timestamp.txt``. Hand-in files are data: only plain regular files are
copied (:mod:`coursekit.plainfiles`); links, FIFOs, devices and hard links are named, never followed.
"""

from __future__ import annotations

import shutil
from datetime import UTC
from pathlib import Path

from coursekit import plainfiles
from coursekit.nbgrader_cli import assignment_names


def _grade_ids(path: Path) -> list[str]:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return [
        c.metadata["nbgrader"]["grade_id"]
        for c in nb.cells
        if "nbgrader" in c.metadata and "grade_id" in c.metadata["nbgrader"]
    ]


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
        problems.append(
            f"cells without their nbgrader metadata (deleted, or re-created by copy and "
            f"paste): {', '.join(missing)}; nbgrader grades them as missing"
        )
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        problems.append(
            f"duplicated cells {', '.join(twice)}: keep one copy of each, or autograde stops for this student"
        )
    return problems


LMS_IDS = "lms_ids.csv"  # student data: git-ignored, never published


def read_lms_ids(root: Path) -> list[dict[str, str]]:
    """The rows of ``lms_ids.csv``: assignment, student_id, lms and that LMS's own ids."""
    import csv

    path = root / LMS_IDS
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def remember_lms_ids(root: Path, handins: list) -> None:
    """Keep the LMS's ids of each collected hand-in in ``lms_ids.csv``, for ``coursekit export``
    (the columns: assignment, student_id, then whatever the LMS plugins return)."""
    import csv

    rows = {(r["assignment"], r["student_id"]): r for r in read_lms_ids(root)}
    for h in handins:
        rows[(h.assignment, h.student)] = {"assignment": h.assignment, "student_id": h.student, **h.lms}
    if rows:
        fields = ["assignment", "student_id", "lms"]
        fields += sorted({k for r in rows.values() for k in r} - set(fields))
        with open(root / LMS_IDS, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=fields, restval="")
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
        collected = 0
        for h in plan.handins:
            target = _fresh_target(root, h.student, h.assignment)
            problem = plainfiles.copy_file(h.notebook, target / f"{h.assignment}.ipynb")
            if problem:  # it changed since it was listed
                shutil.rmtree(target)
                errors.append(f"{h.label}: not collected: {problem}")
                continue
            for extra, name in h.extras:
                if problem := plainfiles.copy_file(extra, target / name):
                    errors.append(f"{extra.name}: not collected: {problem}")
            # when it was handed in (the zip entry's date, else the file's): nbgrader compares
            # it with the due date (`nbgrader db assignment add NAME --duedate=...`)
            (target / "timestamp.txt").write_text(handed_in(h.when))
            status = _collect_status(target / f"{h.assignment}.ipynb", h.assignment, root)
            late = "LATE (Canvas)  " if h.late else ""
            print(f"{h.student:>20} {h.assignment:<24} <- {h.label}  {late}{status}")
            collected += 1
    print(f"collected {collected} notebook(s) into {root / 'submitted'}")
    return errors


def _fresh_target(root: Path, student: str, assignment: str) -> Path:
    """An empty ``submitted/<student>/<assignment>/``; a link found on the way is removed, never
    followed (``rmtree`` through a linked student folder would delete what it points to)."""
    folder = root / "submitted" / student
    target = folder / assignment
    for path in (folder, target):
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            path.unlink()
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    return target


def clean_submitted(root: Path, student: str, name: str) -> tuple[str | None, list[str]]:
    """Make ``submitted/<student>/<name>/`` plain files only, before nbgrader (as root) copies it.

    Returns ``(reason, notes)``: the reason this hand-in cannot be graded (its notebook or its
    folder is a link, a FIFO, a hard link...; nothing is read through it), else None, and notes
    naming what was removed from the folder (links, special files, hard links, ``.git``).
    """
    again = "hand-ins are read as plain files only: collect the student's own file again (coursekit collect)"
    folder = root / "submitted" / student / name
    for path in (folder.parent, folder, folder / f"{name}.ipynb"):
        try:
            problem = plainfiles.why_not(path)
        except OSError as err:
            return f"{path.relative_to(root)}: {err.strerror}", []
        if problem:
            return f"{path.relative_to(root)} is {problem} ({again})", []
    removed = plainfiles.clean_tree(folder)
    if not removed:
        return None, []
    return None, ["removed before grading (not plain files): " + ", ".join(map(str, removed))]


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
