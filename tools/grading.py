"""The instructor's nbgrader workflow, one subcommand per step (see the README, "Instructors").

    python tools/grading.py assignments [NAME ...]    # sources + solutions, then release/
    python tools/grading.py collect HANDINS [--assignment NAME]  # folder or LMS .zip
    python tools/grading.py grade [NAME ...] [-j N]   # autograde (N at once), feedback, grades.csv
    python tools/grading.py grade --feedback-only     # after manual grading: feedback, grades.csv
    python tools/grading.py selfcheck [NAME ...]      # the worked solutions pass every test

A thin layer over the nbgrader command line, run in the course directory (the repository
root, where nbgrader_config.py is). Every step goes on after a failing student or
assignment and reports all failures at the end (exit status 1).

``grade`` handles each submission on its own (``grade_one``):

1. ``repair.py`` checks and repairs the notebook against ``release/`` (not JSON, not a
   notebook, the wrong notebook: "not graded"; duplicated, stripped or altered nbgrader
   metadata and deleted cells: repaired, the original kept as ``*.ipynb.orig``);
2. nbgrader's autograde of that one student (``NbGraderAPI.autograde`` in an
   ``autograde_worker.py`` process, one per parallel job), executed by
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
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # repair, grading_checks, gradebook
from gradebook import gradebook_url  # noqa: E402  (tools/ is not a package)

NBGRADER = str(Path(sys.executable).with_name("nbgrader"))
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
               "TF_NUM_INTEROP_THREADS")  # fmt: skip


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
    """``([(student, assignment, notebook, extra files)], errors)`` from a folder of hand-ins.

    The names understood (ours, Moodle, Canvas, a folder per student) are those of
    ``tools/handins.py``; duplicates keep the newest hand-in (see ``handins.plan_folder``).
    """
    import handins as lms

    plan = lms.plan_folder(handins, assignment, known)
    found = [(h.student, h.assignment, h.notebook, [p for p, _ in h.extras]) for h in plan.handins]
    return found, plan.errors


def cmd_collect(handins: Path, assignment: str | None, root: Path = ROOT) -> list[str]:
    """Copy hand-ins (a folder or an LMS zip) to ``submitted/<student>/<assignment>/<assignment>.ipynb``."""
    import handins as lms

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
    from datetime import datetime, timezone

    return datetime.fromtimestamp(when, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f %Z")


def _collect_status(notebook: Path, name: str, root: Path) -> str:
    """Repair a collected notebook now, so the instructor sees the problems at once."""
    release = root / "release" / name / f"{name}.ipynb"
    if release.exists():
        import repair

        fixed = repair.repair_in_place(notebook, release)
        if not fixed.ok:
            return f"NOT GRADABLE: {fixed.reason}"
        return "REPAIRED: " + "; ".join(fixed.notes) if fixed.notes else "ok"
    problems = check_handin(notebook, name, root)
    return "WARNING: " + "; ".join(problems) if problems else "ok"


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
    with Gradebook(gradebook_url(root)) as gb:
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


def _lateness(name: str, student: str, root: Path) -> str | None:
    """"handed in 2 h 5 min after the due date", or None (on time, or no due date set)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(gradebook_url(root)) as gb:
        try:
            late = gb.find_submission(name, student).total_seconds_late
        except MissingEntry:
            return None
    if not late:
        return None
    hours, minutes = divmod(round(late / 60), 60)
    return f"handed in {hours} h {minutes} min after the due date"


def _scores(name: str, student: str, root: Path) -> tuple[float | None, float]:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(gradebook_url(root)) as gb:
        try:
            sub = gb.find_submission(name, student)
            return sub.score, sub.max_score
        except MissingEntry:
            try:
                return None, gb.find_assignment(name).max_score
            except MissingEntry:
                return None, float("nan")


def _locked(err: BaseException | str) -> bool:
    return "database is locked" in str(err)


def _retry_locked(fn, *args, tries: int = 5):
    """Run ``fn(*args)``, again after a pause when SQLite says another grader holds the lock."""
    for attempt in range(tries):
        try:
            return fn(*args)
        except Exception as err:
            if not _locked(err) or attempt == tries - 1:
                raise
            time.sleep(0.5 + random.random() * 2)


