"""Execute: run notebooks top to bottom (fast mode in CI) and report how long each took.

    coursekit execute                                   # every lesson, fast mode
    coursekit execute notebooks/keras/01_perceptron.ipynb

Every successful run is kept in a cache (``_build/cache/``, git-ignored), named by what decides
its outputs: the notebook's bytes, the mode (``COURSE_FAST``) and the course_utils sources.
The site (:mod:`coursekit.site`) takes its outputs from there, so an unchanged lesson is not run
again. ``coursekit execute`` itself always runs; the sources stay output-free.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import nbformat
from filelock import FileLock

from coursekit.config import environment, inherited

DEFAULT_GLOBS = ("notebooks/*/*.ipynb",)
CACHE = Path("_build") / "cache"


def run_notebook(
    nb,
    cwd: Path,
    timeout: int = 900,
    env: dict | None = None,
    kernel: str = "python3",
    kernel_dirs: list[str] | None = None,
):
    """Execute ``nb`` in place in a fresh kernel whose working directory is ``cwd``.

    ``kernel``: the kernelspec's name, looked up in ``kernel_dirs`` if given (the Colab stand-in's
    ``colab``). ``env``: the kernel's environment (default: this process's). The kernel talks over Unix
    sockets in a private temporary folder (IPC transport), not over TCP ports: on a machine where
    several jobs start kernels at once, TCP port picking can race and leave a client waiting
    forever for a kernel that never answers.
    """
    import tempfile

    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient

    specs = {"kernel_spec_manager": KernelSpecManager(kernel_dirs=kernel_dirs)} if kernel_dirs else {}
    with tempfile.TemporaryDirectory(prefix="course-kernel-") as sockets:
        km = KernelManager(kernel_name=kernel, transport="ipc", ip=os.path.join(sockets, "k"), **specs)
        client = NotebookClient(
            nb, km=km, timeout=timeout, kernel_name=kernel, resources={"metadata": {"path": str(cwd)}}
        )
        try:
            client.execute(**({"env": env} if env is not None else {}))
        finally:  # a kernel manager passed in is not shut down by nbclient: it would linger
            if km.has_kernel:
                km.shutdown_kernel(now=True)
    return nb


def lesson_env(fast: bool) -> dict[str, str]:
    """The environment lessons run in: fast or full mode, quiet TensorFlow, inline figures."""
    env = inherited(drop=("MPLBACKEND",))  # Agg would draw no figure
    env.update(COURSE_FAST="1" if fast else "0", TF_CPP_MIN_LOG_LEVEL="2")
    return env


def cache_key(path: Path, fast: bool) -> str:
    """What decides a notebook's outputs: its bytes, the mode and the course_utils sources."""
    import course_utils

    digest = hashlib.sha256(path.read_bytes())
    digest.update(b"fast" if fast else b"full")
    for source in sorted(Path(course_utils.__file__).parent.rglob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:20]


def cached(path: Path, cache: Path, fast: bool) -> Path:
    """Where the executed copy of ``path`` is kept in ``cache``."""
    return cache / f"{path.stem}-{cache_key(path, fast)}.ipynb"


def execute(
    path: Path, cache: Path | None = None, *, fast: bool = True, timeout: int = 900, reuse: bool = False
) -> tuple[nbformat.NotebookNode, float]:
    """Run one notebook in a fresh kernel (cwd: its folder); ``(executed notebook, seconds)``.

    With ``cache``, a successful run is stored there; with ``reuse`` too, a stored run is
    returned instead of running again (seconds: 0). A failing cell raises nbclient's
    ``CellExecutionError`` and nothing is stored.
    """
    target = cached(path, cache, fast) if cache is not None else None
    if target is None:
        return _run(path, timeout, fast, None)
    target.parent.mkdir(parents=True, exist_ok=True)
    # One run per cached copy at a time: a second process (pytest-xdist's other worker, a
    # `coursekit publish` beside `coursekit execute`) waits for the copy instead of running again.
    with FileLock(target.with_suffix(".lock")):
        if reuse and target.exists():
            return nbformat.read(target, as_version=4), 0.0
        return _run(path, timeout, fast, target)


def _run(path: Path, timeout: int, fast: bool, target: Path | None) -> tuple[nbformat.NotebookNode, float]:
    nb = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    run_notebook(nb, path.parent, timeout, env=lesson_env(fast))
    seconds = time.perf_counter() - t0
    if target is not None:
        partial = target.with_suffix(f".{os.getpid()}.part")
        nbformat.write(nb, partial)
        partial.replace(target)  # atomic: a reader never sees half a notebook
    return nb, seconds


def execute_all(root: Path, paths: list[Path], cache: Path | None = None) -> int:
    """Execute ``paths`` (default: every lesson notebook) in ``$COURSE_FAST``'s mode; 1 on failure."""
    cache = cache or root / CACHE
    fast = environment().fast is not False
    paths = [p.resolve() for p in paths] or sorted(p for pattern in DEFAULT_GLOBS for p in root.glob(pattern))
    failures = []
    total = 0.0
    for path in paths:
        shown = path.relative_to(root) if path.is_relative_to(root) else path
        try:
            _, seconds = execute(path, cache, fast=fast)
            total += seconds
            print(f"{seconds:7.1f} s  {shown}", flush=True)
        except Exception as err:  # report every failing notebook, not just the first
            failures.append(path)
            reason = f"{type(err).__name__}: {str(err)[-2000:]}"
            print(f"FAILED     {shown}: {reason}", flush=True)
    mode = "fast" if fast else "full"
    print(
        f"{len(paths) - len(failures)}/{len(paths)} notebooks ran top to bottom in {mode} mode "
        f"({total:.0f} s in all); executed copies in {cache}"
    )
    return 1 if failures else 0
