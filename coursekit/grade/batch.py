"""Grade: every hand-in on its own, several at once, then feedback and grades.csv.

``grade_one`` handles one submission:

1. :mod:`coursekit.repair` checks and repairs the notebook against ``release/`` (not JSON, not
   a notebook, the wrong notebook: "not graded"; duplicated, stripped or altered nbgrader
   metadata and deleted cells: repaired, the original kept as ``*.ipynb.orig``);
2. nbgrader's autograde of that one student (``NbGraderAPI.autograde`` in a
   ``python -m coursekit.grade.worker`` process, one per parallel job), executed by
   :class:`coursekit.grade.execute.GuardedExecute` (tamper guard before each test cell; a dead
   kernel is reported with its cell, as "not graded", never as 0 points);
3. :mod:`coursekit.grade.checks`: rules read from the source with ``ast`` (the import rule of
   matmul_timing Part A) withhold points in the gradebook, with a comment.

Besides nbgrader's grades.csv it writes ``grading_report.csv``: one row per (student,
assignment) with status (graded / not graded), reason, score, max_score and notes (what was
repaired or undone), so a 0 and a hand-in that could not be graded look different. The logs
of each autograde run are in ``grading_logs/``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from coursekit.collect import clean_submitted
from coursekit.config import environment
from coursekit.grade.diagnose import explain, setup_failure
from coursekit.grade.gradebook import gradebook_url, retry_locked
from coursekit.grade.report import write_report
from coursekit.grade.worker import Worker
from coursekit.nbgrader_cli import assignment_names, grading_env, nbgrader


def submitted_students(name: str, root: Path) -> list[str]:
    """The students with a hand-in of ``name`` in ``submitted/``."""
    return sorted(p.parent.parent.name for p in (root / "submitted").glob(f"*/{name}/{name}.ipynb"))


def already_graded(root: Path, name: str, students: list[str]) -> set[str]:
    """Who of ``students`` has a grade of ``name`` already (``coursekit grade --resume`` skips them).

    Graded: grading_report.csv says "graded", the gradebook holds the submission, and it is of the
    hand-in in ``submitted/`` now (same ``timestamp.txt``), so a hand-in collected again is graded again.
    """
    import csv

    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.utils import parse_utc

    path = root / "grading_report.csv"
    if not path.exists():
        return set()
    with open(path, newline="", encoding="utf-8") as f:
        reported = {
            r["student_id"] for r in csv.DictReader(f) if r["assignment"] == name and r["status"] == "graded"
        }
    graded = set()
    with Gradebook(gradebook_url(root)) as gb:
        for student in sorted(reported & set(students)):
            try:
                sub = gb.find_submission(name, student)
            except MissingEntry:
                continue
            stamp = root / "submitted" / student / name / "timestamp.txt"
            try:
                handed_in = parse_utc(stamp.read_text().strip()) if stamp.is_file() else None
            except (ValueError, OverflowError):
                handed_in = None
            if handed_in is None or sub.timestamp is None or handed_in == sub.timestamp:
                graded.add(student)
    return graded


def show_row(row: dict) -> str:
    """One printed line per hand-in: student, assignment, status, score or reason."""
    ok = row["status"] == "graded"
    shown = f"{row['score']}/{row['max_score']}" if ok else row["reason"]
    return f"{row['student_id']:>20} {row['assignment']:<22} {row['status']:<11} {shown}"


def _events(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def kept_notebook(name: str, student: str, root: Path) -> Path:
    """Where the executed notebook of a hand-in that was not graded is kept (its errors, for a look)."""
    return root / "grading_logs" / f"{student}__{name}.ipynb"


def _forget(name: str, student: str, root: Path, keep: bool = False) -> None:
    """Remove an earlier grade of this submission: a not-graded hand-in must not keep an old score.

    ``keep``: the notebook was executed just now; it goes to :func:`kept_notebook` (the failing
    cell's traceback)."""
    from nbgrader.api import Gradebook, MissingEntry

    executed = root / "autograded" / student / name / f"{name}.ipynb"
    kept = kept_notebook(name, student, root)
    kept.unlink(missing_ok=True)
    if keep and executed.exists():
        kept.parent.mkdir(exist_ok=True)
        shutil.copy2(executed, kept)
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
    return [
        f"cell {i + 1} ran out of time (CellTimeoutError): its tests lost their points"
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and any(o.get("ename") == "CellTimeoutError" for o in c.get("outputs", []))
    ]


# the note of a Keras hand-in graded again on TensorFlow (coursekit.selfcheck looks for it)
FALLBACK_NOTE = "graded on TensorFlow (on Keras's PyTorch backend"


def _lateness(name: str, student: str, root: Path) -> str | None:
    """ "handed in 2 h 5 min after the due date", or None (on time, or no due date set)."""
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


def grade_one(
    name: str, student: str, root: Path, threads: int | None = None, worker: Worker | None = None
) -> dict:
    """Repair, autograde and check one submission; a row of grading_report.csv.

    ``threads``: CPU threads for the student's kernel (when several are graded at once);
    ``worker``: the autograde worker process to use (default: one started for this student).
    """
    from coursekit import repair

    row = {
        "student_id": student,
        "assignment": name,
        "status": "not graded",
        "reason": "",
        "score": "",
        "max_score": "",
        "notes": "",
    }
    notebook = root / "submitted" / student / name / f"{name}.ipynb"
    linked, notes = clean_submitted(root, student, name)  # hand-in files are data: no link reaches nbgrader
    fixed = None if linked else repair.repair_in_place(notebook, root / "release" / name / f"{name}.ipynb")
    notes += fixed.notes if fixed else []
    if linked or not fixed.ok:
        retry_locked(_forget, name, student, root)
        row["reason"] = linked or fixed.reason
    else:
        logs = root / "grading_logs"
        logs.mkdir(exist_ok=True)
        status = logs / f"{student}__{name}.events"
        status.unlink(missing_ok=True)
        started = time.perf_counter()
        if worker is None:  # one hand-in alone: a worker of its own
            with Worker(root, grading_env(threads), logs / f"worker-{student}__{name}.log") as own:
                _autograde(name, student, root, own, status, row, notes)
        else:
            _autograde(name, student, root, worker, status, row, notes)
        notes.append(f"autograde {time.perf_counter() - started:.1f} s")
    score, max_score = retry_locked(_scores, name, student, root)
    row["score"] = "" if score is None or row["status"] != "graded" else f"{score:g}"
    row["max_score"] = f"{max_score:g}"
    row["notes"] = "; ".join(notes)
    return row


def _autograde(
    name: str, student: str, root: Path, worker: Worker, status: Path, row: dict, notes: list[str]
) -> None:
    """Autograde one repaired hand-in in ``worker``, check its rules, write its feedback; fills
    ``row`` (status, reason) and ``notes``."""
    from coursekit.grade import checks as grading_checks

    logs = root / "grading_logs"
    notebook = root / "submitted" / student / name / f"{name}.ipynb"
    result = worker.autograde(name, student, status)
    (logs / f"{student}__{name}.log").write_text(result.output)
    events = _events(status)
    died = [e for e in events if e["event"] == "kernel_died"]
    guard = [e for e in events if e["event"] == "guard_failed"]
    for e in events:
        if e["event"] == "sandbox":
            notes.append(f"isolation: {e['mode']}")
        if e["event"] == "limits" and e.get("on"):
            notes.append(f"limits: {e['on']}")
        if e["event"] == "limits" and e.get("off"):
            notes.append(e["off"])
        if e["event"] == "limit":
            notes.append(f"{e['limit']} in cell {e['cell']}")
        if e["event"] == "warm":
            notes.append(f"warm kernel ({len(e['preloaded'])} modules imported before the fork)")
        if e["event"] == "keras_backend" and e["backend"] == "torch":
            notes.append("Keras ran on its PyTorch backend without an error")
        if e["event"] == "keras_backend" and e.get("reason"):
            notes.append(f"Keras ran on TensorFlow: {e['reason']}")
        if e["event"] == "keras_backend" and e.get("fallback"):
            notes.append(f"{FALLBACK_NOTE} {e['fallback']})")
        if e["event"] == "sanitized":  # coursekit.grade.sanitize
            where = "; ".join(f"cell {cell}: {', '.join(found)}" for cell, found in e["cells"].items())
            notes.append(f"HTML that could run code removed from what graders and students see ({where})")
    tampering = [e for e in events if e["event"] == "tampering"]
    if died:
        e = died[0]
        where = e["grade_id"] or e["first_line"]
        row["reason"] = f"kernel died in cell {e['cell']} of {e['cells']} ({where})"
    elif guard:
        row["reason"] = (
            f"tampering in cell {guard[0].get('cell', '?')}: the grader's check before "
            f"{guard[0]['grade_id']} did not run (the notebook interferes with grading); "
            "grade it by hand"
        )
    elif tampering:
        e = tampering[0]
        row["reason"] = (
            f"tampering in cell {e['cell']}: before {e['grade_id']} the notebook had changed "
            f"{', '.join(e['fixed'])} (the grader undid it); look at it by hand"
        )
    elif failure := setup_failure(root / "autograded" / student / name / f"{name}.ipynb"):
        row["reason"] = f"{failure} (not the student's fault: {explain(failure)})"
    elif result.returncode:
        last = [line for line in result.output.splitlines() if line.strip()]
        row["reason"] = "nbgrader failed: " + (last[-1][:200] if last else f"exit {result.returncode}")
    else:
        import nbformat

        violations = grading_checks.check_rules(name, nbformat.read(notebook, as_version=4))
        lost = retry_locked(grading_checks.withhold, gradebook_url(root), name, student, violations)
        notes += [v.message for v in violations]
        if violations:
            notes.append(f"{lost:g} autograded point(s) withheld")
        notes += _timeouts(name, student, root)
        late = retry_locked(_lateness, name, student, root)
        notes += [late] if late else []
        row["status"] = "graded"
        written = worker.feedback(name, student)
        if written.returncode:  # the grade stands; the student's feedback page is missing
            last = [line for line in written.output.splitlines() if line.strip()]
            notes.append(
                "feedback not written: "
                + (last[-1][:200] if last else "nbgrader failed")
                + " (run coursekit feedback)"
            )
    if row["status"] != "graded":
        retry_locked(_forget, name, student, root, True)


def not_graded(name: str, student: str, reason: str) -> dict:
    """The report row of a hand-in that got no grade, and why."""
    return {
        "student_id": student,
        "assignment": name,
        "status": "not graded",
        "reason": reason,
        "score": "",
        "max_score": "",
        "notes": "",
    }


def _grade_safely(name: str, student: str, root: Path, threads: int | None, workers: dict) -> dict:
    import threading

    key = threading.get_ident()  # one worker process per grading thread
    if key not in workers:
        log = root / "grading_logs" / f"worker-{len(workers) + 1}.log"
        log.parent.mkdir(exist_ok=True)
        workers[key] = Worker(root, grading_env(threads), log)
    try:
        return grade_one(name, student, root, threads, workers[key])
    except Exception as err:  # a bug of ours must not stop the batch either
        return not_graded(name, student, f"grading error {type(err).__name__}: {err}")


def _add_students(root: Path, students: list[str]) -> None:
    """Every student in the gradebook (as nbgrader's autograde adds them; their details untouched)."""
    from nbgrader.api import Gradebook

    with Gradebook(gradebook_url(root)) as gb:
        for student in students:
            gb.update_or_create_student(student)


def trusted_mode() -> bool:
    """``coursekit grade --trusted``: grade without the jail (a single-user machine, said in every row)."""
    return bool(environment().trusted)


def graded_names(root: Path) -> list[str]:
    """The assignments that have hand-ins in ``submitted/``."""
    submitted = root / "submitted"
    return [n for n in assignment_names(root) if list(submitted.glob(f"*/{n}/{n}.ipynb"))]


def grade(
    names: list[str], root: Path, autograde: bool = True, jobs: int = 1, resume: bool = False
) -> list[str]:
    """Grade each submission on its own (repair, autograde, rules), then feedback and grades.csv.

    One nbgrader autograde per submission: a hand-in that breaks nbgrader
    (or kills its kernel) cannot stop the others. ``jobs`` submissions are graded at once,
    each in its own kernel with ``cores / jobs`` threads, by ``jobs`` worker processes that take
    the hand-ins of every assignment in turn; the gradebook takes their writes one at a time
    (SQLite's lock, retried; or a PostgreSQL server).
    grading_report.csv says, for every (student, assignment), "graded" with the score or
    "not graded" with the reason. ``resume``: only hand-ins without a grade yet (:func:`already_graded`).
    """
    from concurrent.futures import ThreadPoolExecutor

    from coursekit.grade.progress import Progress

    names = names or graded_names(root)
    failed, rows = [], []
    if autograde:
        from coursekit.grade import jail

        isolation = jail.isolation()
        if not isolation.jailed and not trusted_mode():
            return [isolation.refusal()]
        shown = "limits: memory, processes, disk, network, environment (course.toml)"
        if not isolation.jailed:
            shown = f"resource limits OFF: {isolation.why_not}; TRUSTED single-user mode (--trusted)"
        print(f"isolation: {isolation.mode}; {shown}", flush=True)
    cores = os.cpu_count() or 1
    if jobs > cores:  # more kernels than cores would share cores: grades would depend on load
        print(f"--jobs {jobs} is more than the {cores} cores here: grading with {cores} jobs", flush=True)
    jobs = max(1, min(jobs, cores))
    threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else None
    todo = {}
    for name in names if autograde else []:
        if not (root / "release" / name / f"{name}.ipynb").exists():
            continue
        students = submitted_students(name, root)
        done = already_graded(root, name, students) if resume else set()
        if resume:
            print(
                f"{name}: --resume: {len(done)} of {len(students)} hand-in(s) graded already, "
                f"{len(students) - len(done)} to grade",
                flush=True,
            )
        todo[name] = [s for s in students if s not in done]
    progress = Progress(sum(map(len, todo.values())))
    for name in names:
        if autograde and not (root / "release" / name / f"{name}.ipynb").exists():
            failed.append(
                f"{name}: no release/{name}/{name}.ipynb to check hand-ins against: "
                "run coursekit release first"
            )
        # autograde wrote each student's feedback in its worker; after manual grading, all again
        elif not autograde and not nbgrader("generate_feedback", name, "--force", root=root):
            failed.append(f"generate_feedback {name}")
    # one queue of every hand-in, assignment after assignment, for one set of worker processes:
    # a job that finishes its assignment's last hand-in starts on the next assignment at once
    queue = [(name, student) for name, students in todo.items() for student in students]
    # a student's hand-ins of two assignments may be graded at once: each autograde would add the
    # student to the gradebook, and the second add fails (UNIQUE constraint), so add them first
    retry_locked(_add_students, root, sorted({student for _, student in queue}))
    workers: dict = {}
    started: dict[str, float] = {}
    left = {name: len(students) for name, students in todo.items()}

    def one(task: tuple[str, str]) -> dict:
        started.setdefault(task[0], time.perf_counter())
        return _grade_safely(*task, root, threads, workers)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for row in pool.map(one, queue):
            name = row["assignment"]
            rows.append(row)
            progress.write(show_row(row))
            progress.update(row["status"] == "graded")
            write_report(rows, root)  # a run stopped later keeps what it graded (--resume)
            if row["status"] != "graded":
                failed.append(f"{row['student_id']} {name}: not graded: {row['reason']}")
            left[name] -= 1
            if not left[name]:
                seconds = time.perf_counter() - started[name]
                count = len(todo[name])
                print(
                    f"{name}: {count} submission(s) in {seconds:.1f} s with {jobs} job(s), "
                    f"{seconds / count:.1f} s each",
                    flush=True,
                )
    progress.close()
    if rows:
        print(f"report: {write_report(rows, root)}")
    exporter = _exporter(workers)
    for worker in workers.values():
        if worker is not exporter:
            worker.close(wait=False)  # their teardown overlaps the export
    failed += export_grades(root, exporter)
    for worker in workers.values():
        worker.close()
    return failed


def _exporter(workers: dict) -> Worker | None:
    """The worker to export grades.csv in: one whose process runs (nbgrader is loaded there). A
    thread that met only hand-ins refused before autograde (not a notebook, a link) never started
    its process, and starting one costs the start-up the export would save."""
    return next((w for w in workers.values() if w.running()), None)


def export_grades(root: Path, worker: Worker | None = None) -> list[str]:
    """``nbgrader export --to grades.csv`` in ``worker`` (one of the run's: nbgrader is loaded
    there already) or in a worker of its own; what failed."""
    print("$ nbgrader export --to grades.csv", flush=True)
    if worker is None:
        logs = root / "grading_logs"
        logs.mkdir(exist_ok=True)
        with Worker(root, grading_env(None), logs / "worker-export.log") as own:
            done = own.export("grades.csv")
    else:
        done = worker.export("grades.csv")
    if done.returncode:
        return [f"export: {done.output.strip()[-1500:]}"]
    print(f"grades: {root / 'grades.csv'}; feedback: {root / 'feedback'}/<student>/<assignment>/", flush=True)
    return []