@dataclass
class Autograded:
    """What one ``nbgrader autograde`` of one student left: exit status and log."""

    returncode: int
    output: str


class Worker:
    """A ``tools/autograde_worker.py`` process that autogrades one student after another.

    Saves nbgrader's start-up per student; each student still gets a fresh kernel. If the
    worker dies, the student it was grading gets an explicit failure and the next request
    starts a new worker.
    """

    def __init__(self, root: Path, env: dict, log: Path):
        self.root, self.env, self.log, self.proc = root, env, log, None

    def _start(self) -> None:
        script = Path(__file__).with_name("autograde_worker.py")
        with open(self.log, "a") as log:  # the child keeps its own copy of the file
            self.proc = subprocess.Popen([sys.executable, str(script), str(self.root)], cwd=self.root,
                                         env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=log, text=True)  # fmt: skip

    def autograde(self, name: str, student: str, status: Path, tries: int = 3) -> Autograded:
        for attempt in range(tries):
            if self.proc is None or self.proc.poll() is not None:
                self._start()
            try:
                request = {"assignment": name, "student": student, "status": str(status)}
                self.proc.stdin.write(json.dumps(request) + "\n")
                self.proc.stdin.flush()
                line = self.proc.stdout.readline()
            except OSError:
                line = ""
            if not line:
                self.close()
                return Autograded(1, f"the autograde worker died grading this student (log: {self.log.name})")
            answer = json.loads(line)
            result = Autograded(0 if answer["success"] else 1, answer["log"] + answer["error"])
            if not (result.returncode and _locked(result.output)) or attempt == tries - 1:
                return result
            time.sleep(0.5 + random.random() * 2)

    def close(self) -> None:
        if self.proc is not None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except Exception:
                self.proc.kill()
            self.proc = None


def _grading_env(threads: int | None) -> dict:
    """The environment of nbgrader and its kernels: venv on PATH, threads per kernel."""
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(NBGRADER).parent), os.environ.get("PATH", "")]))
    if threads:
        env.update({var: str(threads) for var in THREAD_VARS})
    return env


def grade_one(name: str, student: str, root: Path = ROOT, threads: int | None = None,
              worker: Worker | None = None) -> dict:  # fmt: skip
    """Repair, autograde and check one submission; a row of grading_report.csv.

    ``threads``: CPU threads for the student's kernel (when several are graded at once);
    ``worker``: the autograde worker process to use (default: one started for this student).
    """
    import grading_checks
    import repair

    row = {"student_id": student, "assignment": name, "status": "not graded", "reason": "",
           "score": "", "max_score": "", "notes": ""}  # fmt: skip
    notebook = root / "submitted" / student / name / f"{name}.ipynb"
    fixed = repair.repair_in_place(notebook, root / "release" / name / f"{name}.ipynb")
    notes = list(fixed.notes)
    if not fixed.ok:
        _retry_locked(_forget, name, student, root)
        row["reason"] = fixed.reason
    else:
        logs = root / "grading_logs"
        logs.mkdir(exist_ok=True)
        status = logs / f"{student}__{name}.events"
        status.unlink(missing_ok=True)
        started = time.perf_counter()
        own = worker is None
        if own:
            worker = Worker(root, _grading_env(threads), logs / f"worker-{student}__{name}.log")
        try:
            result = worker.autograde(name, student, status)
        finally:
            if own:
                worker.close()
        (logs / f"{student}__{name}.log").write_text(result.output)
        events = _events(status)
        died = [e for e in events if e["event"] == "kernel_died"]
        guard = [e for e in events if e["event"] == "guard_failed"]
        for e in events:
            if e["event"] == "sandbox":
                notes.append(f"isolation: {e['mode']}")
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
            last = [line for line in result.output.splitlines() if line.strip()]
            row["reason"] = "nbgrader failed: " + (last[-1][:200] if last else f"exit {result.returncode}")
        else:
            import nbformat

            violations = grading_checks.check_rules(name, nbformat.read(notebook, as_version=4))
            lost = _retry_locked(grading_checks.withhold, gradebook_url(root), name, student, violations)
            notes += [v.message for v in violations]
            if violations:
                notes.append(f"{lost:g} autograded point(s) withheld")
            notes += _timeouts(name, student, root)
            late = _retry_locked(_lateness, name, student, root)
            notes += [late] if late else []
            row["status"] = "graded"
        if row["status"] != "graded":
            _retry_locked(_forget, name, student, root)
        notes.append(f"autograde {time.perf_counter() - started:.1f} s")
    score, max_score = _retry_locked(_scores, name, student, root)
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


