"""The instructor's nbgrader workflow, one subcommand per step (see the README, "Instructors").

    python tools/grading.py assignments [NAME ...]    # sources + solutions, then release/
    python tools/grading.py collect HANDINS [--assignment NAME]
    python tools/grading.py grade [NAME ...]          # autograde, feedback, grades.csv
    python tools/grading.py grade --feedback-only     # after manual grading: feedback, grades.csv

A thin layer over the nbgrader command line, run in the course directory (the repository
root, where nbgrader_config.py is). Every step goes on after a failing student or
assignment and reports all failures at the end (exit status 1).

``grade`` handles each submission on its own (``grade_one``):

1. ``repair.py`` checks and repairs the notebook against ``release/`` (not JSON, not a
   notebook, the wrong notebook: "not graded"; duplicated, stripped or altered nbgrader
   metadata and deleted cells: repaired, the original kept as ``*.ipynb.orig``);
2. ``nbgrader autograde <assignment> --student <id>``, executed by
   ``grading_execute.GuardedExecute`` (tamper guard before each test cell; a dead kernel is
   reported with its cell, as "not graded", never as 0 points);
3. ``grading_checks.py``: rules read from the source with ``ast`` (the import rule of
   matmul_timing Part A) withhold points in the gradebook, with a comment.

Besides nbgrader's grades.csv it writes ``grading_report.csv``: one row per (student,
assignment) with status (graded / not graded), reason, score, max_score and notes (what was
repaired or undone), so a 0 and a hand-in that could not be graded look different. The logs
of each autograde run are in ``grading_logs/``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # repair, grading_checks
NBGRADER = str(Path(sys.executable).with_name("nbgrader"))
SEP = "__"  # <student_id>__<assignment>.ipynb
_STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def assignment_names(root: Path = ROOT) -> list[str]:
    """Assignments with a source notebook ``assignments/<name>/<name>.ipynb``."""
    return sorted(p.parent.name for p in (root / "assignments").glob("*/*.ipynb") if p.stem == p.parent.name)


def nbgrader(*args: str, root: Path = ROOT) -> bool:
    """Run one nbgrader command in the course directory; True when it succeeded."""
    print("$ nbgrader", " ".join(args), flush=True)
    # nbgrader runs `alembic` (database migrations) from PATH: put the venv's bin/ first,
    # so this also works without an activated virtual environment.
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(NBGRADER).parent), os.environ.get("PATH", "")]))
    return subprocess.run([NBGRADER, *args], cwd=root, env=env).returncode == 0


# ------------------------------------------------------------------------ assignments


def cmd_assignments(names: list[str], root: Path = ROOT) -> list[str]:
    """Rewrite sources and solutions from tools/assignment_specs, then release student versions."""
    if subprocess.run([sys.executable, str(root / "tools" / "make_assignments.py")], cwd=root).returncode:
        return ["make_assignments.py"]
    failed = []
    for name in names or assignment_names(root):
        if not nbgrader("generate_assignment", name, "--force", root=root):
            failed.append(name)
    return failed


# ---------------------------------------------------------------------------- collect


def _grade_ids(path: Path) -> list[str]:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
            if "nbgrader" in c.metadata and "grade_id" in c.metadata["nbgrader"]]  # fmt: skip


def check_handin(path: Path, assignment: str, root: Path = ROOT) -> list[str]:
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


def plan_collect(handins: Path, assignment: str | None, known: list[str]):
    """``[(student, assignment, notebook, extra files)]`` from a folder of hand-ins.

    Accepted layouts (see the README, "Instructors"):
    ``<student>__<assignment>.ipynb`` (plus ``<student>__<assignment>__<file>`` data files),
    ``<student>.ipynb`` with ``assignment`` given, or one folder per student
    ``<student>/<anything>.ipynb`` (plus data files) with ``assignment`` given.
    """
    plan, errors = [], []
    for entry in sorted(handins.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            notebooks = sorted(entry.glob("*.ipynb"))
            if not assignment:
                errors.append(f"{entry.name}/: a folder per student needs ASSIGNMENT=<name>")
            elif len(notebooks) != 1:
                errors.append(f"{entry.name}/: expected exactly one .ipynb, found {len(notebooks)}")
            else:
                extras = [p for p in entry.iterdir() if p.is_file() and p != notebooks[0]]
                plan.append((entry.name, assignment, notebooks[0], extras))
            continue
        if entry.suffix != ".ipynb":
            continue  # data files are picked up with their notebook below
        if SEP in entry.stem:
            student, name = entry.stem.split(SEP, 1)
        elif assignment:
            student, name = entry.stem, assignment
        else:
            errors.append(f"{entry.name}: name it <student_id>{SEP}<assignment>.ipynb "
                          "or pass ASSIGNMENT=<name>")
            continue
        if name not in known:
            errors.append(f"{entry.name}: unknown assignment {name!r} (known: {', '.join(known)})")
            continue
        extras = [p for p in handins.glob(f"{student}{SEP}{name}{SEP}*") if p.is_file()]
        plan.append((student, name, entry, extras))
    for student, _, notebook, _ in plan:
        if not _STUDENT_ID.match(student):
            errors.append(f"{notebook.name}: student id {student!r} may contain only letters, digits, . _ -")
    return plan, errors


def cmd_collect(handins: Path, assignment: str | None, root: Path = ROOT) -> list[str]:
    """Copy hand-ins to ``submitted/<student>/<assignment>/<assignment>.ipynb``."""
    known = assignment_names(root)
    if assignment and assignment not in known:
        return [f"unknown assignment {assignment!r} (known: {', '.join(known)})"]
    if not handins.is_dir():
        return [f"HANDINS={handins} is not a folder"]
    plan, errors = plan_collect(handins, assignment, known)
    for student, name, notebook, extras in plan:
        if any(e.startswith(notebook.name) for e in errors):
            continue
        target = root / "submitted" / student / name
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        shutil.copy2(notebook, target / f"{name}.ipynb")
        for extra in extras:
            shutil.copy2(extra, target / extra.name.split(SEP)[-1])
        release = root / "release" / name / f"{name}.ipynb"
        if release.exists():  # repair now, so the instructor sees the problems at once
            import repair

            fixed = repair.repair_in_place(target / f"{name}.ipynb", release)
            if not fixed.ok:
                status = f"NOT GRADABLE: {fixed.reason}"
            else:
                status = "REPAIRED: " + "; ".join(fixed.notes) if fixed.notes else "ok"
        else:
            problems = check_handin(target / f"{name}.ipynb", name, root)
            status = "WARNING: " + "; ".join(problems) if problems else "ok"
        print(f"{student:>20} {name:<24} <- {notebook.name}  {status}")
    print(f"collected {len(plan)} notebook(s) into {root / 'submitted'}")
    return errors


# ------------------------------------------------------------------------------ grade


REPORT_FIELDS = ["student_id", "assignment", "status", "reason", "score", "max_score", "notes"]


def _submitted_students(name: str, root: Path) -> list[str]:
    return sorted(p.parent.parent.name for p in (root / "submitted").glob(f"*/{name}/{name}.ipynb"))


def _events(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _forget(name: str, student: str, root: Path) -> None:
    """Remove an earlier grade of this submission: a not-graded hand-in must not keep an old score."""
    from nbgrader.api import Gradebook, MissingEntry

    for folder in ("autograded", "feedback"):
        shutil.rmtree(root / folder / student / name, ignore_errors=True)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        try:
            gb.remove_submission(name, student)
        except MissingEntry:
            pass


def _timeouts(name: str, student: str, root: Path) -> list[str]:
    import nbformat

    path = root / "autograded" / student / name / f"{name}.ipynb"
    if not path.exists():
        return []
    nb = nbformat.read(path, as_version=4)
    return [f"cell {i + 1} ran out of time (CellTimeoutError): its tests lost their points"
            for i, c in enumerate(nb.cells) if c.cell_type == "code"
            and any(o.get("ename") == "CellTimeoutError" for o in c.get("outputs", []))]  # fmt: skip


def _scores(name: str, student: str, root: Path) -> tuple[float | None, float]:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        try:
            sub = gb.find_submission(name, student)
            return sub.score, sub.max_score
        except MissingEntry:
            try:
                return None, gb.find_assignment(name).max_score
            except MissingEntry:
                return None, float("nan")


def grade_one(name: str, student: str, root: Path = ROOT) -> dict:
    """Repair, autograde and check one submission; a row of grading_report.csv."""
    import grading_checks
    import repair

    row = {"student_id": student, "assignment": name, "status": "not graded", "reason": "",
           "score": "", "max_score": "", "notes": ""}  # fmt: skip
    notebook = root / "submitted" / student / name / f"{name}.ipynb"
    fixed = repair.repair_in_place(notebook, root / "release" / name / f"{name}.ipynb")
    notes = list(fixed.notes)
    if not fixed.ok:
        _forget(name, student, root)
        row["reason"] = fixed.reason
    else:
        logs = root / "grading_logs"
        logs.mkdir(exist_ok=True)
        status = logs / f"{student}__{name}.events"
        status.unlink(missing_ok=True)
        env = dict(os.environ, PATH=os.pathsep.join([str(Path(NBGRADER).parent), os.environ.get("PATH", "")]),
                   **{"COURSE_GRADING_STATUS": str(status)})  # fmt: skip
        started = time.perf_counter()
        result = subprocess.run([NBGRADER, "autograde", name, "--student", student, "--create", "--force"],
                                cwd=root, env=env, capture_output=True, text=True)  # fmt: skip
        (logs / f"{student}__{name}.log").write_text(result.stdout + result.stderr)
        events = _events(status)
        died = [e for e in events if e["event"] == "kernel_died"]
        guard = [e for e in events if e["event"] == "guard_failed"]
        for e in events:
            if e["event"] == "tampering_undone":
                notes.append(f"before {e['grade_id']} the grader undid the notebook's changes to "
                             f"{', '.join(e['fixed'])}")  # fmt: skip
        if died:
            e = died[0]
            where = e["grade_id"] or e["first_line"]
            row["reason"] = f"kernel died in cell {e['cell']} of {e['cells']} ({where})"
        elif guard:
            row["reason"] = (f"the notebook interferes with grading: the grader's check before "
                             f"{guard[0]['grade_id']} did not run; grade it by hand")  # fmt: skip
        elif result.returncode:
            last = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
            row["reason"] = "nbgrader failed: " + (last[-1][:200] if last else f"exit {result.returncode}")
        else:
            import nbformat

            violations = grading_checks.check_rules(name, nbformat.read(notebook, as_version=4))
            lost = grading_checks.withhold(f"sqlite:///{root / 'gradebook.db'}", name, student, violations)
            notes += [v.message for v in violations]
            if violations:
                notes.append(f"{lost:g} autograded point(s) withheld")
            notes += _timeouts(name, student, root)
            row["status"] = "graded"
        if row["status"] != "graded":
            _forget(name, student, root)
        notes.append(f"autograde {time.perf_counter() - started:.1f} s")
    score, max_score = _scores(name, student, root)
    row["score"] = "" if score is None or row["status"] != "graded" else f"{score:g}"
    row["max_score"] = f"{max_score:g}"
    row["notes"] = "; ".join(notes)
    return row


def write_report(rows: list[dict], root: Path = ROOT) -> Path:
    """grading_report.csv: one row per (student, assignment); rows of earlier runs are kept."""
    path = root / "grading_report.csv"
    old = {}
    if path.exists():
        with open(path, newline="", encoding="utf-8") as f:
            old = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(f)}
    old.update({(r["student_id"], r["assignment"]): r for r in rows})
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=REPORT_FIELDS)
        writer.writeheader()
        writer.writerows(old[key] for key in sorted(old))
    return path


def cmd_grade(names: list[str], root: Path = ROOT, autograde: bool = True) -> list[str]:
    """Grade each submission on its own (repair, autograde, rules), then feedback and grades.csv.

    One ``nbgrader autograde --student`` per submission: a hand-in that breaks nbgrader
    (or kills its kernel) cannot stop the others. grading_report.csv says, for every
    (student, assignment), "graded" with the score or "not graded" with the reason.
    """
    submitted = root / "submitted"
    names = names or [n for n in assignment_names(root) if list(submitted.glob(f"*/{n}/{n}.ipynb"))]
    failed, rows = [], []
    for name in names:
        if autograde and not (root / "release" / name / f"{name}.ipynb").exists():
            failed.append(f"{name}: no release/{name}/{name}.ipynb to check hand-ins against: "
                          "run make assignments first")  # fmt: skip
            continue
        if autograde:
            for student in _submitted_students(name, root):
                try:
                    row = grade_one(name, student, root)
                except Exception as err:  # a bug of ours must not stop the batch either
                    row = {"student_id": student, "assignment": name, "status": "not graded",
                           "reason": f"grading error {type(err).__name__}: {err}", "score": "",
                           "max_score": "", "notes": ""}  # fmt: skip
                rows.append(row)
                shown = f"{row['score']}/{row['max_score']}" if row["status"] == "graded" else row["reason"]
                print(f"{student:>20} {name:<22} {row['status']:<11} {shown}", flush=True)
                if row["status"] != "graded":
                    failed.append(f"{student} {name}: not graded: {row['reason']}")
        if not nbgrader("generate_feedback", name, "--force", root=root):
            failed.append(f"generate_feedback {name}")
    if rows:
        print(f"report: {write_report(rows, root)}")
    if not nbgrader("export", "--to", "grades.csv", root=root):
        failed.append("export")
    else:
        print(f"grades: {root / 'grades.csv'}; feedback: {root / 'feedback'}/<student>/<assignment>/")
    return failed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("assignments", help="write sources and solutions, release student versions")
    p.add_argument("names", nargs="*")
    p = sub.add_parser("collect", help="copy downloaded notebooks into submitted/")
    p.add_argument("handins", type=Path)
    p.add_argument("--assignment", default=None, help="for <student>.ipynb or per-student folders")
    p = sub.add_parser("grade", help="autograde submitted/, write feedback/, export grades.csv")
    p.add_argument("names", nargs="*")
    p.add_argument("--feedback-only", action="store_true",
                   help="no autograde: feedback and grades.csv again, after manual grading")
    args = parser.parse_args(argv)
    if args.command == "assignments":
        failed = cmd_assignments(args.names)
    elif args.command == "collect":
        failed = cmd_collect(args.handins, args.assignment or None)
    else:
        failed = cmd_grade(args.names, autograde=not args.feedback_only)
    for line in failed:
        print("FAILED:", line, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
