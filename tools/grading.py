"""The instructor's nbgrader workflow, one subcommand per step (see the README, "Instructors").

    python tools/grading.py assignments [NAME ...]    # sources + solutions, then release/
    python tools/grading.py collect HANDINS [--assignment NAME]
    python tools/grading.py grade [NAME ...]          # autograde, feedback, grades.csv
    python tools/grading.py grade --feedback-only     # after manual grading: feedback, grades.csv

A thin layer over the nbgrader command line, run in the course directory (the repository
root, where nbgrader_config.py is). Every step goes on after a failing student or
assignment and reports all failures at the end (exit status 1).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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
        problems = check_handin(target / f"{name}.ipynb", name, root)
        status = "WARNING: " + "; ".join(problems) if problems else "ok"
        print(f"{student:>20} {name:<24} <- {notebook.name}  {status}")
    print(f"collected {len(plan)} notebook(s) into {root / 'submitted'}")
    return errors


# ------------------------------------------------------------------------------ grade


def cmd_grade(names: list[str], root: Path = ROOT, autograde: bool = True) -> list[str]:
    """Autograde every submission (unless ``autograde=False``), write feedback, export grades.csv."""
    submitted = root / "submitted"
    names = names or [n for n in assignment_names(root) if list(submitted.glob(f"*/{n}/{n}.ipynb"))]
    failed = []
    for name in names:
        if autograde and not nbgrader("autograde", name, "--create", "--force", root=root):
            failed.append(f"autograde {name} (see the log above; other students were graded)")
        if not nbgrader("generate_feedback", name, "--force", root=root):
            failed.append(f"generate_feedback {name}")
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