def _grade_safely(name: str, student: str, root: Path, threads: int | None, workers: dict) -> dict:
    import threading

    key = threading.get_ident()  # one worker process per grading thread
    if key not in workers:
        log = root / "grading_logs" / f"worker-{len(workers) + 1}.log"
        log.parent.mkdir(exist_ok=True)
        workers[key] = Worker(root, _grading_env(threads), log)
    try:
        return grade_one(name, student, root, threads, workers[key])
    except Exception as err:  # a bug of ours must not stop the batch either
        return {"student_id": student, "assignment": name, "status": "not graded",
                "reason": f"grading error {type(err).__name__}: {err}", "score": "",
                "max_score": "", "notes": ""}  # fmt: skip


def default_jobs() -> int:
    """Submissions graded at once: ``$COURSE_GRADING_JOBS``, else one per CPU core."""
    return int(os.environ.get("COURSE_GRADING_JOBS", "0")) or os.cpu_count() or 1


def cmd_grade(names: list[str], root: Path = ROOT, autograde: bool = True, jobs: int = 1) -> list[str]:
    """Grade each submission on its own (repair, autograde, rules), then feedback and grades.csv.

    One nbgrader autograde per submission: a hand-in that breaks nbgrader
    (or kills its kernel) cannot stop the others. ``jobs`` submissions are graded at once,
    each in its own process and kernel with ``cores / jobs`` threads; the gradebook takes their
    writes one at a time (SQLite's lock, retried; or a PostgreSQL server).
    grading_report.csv says, for every (student, assignment), "graded" with the score or
    "not graded" with the reason.
    """
    from concurrent.futures import ThreadPoolExecutor

    submitted = root / "submitted"
    names = names or [n for n in assignment_names(root) if list(submitted.glob(f"*/{n}/{n}.ipynb"))]
    failed, rows = [], []
    jobs = max(1, jobs)
    threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else None
    for name in names:
        if autograde and not (root / "release" / name / f"{name}.ipynb").exists():
            failed.append(f"{name}: no release/{name}/{name}.ipynb to check hand-ins against: "
                          "run make assignments first")  # fmt: skip
            continue
        if autograde:
            students = _submitted_students(name, root)
            started = time.perf_counter()
            workers: dict = {}
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                n = len(students)
                args = [name] * n, students, [root] * n, [threads] * n, [workers] * n
                graded = pool.map(_grade_safely, *args)
                for row in graded:
                    rows.append(row)
                    ok = row["status"] == "graded"
                    shown = f"{row['score']}/{row['max_score']}" if ok else row["reason"]
                    print(f"{row['student_id']:>20} {name:<22} {row['status']:<11} {shown}", flush=True)
                    if row["status"] != "graded":
                        failed.append(f"{row['student_id']} {name}: not graded: {row['reason']}")
            for worker in workers.values():
                worker.close()
            if students:
                seconds = time.perf_counter() - started
                print(f"{name}: {len(students)} submission(s) in {seconds:.0f} s with {jobs} job(s), "
                      f"{seconds / len(students):.1f} s each", flush=True)  # fmt: skip
        if not nbgrader("generate_feedback", name, "--force", root=root):
            failed.append(f"generate_feedback {name}")
    if rows:
        print(f"report: {write_report(rows, root)}")
    if not nbgrader("export", "--to", "grades.csv", root=root):
        failed.append("export")
    else:
        print(f"grades: {root / 'grades.csv'}; feedback: {root / 'feedback'}/<student>/<assignment>/")
    return failed


# -------------------------------------------------------------------------- selfcheck


COURSE_FILES = ("nbgrader_config.py", "assignments", "solutions", "tools")


