"""Run a lesson notebook as a plain script, cell by cell, and check where PyTorch computes.

Made for timing lessons 05-08 on a GPU machine that has PyTorch but no Jupyter or TensorFlow
(``benchmarks/gpu_lessons.sh`` runs the eight notebooks at once and calls ``summary``):

    python benchmarks/gpu_lessons.py run notebooks/pytorch/05_mnist.ipynb
    python benchmarks/gpu_lessons.py summary LOG_DIR > summary.txt

``run`` executes the code cells in order in one namespace, like a kernel would: the value of a
cell's last expression is printed (as Jupyter would show it), ``%``/``!`` lines are skipped,
figures are closed after each cell. On Keras's PyTorch backend (``KERAS_BACKEND=torch``) cells
that ``import tensorflow`` are skipped and reported. Every ``conv2d``, ``linear`` and ``matmul``
that PyTorch runs (the Keras PyTorch backend calls the same functions) is counted by the device
of its input, per cell, so a cell that trains or predicts on the CPU shows up. At the end (also
when stopped by SIGTERM, e.g. by ``timeout``) one line ``GPU-LESSON {json}`` sums up the run.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import resource
import signal
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

MARKER = "GPU-LESSON "
TABLES = ("results", "table", "blocks_table", "transfer_table")  # the lessons' result tables


class Stopped(BaseException):
    """SIGTERM arrived (the time limit)."""


def _on_sigterm(signum, frame):
    raise Stopped()


class OpCounter:
    """Count conv2d / linear / matmul calls by the device type of their first tensor argument."""

    def __init__(self):
        import torch
        import torch.nn.functional as F

        self.total = Counter()
        self.cell = Counter()
        for owner, name in ((F, "conv2d"), (F, "linear"), (torch, "matmul")):
            setattr(owner, name, self._wrap(getattr(owner, name)))

    def _wrap(self, function):
        def counted(*args, **kwargs):
            first = args[0] if args else next(iter(kwargs.values()), None)
            kind = getattr(getattr(first, "device", None), "type", "other")
            self.total[kind] += 1
            self.cell[kind] += 1
            return function(*args, **kwargs)

        counted.__wrapped__ = function
        return counted


def code_cells(path: Path) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def without_magics(source: str) -> str:
    return "\n".join(
        "# " + line if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )


def show(value) -> None:
    """What Jupyter would show for a cell's last expression, as text."""
    if value is None:
        return
    to_string = getattr(value, "to_string", None)
    print(to_string() if callable(to_string) else repr(value))


def run_cell(source: str, namespace: dict) -> None:
    tree = ast.parse(source)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    if last is not None:
        tree.body = tree.body[:-1]
    exec(compile(tree, "<cell>", "exec"), namespace)
    if last is not None:
        show(eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace))


