"""Shared fixtures: real data from COURSE_DATA_DIR, a notebook runner, a quiet TensorFlow."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real data folder (``../shared/data`` in CI); tests needing it skip without it."""
    value = os.environ.get("COURSE_DATA_DIR")
    if not value or not Path(value).is_dir():
        pytest.skip("COURSE_DATA_DIR is not set: real MNIST/CIFAR-10 data is needed (see README).")
    return Path(value)


@pytest.fixture(scope="session")
def mnist_small(data_dir):
    from course_utils import load_mnist

    return load_mnist(n_train=1024, n_test=256)


def run_notebook(cells: list[str], timeout: int = 300, cwd: Path | None = None, env: dict | None = None):
    """Execute code cells in a fresh Jupyter kernel (IPC transport) and return the notebook."""
    import sys

    import nbformat

    sys.path.insert(0, str(ROOT / "tools"))
    from execute_notebooks import run_notebook as run

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    old = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        run(nb, cwd or ROOT, timeout)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb
