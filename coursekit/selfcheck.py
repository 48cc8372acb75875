"""Selfcheck: autograde the worked solutions in a scratch copy of the course; every test must pass.

Proves, before students see an assignment, that its tests accept the reference answers when
run the way grading runs them (released notebook, repair, sandbox, fast mode). When it fails, it
says why with the failing cell's error and traceback (or nbgrader's), and keeps the scratch course
(``course-selfcheck-*`` in the temporary folder, named in the message) for a look at its
``grading_logs/`` and ``autograded/``; when it passes, the scratch course is removed.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from coursekit.config import Course, without
from coursekit.errors import CourseError
from coursekit.grade.gradebook import ENV as GRADEBOOK_ENV

# What a course directory is made of (no tools: coursekit is an installed package).
COURSE_FILES = (
    "course.toml",
    "nbgrader_config.py",
    "assignments",
    "solutions",
    "lessons",
    "notebooks",
    "course_utils",
    "pyproject.toml",
    "LICENSE",
)


def copy_course(root: Path, target: Path) -> Path:
    """A scratch course directory: configuration, sources, solutions and student material of ``root``."""
    target.mkdir(parents=True, exist_ok=True)
    for name in COURSE_FILES:
        if (root / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
            shutil.copytree(root / name, target / name, ignore=ignore)
        else:
            shutil.copy2(root / name, target / name)
    return target


@contextlib.contextmanager
def _scratch_gradebook() -> Iterator[None]:
    """Grade into the scratch course's SQLite file, not a gradebook server of the real course."""
    with without(GRADEBOOK_ENV):
        yield


def _report(root: Path) -> dict[str, dict]:
    """The scratch course's grading_report.csv rows of the reference hand-in, by assignment."""
    import csv

    path = root / "grading_report.csv"
    if not path.exists():
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        return {r["assignment"]: r for r in csv.DictReader(f) if r["student_id"] == "reference"}


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
MAX_TRACEBACK = 3000  # characters of a traceback shown


def _indented(text: str, head: bool = False) -> str:
    """``text`` without colours, indented, at most MAX_TRACEBACK characters (its end, or its ``head``)."""
    text = _ANSI.sub("", text).strip()
    if len(text) > MAX_TRACEBACK:
        text = text[:MAX_TRACEBACK] + "\n..." if head else "...\n" + text[-MAX_TRACEBACK:]
    return "\n".join("    " + line for line in text.splitlines())


def _errors(notebook: Path, grade_ids: list[str]) -> str:
    """The first error of the notebook (a failing test cell, or a cell before it): its cell, message,
    next step and traceback."""
    import nbformat

    from coursekit.grade.diagnose import explain

    if not notebook.exists():
        return "no executed notebook was kept"
    for index, cell in enumerate(nbformat.read(notebook, as_version=4).cells, start=1):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "?")
                message = f"{gid}: {out.get('ename')}: {str(out.get('evalue'))[:200]}"
                trace = "\n".join(out.get("traceback") or []) or message
                return (
                    f"first error in cell {index} {message}; {explain(message)}\n"
                    f"  traceback of cell {index} ({gid}):\n{_indented(trace)}"
                )
    return "no error output"


def _nbgrader_log(root: Path, name: str) -> str:
    """What nbgrader said when it failed on the reference hand-in: its first error with its traceback
    (the last one only says "see the above traceback"), or the log's last lines."""
    log = root / "grading_logs" / f"reference__{name}.log"
    if not log.exists():
        return ""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    first = next((i for i, line in enumerate(lines) if line.startswith("[ERROR]")), None)
    shown = "\n".join(lines[first : first + 60] if first is not None else lines[-30:])
    return f"\n  nbgrader's log ({log}):\n{_indented(shown, head=True)}"


def _release_files(root: Path, names: list[str]) -> list[Path]:
    """What a released course holds for ``names``: its gradebook and one release folder each."""
    return [root / "gradebook.db", *(root / "release" / name for name in names)]