def device_report() -> dict:
    info = {"python": sys.version.split()[0]}
    if "torch" in sys.modules:
        import torch

        info["torch"] = torch.__version__
        info["cuda"] = torch.cuda.is_available()
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
            info["gpu_peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 3)
    if "keras" in sys.modules:
        import keras

        info["keras"] = keras.__version__
        info["keras_backend"] = keras.backend.backend()
        if keras.backend.backend() == "torch":
            from keras.src.backend.torch.core import get_device

            info["keras_device"] = str(get_device())
    return info


def run(path: Path) -> int:
    signal.signal(signal.SIGTERM, _on_sigterm)
    os.environ.setdefault("MPLBACKEND", "Agg")
    track = path.parent.name
    backend = os.environ.get("KERAS_BACKEND", "tensorflow") if track == "keras" else None
    counter = OpCounter()  # imports torch: both tracks here use it (Keras on its torch backend)
    import matplotlib.pyplot as plt

    try:  # a shell (no kernel), so that display(..., display_id=True) returns a handle
        from IPython.core.interactiveshell import InteractiveShell

        InteractiveShell.instance()
    except ImportError:
        pass
    cells = code_cells(path)
    os.chdir(path.parent)
    namespace = {"__name__": "__main__"}
    status, cpu_cells, skipped, cell_seconds = "ok", [], [], []
    t0 = time.perf_counter()
    i = 0
    try:
        for i, source in enumerate(cells, start=1):
            first = next((ln for ln in source.splitlines() if ln.strip()), "")[:70]
            if backend not in (None, "tensorflow") and re.search(r"^\s*import tensorflow", source, re.M):
                skipped.append(f"cell {i}: {first}")
                print(f"[cell {i}/{len(cells)} skipped: imports TensorFlow, Keras runs on {backend}]")
                continue
            counter.cell.clear()
            c0 = time.perf_counter()
            try:
                run_cell(without_magics(source), namespace)
            finally:
                seconds = time.perf_counter() - c0
                cell_seconds.append((i, round(seconds, 2), first))
                if counter.cell.get("cpu"):
                    cpu_cells.append(
                        {
                            "cell": i,
                            "cpu_ops": counter.cell["cpu"],
                            "gpu_ops": counter.cell.get("cuda", 0),
                            "first_line": first,
                        }
                    )
                plt.close("all")
                print(
                    f"[cell {i}/{len(cells)} {seconds:.1f} s, total {time.perf_counter() - t0:.1f} s]",
                    flush=True,
                )
    except Stopped:
        status = f"stopped by SIGTERM in cell {i}"
        print(f"\n{status}", flush=True)
    except Exception:
        status = f"error in cell {i}"
        traceback.print_exc()
        sys.stdout.flush()
    wall = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    tables = {}
    for name in TABLES:
        value = namespace.get(name)
        if name == "table" and "results" in namespace:  # then "table" is a per-class table
            continue
        if hasattr(value, "to_dict"):
            tables[name] = json.loads(value.to_json(orient="records"))
    summary = {
        "notebook": f"{track}/{path.stem}",
        "status": status,
        "wall_s": round(wall, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "cells": len(cells),
        "ops_by_device": dict(counter.total),
        "cells_with_cpu_ops": cpu_cells,
        "skipped_cells": skipped,
        "slowest_cells": sorted(cell_seconds, key=lambda c: -c[1])[:5],
        "fast_mode": os.environ.get("COURSE_FAST", ""),
        **device_report(),
        "tables": tables,
    }
    print(MARKER + json.dumps(summary), flush=True)
    return 0 if status == "ok" else 1


ACCURACY = re.compile(r"accuracy|acc %|top-1", re.I)


def summary(log_dir: Path, limit: str) -> int:
    rows, details = [], []
    for log in sorted(log_dir.glob("*.log")):
        text = log.read_text(encoding="utf-8", errors="replace")
        found = [ln for ln in text.splitlines() if ln.startswith(MARKER)]
        if not found:
            last = re.findall(r"^\[cell (\d+)/(\d+)", text, re.M)
            where = f"after cell {last[-1][0]}/{last[-1][1]}" if last else "before the first cell"
            rows.append(f"{log.stem:28s} {'killed':>8s}  no summary (killed {where}; limit {limit} s)")
            continue
        s = json.loads(found[-1][len(MARKER) :])
        ops = s["ops_by_device"]
        rows.append(
            f"{log.stem:28s} {s['wall_s']:8.1f}  {s['status']:24s} torch {s.get('torch', '?')}, "
            f"GPU {s.get('gpu', 'none')}, keras {s.get('keras_backend', '-')}"
            f"/{s.get('keras_device', '-')}; conv/linear/matmul on cuda {ops.get('cuda', 0):,}, "
            f"on cpu {ops.get('cpu', 0):,}; CPU time {s['cpu_s']} s"
        )
        details.append(f"--- {log.stem}: {s['status']}, {s['wall_s']} s wall")
        details += [f"  skipped {c}" for c in s["skipped_cells"]]
        details += [
            f"  CPU ops in cell {c['cell']}: {c['cpu_ops']} (cuda {c['gpu_ops']}): {c['first_line']}"
            for c in s["cells_with_cpu_ops"]
        ]
        details += [f"  slow cell {n}: {sec} s  {first}" for n, sec, first in s["slowest_cells"]]
        lines = [
            ln
            for ln in text.splitlines()
            if ACCURACY.search(ln)
            and not ln.startswith(("epoch ", MARKER))
            and "val_accuracy  time_s" not in ln
        ]
        details += ["  | " + ln[:200] for ln in lines[-25:]]
        for name, records in s["tables"].items():
            details.append(f"  table {name}:")
            details += ["    " + json.dumps(r, ensure_ascii=False)[:220] for r in records]
    print(f"{'run':28s} {'wall s':>8s}  status / device")
    print("\n".join(rows))
    print()
    print("\n".join(details))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run").add_argument("notebook", type=Path)
    p = sub.add_parser("summary")
    p.add_argument("log_dir", type=Path)
    p.add_argument("--limit", default="?")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args.notebook.resolve())
    return summary(args.log_dir, args.limit)


if __name__ == "__main__":
    sys.exit(main())
