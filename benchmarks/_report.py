"""Where benchmarks leave their figures: one JSON per benchmark under ``_build/bench/``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "_build" / "bench"


def save(name: str, rows: list[dict], **meta) -> Path:
    """Write a benchmark's rows (and notes) for ``run_all.py`` to put in RESULTS.md."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps({"rows": rows, **meta}, indent=1, default=float))
    return path


def data_note() -> str:
    return f"data: {os.environ.get('COURSE_DATA_DIR', 'download / caches')}"


def run_script(code: str, label: str) -> dict:
    """Run ``code`` in a fresh full-mode Python and return the JSON it printed after ``RESULT``.

    A fresh interpreter per framework keeps TensorFlow and PyTorch out of each other's threads;
    ``COURSE_FAST`` is dropped so the lesson's data is the full set.
    """
    full = dict(os.environ, MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="2")
    full.pop("COURSE_FAST", None)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full)
    if proc.returncode != 0 or "RESULT" not in proc.stdout:
        raise RuntimeError(f"{label} run failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.split("RESULT", 1)[1])
