"""Autograde throughput of ``make grade``: seconds per submission, extrapolated to 200 students.

In a temporary copy of the course directory, for each assignment: release it, generate
``--students`` hand-ins (a mix: half the worked solution, the rest blank, stripped of their
nbgrader metadata by an editor, or not valid JSON), collect them and time
``coursekit grade NAME --jobs J`` (repair, sandboxed autograde, rules, feedback, export).

Seconds per hand-in = the parallel grading phase (``N submission(s) in X s``, printed by ``grade``),
less the warm-kernel processes' start-ups (one per worker and Keras backend, whatever the number of
hand-ins; from the "warm" events), divided by N; ``once_s`` = what the run costs once (start-up,
``nbgrader export``, those start-ups divided by the jobs); minutes for 200 = 200 x seconds per
hand-in + once_s + the canary. Keras assignments run first on Keras's PyTorch backend and again on
TensorFlow after any error there: ``fallbacks`` counts those hand-ins and ``torch_run_s`` is the
mean time of their first run, over all hand-ins that ran (it is in ``nbgrader_s`` too).

Where a hand-in's seconds go, from the "timing" events the grader writes per hand-in
(``grading_logs/<student>__<name>.events``) and the "autograde N s" of grading_report.csv, as
means over the hand-ins that ran: ``kernel_s`` (starting the jailed kernel), ``setup_s`` (the
instructor's given cells: imports, data), ``answers_s`` (the student's answer cells), ``tests_s``
(the test cells), ``judge_s`` (of ``tests_s``: the hidden tests, judged in the grader, with the
values they ask of the kernel), ``guard_s`` (the grader's hidden checks), ``stop_s`` (kernel shutdown, cgroup
and folder clean-up), ``nbgrader_s`` (the rest of nbgrader's autograde: copies, gradebook,
preprocessors) and the slowest cell.

    COURSE_DATA_DIR=../shared/data python benchmarks/bench_autograde.py [--students 20] [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from benchmarks._course import TOOL, collect, release
from benchmarks._report import ROOT, save

MIX = (
    "perfect",
    "blank",
    "perfect",
    "stripped",
    "perfect",
    "broken",
    "perfect",
    "blank",
    "perfect",
    "stripped",
)


def _handin(kind: str, release: Path, solution: Path) -> str:
    """One hand-in of the given kind, as the text of its file."""
    nb = nbformat.read(release, as_version=4)
    if kind in ("perfect", "stripped"):
        answers = {
            c.metadata["nbgrader"]["grade_id"]: c.source
            for c in nbformat.read(solution, as_version=4).cells
            if "nbgrader" in c.metadata
        }
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution"):
                cell.source = answers[meta["grade_id"]]
    if kind == "stripped":
        for cell in nb.cells:
            cell.metadata = {}
    text = nbformat.writes(nb)
    return text[: len(text) // 2] if kind == "broken" else text


def breakdown(course: Path, name: str) -> dict:
    """Mean seconds per part of a hand-in's autograde (see the module's docstring)."""
    import csv
    import json
    import re
    from statistics import mean

    kinds = {}
    for cell in nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id"):
            kinds[meta["grade_id"]] = (
                "answers_s" if meta.get("solution") else "tests_s" if meta.get("grade") else "setup_s"
            )
    parts: dict[str, list[float]] = {
        k: []
        for k in (
            "kernel_s",
            "setup_s",
            "answers_s",
            "tests_s",
            "judge_s",
            "guard_s",
            "stop_s",
            "nbgrader_s",
            "torch_run_s",
        )
    }
    fallbacks = 0
    slowest: dict[str, list[float]] = {}
    with open(course / "grading_report.csv", newline="") as f:
        totals = {
            r["student_id"]: float(m.group(1))
            for r in csv.DictReader(f)
            if r["assignment"] == name and (m := re.search(r"autograde ([0-9.]+) s", r["notes"]))
        }
    for student, total in totals.items():
        events = course / "grading_logs" / f"{student}__{name}.events"
        all_events = list(map(json.loads, events.read_text().splitlines())) if events.exists() else []
        timing = [e for e in all_events if e["event"] == "timing"]
        if not timing:
            continue
        t = timing[-1]
        first = [e for e in all_events if e["event"] == "keras_backend" and e.get("fallback")]
        fallbacks += bool(first)
        parts["torch_run_s"].append(first[0]["torch_run_s"] - first[0]["zygote_start_s"] if first else 0.0)
        started = sum(e.get("zygote_start_s", 0.0) for e in all_events if e["event"] == "warm")
        sums = dict.fromkeys(("setup_s", "answers_s", "tests_s"), 0.0)
        for _, label, seconds in t["cells"]:
            sums[kinds.get(label, "setup_s")] += seconds
            slowest.setdefault(label, []).append(seconds)
        for key, value in sums.items():
            parts[key].append(value)
        parts["kernel_s"].append(t["kernel_start_s"] - started)  # a zygote's start is paid once (once_s)
        parts["guard_s"].append(t["hidden_s"])
        parts["judge_s"].append(t.get("judge_s", 0.0))  # within tests_s
        parts["stop_s"].append(t["execute_s"] - t["kernel_start_s"] - sum(sums.values()) - t["hidden_s"])
        parts["nbgrader_s"].append(total - t["execute_s"])
    row = {k: round(mean(v), 2) if v else None for k, v in parts.items()}
    if slowest:
        label, values = max(slowest.items(), key=lambda kv: mean(kv[1]))
        row["slowest_cell"] = f"{label[:40]} ({mean(values):.2f} s)"
    row["autograde_s"] = round(mean(totals.values()), 2) if totals else None
    row["fallbacks"] = fallbacks
    return row


def zygote_starts(course: Path, name: str) -> float:
    """Seconds all grading workers spent starting their warm-kernel processes for ``name``."""
    import json

    total = 0.0
    for events in (course / "grading_logs").glob(f"*__{name}.events"):
        for e in map(json.loads, events.read_text().splitlines()):
            if e["event"] == "warm" or (e["event"] == "keras_backend" and e.get("fallback")):
                total += e.get("zygote_start_s", 0.0)
    return total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", nargs="*", default=None, help="assignment names")
    parser.add_argument("--keep", default=None, help="keep the scratch course in this new folder")
    args = parser.parse_args(argv)
    from coursekit.nbgrader_cli import assignment_names
    from coursekit.selfcheck import copy_course

    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or scratch
        Path(tmp).mkdir(parents=True, exist_ok=True)
        course = copy_course(ROOT, Path(tmp) / "course")
        for name in args.only or assignment_names(course):
            released, solution = release(course, name), course / "solutions" / f"{name}.ipynb"
            kinds = [MIX[k % len(MIX)] for k in range(args.students)]
            collect(
                course,
                name,
                {f"s{k:03d}{kind}": _handin(kind, released, solution) for k, kind in enumerate(kinds)},
            )
            t0 = time.perf_counter()  # the canary, once per grading run (the worked solution)
            subprocess.run(
                [*TOOL, "selfcheck", name, "--jobs", str(args.jobs)], cwd=course, capture_output=True
            )
            canary = time.perf_counter() - t0
            t0 = time.perf_counter()
            result = subprocess.run(
                [*TOOL, "grade", name, "--no-canary", "--jobs", str(args.jobs)],
                cwd=course,
                capture_output=True,
                text=True,
            )
            seconds = time.perf_counter() - t0
            # "<name>: N submission(s) in X s": the parallel part; the rest (start-up, export) is paid once
            phase = re.search(rf"{name}: \d+ submission\(s\) in ([0-9.]+) s", result.stdout)
            parallel = float(phase.group(1)) if phase else seconds
            isolation = next((ln for ln in result.stdout.splitlines() if ln.startswith("isolation:")), "")
            graded = result.stdout.count(" graded ") - result.stdout.count(" not graded ")
            zygotes = zygote_starts(course, name) / args.jobs  # paid once per worker, not per hand-in
            per, once = (parallel - zygotes) / args.students, seconds - parallel + zygotes
            rows.append(
                {
                    "assignment": name,
                    "submissions": args.students,
                    "jobs": args.jobs,
                    "graded": graded,
                    "not_graded": result.stdout.count(" not graded "),
                    "seconds": round(seconds, 1),
                    "parallel_s": round(parallel, 1),
                    "zygote_starts_s": round(zygotes * args.jobs, 1),
                    "s_per_submission": round(per, 2),
                    "once_s": round(once, 1),
                    "minutes_for_200": round((200 * per + once + canary) / 60, 1),
                    "canary_s": round(canary, 1),
                    "isolation": isolation,
                    **breakdown(course, name),
                }
            )
            print(rows[-1], flush=True)
    parts = (
        "autograde_s",
        "kernel_s",
        "setup_s",
        "answers_s",
        "tests_s",
        "guard_s",
        "stop_s",
        "nbgrader_s",
        "torch_run_s",
        "fallbacks",
    )
    print(
        f"{'assignment':22s} {'s/submission':>12s} {'200 students [min]':>18s}  "
        + " ".join(f"{p:>10s}" for p in parts)
    )
    for r in rows:
        cells = " ".join(f"{r[p]:10.2f}" if r.get(p) is not None else f"{'-':>10s}" for p in parts)
        print(
            f"{r['assignment']:22s} {r['s_per_submission']:12.2f} {r['minutes_for_200']:18.1f}  {cells}  {r.get('slowest_cell', '')}"
        )
    save(
        "autograde",
        rows,
        note=f"coursekit grade --no-canary --jobs {args.jobs} (the canary timed apart) on a mix of "
        f"{args.students} hand-ins per assignment ({', '.join(sorted(set(MIX)))}), {os.cpu_count()} cores",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
