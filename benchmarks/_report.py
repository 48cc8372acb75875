"""Where benchmarks leave their figures: one JSON per benchmark under ``_build/bench/``."""

from __future__ import annotations

import json
import os
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