def selfcheck(course: Course, names: list[str], jobs: int = 1, released: bool = False) -> list[str]:
    """Release, hand in and autograde each worked solution in a scratch copy of ``course``.

    ``released``: ``course`` is a folder of this run's own with ``names`` released just now into
    its SQLite gradebook (a Dask worker's, :mod:`coursekit.grade.cluster`): the copy takes that
    release and gradebook instead of releasing again."""
    from contextlib import redirect_stdout
    from io import StringIO

    from nbgrader.api import Gradebook

    from coursekit.collect import collect
    from coursekit.grade.batch import FALLBACK_NOTE, grade, kept_notebook
    from coursekit.release import release

    names = names or course.notebook_names()
    failed = []
    log = StringIO()
    tmp = tempfile.mkdtemp(prefix="course-selfcheck-")
    with _scratch_gradebook():
        scratch = Course.load(copy_course(course.root, Path(tmp) / "course"))
        handins = Path(tmp) / "handins"
        handins.mkdir()
        with redirect_stdout(log):
            try:
                if released:
                    missing = [str(p) for p in _release_files(course.root, names) if not p.exists()]
                    if missing:
                        raise CourseError(
                            f"selfcheck(released=True) needs this run's release and SQLite gradebook: "
                            f"{', '.join(missing)} missing; release them first (coursekit release)"
                        )
                    shutil.copy2(course.root / "gradebook.db", scratch.root / "gradebook.db")
                    for name in names:
                        shutil.copytree(course.root / "release" / name, scratch.root / "release" / name)
                    refused = []
                else:
                    refused = release(scratch, names)  # one nbgrader process releases them all
            except CourseError as err:  # a source to fix: name the course's file, not the copy's
                shutil.rmtree(tmp, ignore_errors=True)
                raise CourseError(str(err).replace(str(scratch.root), str(course.root))) from err
            failed += [f"{name}: generate_assignment failed" for name in names if name in refused]
            failed += [problem for problem in refused if problem not in names]
            for name in names:
                if name not in refused:
                    solution = scratch.root / "solutions" / f"{name}.ipynb"
                    shutil.copy(solution, handins / f"reference__{name}.ipynb")
            failed += collect(handins, None, scratch.root)
            started = time.perf_counter()
            grade(names, scratch.root, jobs=jobs)
            seconds = time.perf_counter() - started
        report = _report(scratch.root)
        with Gradebook(f"sqlite:///{scratch.root / 'gradebook.db'}") as gb:
            for name in names:
                row = report.get(name, {})
                if row.get("status") != "graded":
                    reason = row.get("reason") or "no row in grading_report.csv"
                    executed = kept_notebook(name, "reference", scratch.root)
                    why = _errors(executed, [])
                    log_part = (
                        _nbgrader_log(scratch.root, name)
                        if not executed.exists() or reason.startswith("nbgrader failed")
                        else ""
                    )
                    failed.append(f"{name}: the worked solution was not graded: {reason}\n  {why}{log_part}")
                    continue
                fallback = next(
                    (n for n in row.get("notes", "").split("; ") if n.startswith(FALLBACK_NOTE)), None
                )
                if fallback:
                    failed.append(
                        f"{name}: the worked solution does not run on Keras's PyTorch backend, so "
                        f"every hand-in would be executed twice ({fallback}). Make the notebook's "
                        f"Keras code backend-neutral (keras.ops.convert_to_numpy instead of "
                        f'np.asarray on a model\'s output), or set keras_backend = "tensorflow" '
                        f"in course.toml's [grading]."
                    )
                    continue
                nb = gb.find_submission_notebook(name, name, "reference")
                lost = [g.name for g in nb.grades if g.auto_score is not None and g.auto_score < g.max_score]
                auto = sum(g.auto_score for g in nb.grades if g.auto_score is not None)
                print(
                    f"{name:<24} worked solution: {auto:g} autograded points, "
                    f"{'all tests pass' if not lost else 'FAILED: ' + ', '.join(lost)}"
                )
                if lost:
                    errors = _errors(scratch.root / "autograded" / "reference" / name / f"{name}.ipynb", lost)
                    failed.append(f"{name}: the worked solution fails {', '.join(lost)} ({errors})")
        print(f"{len(names)} worked solution(s) autograded in {seconds:.0f} s")
    if failed:
        print(log.getvalue()[-4000:])
        failed.append(
            f"the scratch course is kept for a look: {scratch.root} (grading_logs/, autograded/); "
            f"remove it when done"
        )
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return failed