def copy_course(root: Path, target: Path) -> Path:
    """A scratch course directory: the config, sources, solutions and grading tools of ``root``."""
    target.mkdir(parents=True, exist_ok=True)
    for name in COURSE_FILES:
        if (root / name).is_dir():
            shutil.copytree(root / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(root / name, target / name)
    return target


def cmd_selfcheck(names: list[str], root: Path = ROOT, jobs: int = 1) -> list[str]:
    """Autograde the worked solutions in a scratch copy of the course: every test must pass.

    Proves, before students see an assignment, that its tests accept the reference answers
    when run the way grading runs them (released notebook, repair, sandbox, fast mode).
    """
    import tempfile

    from nbgrader.api import Gradebook

    names = names or assignment_names(root)
    failed = []
    with tempfile.TemporaryDirectory(prefix="course-selfcheck-") as tmp:
        course = copy_course(root, Path(tmp) / "course")
        env = {k: v for k, v in os.environ.items() if k != "COURSE_GRADEBOOK_URL"}  # a scratch SQLite
        tool = [sys.executable, str(course / "tools" / "grading.py")]
        for name in names:
            released = subprocess.run([*tool, "assignments", name], cwd=course, env=env, capture_output=True)
            if released.returncode:
                failed.append(f"{name}: generate_assignment failed")
                continue
            handins = Path(tmp) / f"handins_{name}"
            handins.mkdir()
            shutil.copy(course / "solutions" / f"{name}.ipynb", handins / f"reference__{name}.ipynb")
            subprocess.run([*tool, "collect", str(handins)], cwd=course, env=env, capture_output=True)
        started = time.perf_counter()
        result = subprocess.run([*tool, "grade", *names, "--jobs", str(jobs)], cwd=course, env=env,
                                capture_output=True, text=True)  # fmt: skip
        seconds = time.perf_counter() - started
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            for name in names:
                try:
                    nb = gb.find_submission_notebook(name, name, "reference")
                except Exception as err:
                    failed.append(f"{name}: the worked solution was not graded ({err})")
                    continue
                lost = [g.name for g in nb.grades if g.auto_score is not None and g.auto_score < g.max_score]
                auto = sum(g.auto_score for g in nb.grades if g.auto_score is not None)
                print(f"{name:<24} worked solution: {auto:g} autograded points, "
                      f"{'all tests pass' if not lost else 'FAILED: ' + ', '.join(lost)}")  # fmt: skip
                if lost:
                    failed.append(f"{name}: the worked solution fails {', '.join(lost)}")
        print(f"{len(names)} worked solution(s) autograded in {seconds:.0f} s")
        if failed:
            print(result.stdout[-3000:], result.stderr[-3000:])
    return failed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("assignments", help="write sources and solutions, release student versions")
    p.add_argument("names", nargs="*")
    p = sub.add_parser("collect", help="copy downloaded notebooks into submitted/")
    p.add_argument("handins", type=Path, help="a folder or an LMS zip (Moodle, Canvas): see tools/handins.py")
    p.add_argument("--assignment", default=None,
                   help="for <student>.ipynb, per-student folders, Moodle and Canvas downloads")
    p = sub.add_parser("grade", help="autograde submitted/, write feedback/, export grades.csv")
    p.add_argument("names", nargs="*")
    p.add_argument("--jobs", "-j", type=int, default=default_jobs(),
                   help="submissions graded at once (default: $COURSE_GRADING_JOBS or one per core)")
    p.add_argument("--feedback-only", action="store_true",
                   help="no autograde: feedback and grades.csv again, after manual grading")
    p = sub.add_parser("selfcheck", help="autograde the worked solutions in a scratch copy of the course")
    p.add_argument("names", nargs="*")
    p.add_argument("--jobs", "-j", type=int, default=default_jobs())
    args = parser.parse_args(argv)
    if args.command == "selfcheck":
        failed = cmd_selfcheck(args.names, jobs=args.jobs)
    elif args.command == "assignments":
        failed = cmd_assignments(args.names)
    elif args.command == "collect":
        failed = cmd_collect(args.handins, args.assignment or None)
    else:
        failed = cmd_grade(args.names, autograde=not args.feedback_only, jobs=args.jobs)
    for line in failed:
        print("FAILED:", line, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
