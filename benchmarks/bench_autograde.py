"""Autograde speed: seconds per submission for each assignment, extrapolated to 200 students.

In a temporary copy of the course directory: release every assignment, hand in the worked
solution as ``--students`` students, and time one ``nbgrader autograde`` batch per assignment.

    COURSE_DATA_DIR=../shared/data python benchmarks/bench_autograde.py [--students 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _report import ROOT, save  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=3)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "tools"))
    import grading

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp) / "course"
        course.mkdir()
        for item in ("assignments", "solutions", "tools", "nbgrader_config.py"):
            src = ROOT / item
            (shutil.copytree if src.is_dir() else shutil.copy)(src, course / item)
        names = grading.assignment_names(course)
        for name in names:
            if not grading.nbgrader("generate_assignment", name, "--force", root=course):
                raise RuntimeError(f"generate_assignment {name} failed")
            solution = course / "solutions" / f"{name}.ipynb"
            for k in range(args.students):
                target = course / "submitted" / f"student{k:03d}" / name
                target.mkdir(parents=True)
                shutil.copy(solution, target / f"{name}.ipynb")
            t0 = time.perf_counter()
            ok = grading.nbgrader("autograde", name, "--force", root=course)
            seconds = time.perf_counter() - t0
            per = seconds / args.students
            rows.append({"assignment": name, "students": args.students, "ok": ok,
                         "s_per_submission": round(per, 1),
                         "minutes_for_200": round(200 * per / 60, 1)})  # fmt: skip
            print(rows[-1], flush=True)
    print(f"{'assignment':22s} {'s/submission':>12s} {'200 students [min]':>18s}")
    for r in rows:
        print(f"{r['assignment']:22s} {r['s_per_submission']:12.1f} {r['minutes_for_200']:18.1f}")
    save("autograde", rows, note="solution notebooks graded sequentially by nbgrader autograde, 2 cores")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
