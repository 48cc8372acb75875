"""Shared fixtures: real data from COURSE_DATA_DIR, a quiet TensorFlow (helpers: tests/helpers.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")


def _trust_where_no_jail() -> None:
    """Where the grading jail cannot run (not root, no bubblewrap), grading tests run in the
    trusted single-user mode (``coursekit grade --trusted``) instead of being refused."""
    from coursekit.grade import jail

    if jail.available() is not None:
        os.environ.setdefault("COURSE_GRADING_TRUSTED", "1")


_trust_where_no_jail()


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


@pytest.fixture(scope="session")
def lesson_cache(tmp_path_factory) -> Path:
    """One cache of executed lesson notebooks per test session: the lessons' execution tests
    fill it, the site test reuses it (whichever runs first executes)."""
    return tmp_path_factory.mktemp("executed")


@pytest.fixture(scope="session")
def make_course(tmp_path_factory):
    """Factory of scratch courses: ``make_course(["matmul_timing"], env=...)`` copies this course
    (configuration, sources, solutions, student material) into a fresh folder and releases the
    named assignments there, so a test grades without touching the repository."""
    from tests.helpers import scratch_course

    def make(names=(), env: dict | None = None) -> Path:
        return scratch_course(tmp_path_factory.mktemp("course"), list(names), env)

    return make


@pytest.fixture(scope="session")
def perfect_handin():
    """``perfect_handin(root, name)``: the released notebook of ``name`` answered from its worked solution."""
    from tests.helpers import perfect_submission

    def make(root: Path, name: str):
        release, solution = root / "release" / name / f"{name}.ipynb", root / "solutions" / f"{name}.ipynb"
        return perfect_submission(release, solution)

    return make
