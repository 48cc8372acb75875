"""Execute: run notebooks top to bottom (fast mode in CI) and report how long each took.

    coursekit execute                                   # every lesson, fast mode
    coursekit execute notebooks/keras/01_perceptron.ipynb

Executed copies go to ``_build/executed/`` (git-ignored); the sources stay output-free.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

DEFAULT_GLOBS = ("notebooks/*/*.ipynb",)


def run_notebook(nb, cwd: Path, timeout: int = 900):
    """Execute ``nb`` in place in a fresh kernel whose working directory is ``cwd``.

    The kernel talks over Unix sockets in a private temporary folder (IPC transport), not over
    TCP ports: on a machine where several jobs start kernels at once, TCP port picking can race
    and leave a client waiting forever for a kernel that never answers.
    """
    import tempfile

    from jupyter_client import KernelManager
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory(prefix="course-kernel-") as sockets:
        km = KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(sockets, "k"))
        client = NotebookClient(nb, km=km, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(cwd)}})  # fmt: skip
        try:
            client.execute()
        finally:  # a kernel manager passed in is not shut down by nbclient: it would linger
            if km.has_kernel:
                km.shutdown_kernel(now=True)
    return nb


def execute(path: Path, out_dir: Path, root: Path, timeout: int = 900) -> float:
    """Run one notebook in a fresh kernel, save the executed copy, return seconds."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    run_notebook(nb, path.parent, timeout)
    seconds = time.perf_counter() - t0
    target = out_dir / path.relative_to(root)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return seconds


def execute_all(root: Path, paths: list[Path], out: Path | None = None) -> int:
    """Execute ``paths`` (default: every lesson notebook); 1 when any failed."""
    out = out or root / "_build" / "executed"
    os.environ.setdefault("COURSE_FAST", "1")
    paths = [p.resolve() for p in paths] or sorted(p for pattern in DEFAULT_GLOBS for p in root.glob(pattern))
    failures = []
    total = 0.0
    for path in paths:
        shown = path.relative_to(root) if path.is_relative_to(root) else path
        try:
            seconds = execute(path, out, root if path.is_relative_to(root) else path.parent)
            total += seconds
            print(f"{seconds:7.1f} s  {shown}", flush=True)
        except Exception as err:  # report every failing notebook, not just the first
            failures.append(path)
            reason = f"{type(err).__name__}: {str(err)[-2000:]}"
            print(f"FAILED     {shown}: {reason}", flush=True)
    print(f"{len(paths) - len(failures)}/{len(paths)} notebooks ran top to bottom ({total:.0f} s in all).")
    return 1 if failures else 0
