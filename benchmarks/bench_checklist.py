"""The README's instructor checklist, timed: each step's command in a scratch copy of this course.

Steps 2, 4 and 7-12 of "Run a course" (step 1, ``make course``, is timed around this script: it
builds the environment this script runs in), for one assignment and ``--students`` hand-ins in
one Moodle zip ("Download all submissions", one folder per student), a mix of worked solutions,
blank hand-ins and hand-ins with one answer left blank. Nothing of this checkout changes: the
copy has its own release, gradebook and publish folder, and the executed lessons of ``make
course`` (``_build/cache``), which publish's website reuses as it does in this checkout.
Step 11 (grading by hand) is not timed.

    COURSE_DATA_DIR=../shared/data python -m benchmarks.bench_checklist [--students 20]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat

from benchmarks._course import TOOL
from benchmarks._report import ROOT, save

NAME = "matmul_timing"
CACHE = Path("_build") / "cache"
IGNORE = shutil.ignore_patterns(".git", ".venv*", "_build", "__pycache__", "*.egg-info", ".ruff_cache")


def _moodle_zip(course: Path, students: int) -> Path:
    """Moodle's zip of all hand-ins: ``<name>_<id>_assignsubmission_file_/<notebook>`` per student."""
    release = nbformat.read(course / "release" / NAME / f"{NAME}.ipynb", as_version=4)
    solution = nbformat.read(course / "solutions" / f"{NAME}.ipynb", as_version=4)
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in solution.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    path = course.parent / "submissions.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for k in range(students):
            nb = nbformat.from_dict(release)
            kind = ("perfect", "perfect", "one blank", "blank")[k % 4]
            answer_cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
            for i, cell in enumerate(answer_cells):
                if kind == "perfect" or (kind == "one blank" and i > 0):
                    cell.source = answers[cell.metadata["nbgrader"]["grade_id"]]
            folder = f"Student {k:02d}_{230001 + k}_assignsubmission_file_"
            zf.writestr(f"{folder}/{NAME}.ipynb", nbformat.writes(nb))
    return path


def _step(rows: list[dict], number: int, what: str, args: list[str], cwd: Path) -> str:
    """Run ``coursekit ARGS`` in ``cwd``, time it, and stop the benchmark if it failed."""
    t0 = time.perf_counter()
    result = subprocess.run([*TOOL, *args], cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if result.returncode != 0:
        raise SystemExit(
            f"step {number} (coursekit {' '.join(args)}) failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    rows.append({"step": number, "what": what, "seconds": round(seconds, 1)})
    print(f"{number:>3}  {seconds:7.1f} s  {what}", flush=True)
    return result.stdout


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    args = parser.parse_args(argv)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp) / "course"
        shutil.copytree(ROOT, course, ignore=IGNORE, symlinks=True)
        if (ROOT / CACHE).is_dir():  # the lessons make course executed: publish's website reuses them
            shutil.copytree(ROOT / CACHE, course / CACHE)
        _step(rows, 2, "coursekit build", ["build"], course)
        _step(rows, 4, "coursekit publish DEST", ["publish", str(Path(tmp) / "dl-course")], course)
        _step(rows, 7, f"coursekit release {NAME}", ["release", NAME], course)
        zipped = _moodle_zip(course, args.students)
        _step(
            rows,
            8,
            f"coursekit collect ({args.students} in a Moodle zip)",
            ["collect", str(zipped), "--assignment", NAME],
            course,
        )
        _step(rows, 9, f"coursekit doctor {NAME}", ["doctor", NAME], course)
        out = _step(rows, 10, f"coursekit grade {NAME}", ["grade", NAME], course)
        print("\n".join(line for line in out.splitlines() if "submission(s) in" in line or "canary" in line))
        _step(rows, 12, f"coursekit export moodle {NAME}", ["export", "moodle", NAME], course)
    save("checklist", rows, students=args.students, assignment=NAME)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
