"""The cost of grading on a Dask cluster: local ``--jobs J`` against a local J-worker cluster.

In a temporary copy of the course, ``--handins`` copies of matmul_timing's worked solution are
graded twice on the same machine: ``coursekit grade --jobs J --no-canary`` (today's pool), and
``coursekit grade --scheduler`` on a ``dask scheduler`` with J ``dask worker --nthreads 1``
processes (each in its own folder; the canary of each worker counted apart). Prints the seconds
of each, the cluster's overhead per hand-in and in percent (the target: at most 10 %), whether
the scores agree, and a model of 2,000 hand-ins on 10 workers of 8 cores from the measured
seconds per hand-in and core. A benchmark: figures, no timed assertion.

    COURSE_DATA_DIR=/tmp/nodata python benchmarks/bench_cluster.py [--handins 40] [--jobs 2]
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._report import ROOT, data_note, save

NAME = "matmul_timing"
DASK = str(Path(sys.executable).with_name("dask"))


def _scores(course: Path) -> dict[str, str]:
    with open(course / "grading_report.csv", newline="") as f:
        return {
            r["student_id"]: r["score"] if r["status"] == "graded" else r["reason"]
            for r in csv.DictReader(f)
            if r["assignment"] == NAME
        }


def _course(tmp: Path, label: str, handins: int) -> Path:
    from coursekit.selfcheck import copy_course

    course = copy_course(ROOT, tmp / label)
    tool = [sys.executable, "-m", "coursekit"]
    subprocess.run([*tool, "release", NAME], cwd=course, check=True, capture_output=True)
    folder = tmp / f"handins_{label}"
    folder.mkdir()
    for i in range(handins):
        shutil.copy(course / "solutions" / f"{NAME}.ipynb", folder / f"h{i + 1:03d}__{NAME}.ipynb")
    subprocess.run([*tool, "collect", str(folder)], cwd=course, check=True, capture_output=True)
    return course


def _cluster(tmp: Path, workers: int) -> tuple[str, list[subprocess.Popen]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    commands = {
        "scheduler": [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]
    }
    for i in range(1, workers + 1):
        commands[f"w{i}"] = [
            DASK,
            "worker",
            address,
            "--nthreads",
            "1",
            "--no-nanny",
            "--no-dashboard",
            "--name",
            f"w{i}",
            "--local-directory",
            str(tmp / f"w{i}"),
        ]
    procs = []
    for name, cmd in commands.items():
        (tmp / name).mkdir(exist_ok=True)
        log = open(tmp / name / "log.txt", "w")
        procs.append(
            subprocess.Popen(
                cmd, cwd=tmp / name, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        )
    return address, procs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--handins", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2, help="local jobs, and workers of the cluster")
    args = parser.parse_args(argv)
    tool = [sys.executable, "-m", "coursekit", "grade", NAME]
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as folder:
        tmp = Path(folder)
        local = _course(tmp, "local", args.handins)
        started = time.perf_counter()
        subprocess.run([*tool, "--no-canary", "--jobs", str(args.jobs)], cwd=local, capture_output=True)
        local_s = time.perf_counter() - started
        remote = _course(tmp, "cluster", args.handins)
        address, procs = _cluster(tmp, args.jobs)
        try:
            started = time.perf_counter()
            done = subprocess.run([*tool, "--scheduler", address], cwd=remote, capture_output=True, text=True)
            cluster_s = time.perf_counter() - started
        finally:
            for proc in procs:
                os.killpg(proc.pid, 9)
                proc.wait()
        canary = [float(s) for s in re.findall(r"canary passed in ([0-9.]+) s", done.stdout)]
        grading_s = cluster_s - max(canary or [0.0])  # the workers run their canaries side by side
        same = _scores(local) == _scores(remote)
    per_local, per_cluster = local_s / args.handins, grading_s / args.handins
    overhead = per_cluster - per_local
    per_core = per_cluster * args.jobs  # seconds of one core per hand-in, on this machine
    model_min = 2000 * per_core / (10 * 8) / 60 + max(canary or [0.0]) / 60
    row = {
        "hand-ins": args.handins,
        "jobs / workers": args.jobs,
        "local_s": round(local_s, 1),
        "cluster_s": round(cluster_s, 1),
        "canary_s": round(max(canary or [0.0]), 1),
        "cluster_grading_s": round(grading_s, 1),
        "local_s_per_handin": round(per_local, 2),
        "cluster_s_per_handin": round(per_cluster, 2),
        "overhead_s_per_handin": round(overhead, 2),
        "overhead_percent": round(100 * overhead / per_local, 1),
        "scores_identical": same,
        "model_2000_on_10x8_min": round(model_min, 1),
    }
    for key, value in row.items():
        print(f"{key:>26}: {value}")
    print(
        f"model: 2,000 hand-ins x {per_core:.1f} core-seconds each / 80 cores + the canary "
        f"= {model_min:.1f} min (scheduling and transfer assumed as measured here; {data_note()})"
    )
    save("cluster", [row], note=f"local --jobs {args.jobs} vs {args.jobs} local Dask workers; {data_note()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
