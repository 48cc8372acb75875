"""Execute notebooks top to bottom (fast mode in CI) and report how long each took.

    COURSE_FAST=1 python tools/execute_notebooks.py                 # every lesson
    COURSE_FAST=1 python tools/execute_notebooks.py notebooks/keras/01_perceptron.ipynb

Executed copies go to ``_build/executed/`` (git-ignored); the sources stay output-free.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GLOBS = ("notebooks/*/*.ipynb",)


def execute(path: Path, out_dir: Path, timeout: int = 900) -> float:
    """Run one notebook in a fresh kernel, save the executed copy, return seconds."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})  # fmt: skip
    t0 = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - t0
    target = out_dir / path.relative_to(ROOT)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "executed")
    args = parser.parse_args(argv)
    os.environ.setdefault("COURSE_FAST", "1")
    paths = [p.resolve() for p in args.paths] or sorted(
        p for pattern in DEFAULT_GLOBS for p in ROOT.glob(pattern)
    )
    failures = []
    for path in paths:
        try:
            seconds = execute(path, args.out)
            print(f"{seconds:7.1f} s  {path.relative_to(ROOT)}", flush=True)
        except Exception as err:  # report every failing notebook, not just the first
            failures.append(path)
            reason = f"{type(err).__name__}: {str(err)[-2000:]}"
            print(f"FAILED     {path.relative_to(ROOT)}: {reason}", flush=True)
    print(f"{len(paths) - len(failures)}/{len(paths)} notebooks ran top to bottom.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
