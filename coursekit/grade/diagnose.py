"""Why the grading machine could not grade: words an instructor can act on.

Used by ``coursekit grade`` (a hand-in whose instructor-written setup failed is "not graded"),
by its canary (the worked solution must get full marks before any student's grade is written)
and by ``coursekit doctor``.
"""

from __future__ import annotations

import importlib.util
import os
import stat
from pathlib import Path

import nbformat


def setup_failure(notebook: Path) -> str | None:
    """The error of an instructor-written cell that ran before any student code, if one raised.

    Such a cell (setup, data loading) is locked and restored by nbgrader, and nothing the student
    wrote has run yet: its error is the grading machine's fault, never the student's.
    """
    if not notebook.exists():
        return None
    nb = nbformat.read(notebook, as_version=4)
    for index, cell in enumerate(nb.cells, start=1):
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta is None:
            continue  # not the assignment's cell (one the grader or the student added): judged elsewhere
        if meta.get("solution") or not meta.get("locked"):
            return None  # from here on, student code has run (or could have)
        if cell.cell_type != "code" or meta.get("grade"):
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                where = meta.get("grade_id") or f"cell {index}"
                return (
                    f"the instructor's cell {index} ({where}) failed on the grading machine: "
                    f"{out.get('ename')}: {str(out.get('evalue'))[:300]}"
                )
    return None


def unreadable_parents(path: str | os.PathLike) -> list[str]:
    """Folders on the way to ``path`` that a user other than the owner cannot enter (no o+x)."""
    problems = []
    current = Path(path).resolve()
    for folder in [*reversed(current.parents), current]:
        try:
            mode = folder.stat().st_mode
        except OSError:
            continue
        if folder.is_dir() and not mode & stat.S_IXOTH:
            problems.append(f"{folder} (mode {stat.S_IMODE(mode):04o})")
    return problems


def explain(error: str) -> str:
    """An instructor's next step for a setup error seen in a graded notebook."""
    if "No module named 'course_utils'" in error or "No module named course_utils" in error:
        spec = importlib.util.find_spec("course_utils")
        where = list(spec.submodule_search_locations) if spec and spec.submodule_search_locations else []
        if not where:
            return "course_utils is not installed for the grader: run `make setup` (or pip install -e .)."
        blocked = unreadable_parents(where[0])
        if blocked:
            return (
                f"the sandboxed kernel runs as an unprivileged user and cannot enter "
                f"{', '.join(blocked)} on the way to course_utils ({where[0]}): "
                f"`chmod o+x` those folders, or install the course outside them."
            )
        return (
            f"the kernel could not import course_utils from {where[0]}: check that the kernel's "
            f"Python (`jupyter kernelspec list`) is the one coursekit runs in."
        )
    if "Data" in error and "not found" in error.lower():
        return "the data is not where the kernel looks: set COURSE_DATA_DIR to the data folder (README)."
    return "run `coursekit doctor` for the checks, and `coursekit selfcheck` to grade the worked solutions."
