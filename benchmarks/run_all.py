"""Run every benchmark and write ``benchmarks/RESULTS.md`` with the machine and versions.

COURSE_DATA_DIR=../shared/data python -m benchmarks.run_all [--only NAME ...] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from benchmarks._report import OUT, ROOT

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"

# name, script, arguments, arguments with --quick
BENCHMARKS = [
    ("live_overhead", "bench_live_overhead.py", ["--pairs", "5"], ["--pairs", "1"]),
    ("mnist_cnn", "bench_mnist_cnn.py", ["--epochs", "1"], ["--epochs", "1"]),
    ("own_digits", "bench_own_digits.py", ["--epochs", "10"], ["--epochs", "1"]),
    ("lessons_full", "bench_lessons.py", [], ["--lessons", "05", "--tracks", "pytorch"]),
    ("matmul", "bench_matmul.py", [], []),
    ("autograde", "bench_autograde.py", ["--students", "20"], ["--students", "4"]),
    ("notebooks", "bench_notebooks.py", [], []),
    ("checklist", "bench_checklist.py", ["--students", "20"], ["--students", "4"]),
    ("cluster", "bench_cluster.py", ["--handins", "40"], ["--handins", "4"]),
]
TITLES = {
    "live_overhead": "Live-plot overhead (with / without, same run, interleaved)",
    "mnist_cnn": "MNIST CNN of the lecture (3,222,954 parameters): Keras vs PyTorch",
    "own_digits": "Lesson 05, section 7: the CNN on twenty photos of digits (as read, inverted, as MNIST)",
    "lessons_full": "Lessons 05-06 in full mode, both tracks: measured numbers next to the seeds'",
    "matmul": "matmul_timing assignment: times and fitted exponents",
    "autograde": "Autograding: seconds per submission, extrapolated to 200 students",
    "notebooks": "Fast-mode execution of every lecture notebook (COURSE_FAST=1)",
    "checklist": "The README's instructor checklist: each step's command, timed in a scratch copy",
    "cluster": "Grading on a local Dask cluster against local grading (--jobs 2 / 2 workers)",
}
PACKAGES = [
    "torch",
    "torchvision",
    "tensorflow-cpu",
    "keras",
    "numpy",
    "pandas",
    "matplotlib",
    "jupyterlab",
    "notebook",
    "nbgrader",
    "ipywidgets",
    "playwright",
]


def machine() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = "none"
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        if out.returncode == 0 and out.stdout.strip():
            gpu = out.stdout.strip().replace("\n", ", ")
    except (OSError, subprocess.TimeoutExpired):
        pass
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores visible",
        f"- GPU: {gpu}",
        f"- Python {platform.python_version()} on {platform.system()} {platform.release()}",
        f"- Packages: {', '.join(versions)}",
        f"- Data: `COURSE_DATA_DIR` = {'set' if os.environ.get('COURSE_DATA_DIR') else 'not set'} "
        "(full MNIST; CIFAR-10 is a 10,000-train / 2,000-test real subset of the 50,000 / 10,000)",
    ]


def table(rows: list[dict]) -> list[str]:
    if not rows:
        return ["(no rows)"]
    keys = list(dict.fromkeys(k for r in rows for k in r))
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        lines.append("| " + " | ".join("" if r.get(k) is None else str(r.get(k)) for k in keys) + " |")
    return lines


def sections(text: str) -> dict[str, str]:
    """``{title: text}`` of the ``## `` sections of a RESULTS.md, in order."""
    parts = re.split(r"(?m)^(?=## )", text)
    return {p.splitlines()[0][3:].strip(): p.rstrip() + "\n" for p in parts[1:]}


def by_hand(section: str) -> str:
    """The ``### `` subsections of a section (notes written by hand under a table this script
    writes: a before/after, a second run), or ""."""
    found = re.search(r"(?m)^### ", section)
    return section[found.start() :] if found else ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and epochs (a smoke run)")
    parser.add_argument("--report-only", action="store_true", help="rewrite RESULTS.md from saved figures")
    parser.add_argument("--note", default="", help="a line about this run (settings, machine load)")
    args = parser.parse_args(argv)
    durations = {}
    if not args.report_only:
        for name, script, full, quick in BENCHMARKS:
            if args.only and name not in args.only:
                continue
            print(f"\n=== {script}", flush=True)
            t0 = time.perf_counter()
            rc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    f"benchmarks.{script.removesuffix('.py')}",
                    *(quick if args.quick else full),
                ],
                cwd=ROOT,
            ).returncode
            durations[name] = (round(time.perf_counter() - t0), rc)
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (`benchmarks/run_all.py`) on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. A benchmark this run did not "
        "measure keeps its earlier section, and sections written by hand are kept as they were.",
        "",
        *([args.note, ""] if args.note else []),
        "## Machine",
        "",
        *machine(),
        "",
    ]
    # what an earlier RESULTS.md has that this script does not make is kept: sections and
    # subsections written by hand (GPU runs, full-mode lessons, before/after notes)
    before = sections(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    for name, script, _, _ in BENCHMARKS:
        path = OUT / f"{name}.json"
        if not path.exists() and TITLES[name] in before:  # not run here: the earlier figures stay
            lines += [before[TITLES[name]]]
            continue
        lines += [f"## {TITLES[name]}", "", f"`python -m benchmarks.{script.removesuffix('.py')}`", ""]
        if not path.exists():
            lines += ["Not measured yet.", ""]
        else:
            result = json.loads(path.read_text())
            lines += table(result["rows"]) + [""]
            for key, value in result.items():
                if key != "rows":
                    lines.append(f"- {key.replace('_', ' ')}: {value}")
            lines.append("")
        if notes := by_hand(before.get(TITLES[name], "")):
            lines += [notes]
    ci = ROOT / "_build" / "ci_seconds.txt"
    if ci.exists():
        lines += [
            "## CI",
            "",
            f"Last `.ci/run` on this checkout: {ci.read_text().strip()} s (install + tests).",
            "",
        ]
    else:
        lines += [before.get("CI") or "## CI\n\nNo `.ci/run` duration recorded (`_build/ci_seconds.txt`).\n"]
    kept = [text for title, text in before.items() if title not in {*TITLES.values(), "Machine", "CI"}]
    lines += kept
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print(f"\nwrote {RESULTS} (kept {len(kept)} section(s) written by hand)")
    failed = [n for n, (_, rc) in durations.items() if rc]
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
