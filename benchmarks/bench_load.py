"""Grades do not depend on load: the worked solutions graded again and again, idle and loaded.

In a temporary copy of the course, each assignment's worked solution is handed in ``--reps``
times (students ``r01`` ...), graded with ``coursekit grade --jobs J`` once on an idle machine and
once while ``--load`` x cores busy loops run beside it (plain processes outside any cgroup, as
another user's work would). Prints every hand-in's score per condition and whether they are all
equal (the target: identical, and full marks), with the seconds each run took.

    COURSE_DATA_DIR=../shared/data python benchmarks/bench_load.py [--reps 10] [--load 3] [--only matmul_timing]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._course import collect, release
from benchmarks._report import ROOT, data_note, save

BUSY = "while True:\n    pass"


@contextlib.contextmanager
def background_load(processes: int):
    """``processes`` busy loops for the duration of the block."""
    procs = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(processes)]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def graded_scores(course: Path, name: str, jobs: int) -> tuple[dict[str, str], float]:
    """Grade ``name`` in ``course``; ``{student: score or reason}`` and the seconds it took."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "coursekit", "grade", name, "--no-canary", "--jobs", str(jobs)],
        cwd=course,
        check=False,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    with open(course / "grading_report.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["assignment"] == name]
    return {
        r["student_id"]: (r["score"] if r["status"] == "graded" else f"not graded: {r['reason']}")
        for r in rows
    }, seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--load", type=float, default=3.0, help="busy loops per core")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", nargs="*", default=None, help="assignment names")
    args = parser.parse_args(argv)
    from coursekit.nbgrader_cli import assignment_names
    from coursekit.selfcheck import copy_course

    rows, identical = [], True
    busy = round(args.load * (os.cpu_count() or 1))
    with tempfile.TemporaryDirectory() as tmp:
        course = copy_course(ROOT, Path(tmp) / "course")
        for name in args.only or assignment_names(course):
            release(course, name)
            solution = (course / "solutions" / f"{name}.ipynb").read_text()
            collect(course, name, {f"r{i + 1:02d}": solution for i in range(args.reps)})
            idle, idle_s = graded_scores(course, name, args.jobs)
            with background_load(busy):
                loaded, loaded_s = graded_scores(course, name, args.jobs)
            same = idle == loaded and len(set(idle.values())) == 1
            identical &= same
            row = {
                "assignment": name,
                "hand-ins": args.reps,
                "idle": sorted(set(idle.values())),
                "loaded": sorted(set(loaded.values())),
                "identical": same,
                "idle_s": round(idle_s, 1),
                "loaded_s": round(loaded_s, 1),
            }
            rows.append(row)
            print(row, flush=True)
            for student in sorted(idle):
                print(
                    f"  {student} idle {idle[student]:>6}  loaded {loaded.get(student, '-'):>6}", flush=True
                )
    print(
        f"all scores identical and equal per assignment: {identical} "
        f"({busy} busy loops beside --jobs {args.jobs}; {data_note()})"
    )
    save("load", rows, note=f"{busy} busy loops; jobs {args.jobs}; {data_note()}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
