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


def _share_the_cores_among_workers() -> None:
    """Under pytest-xdist, each worker grades in its share of the machine: ``coursekit grade``
    never runs more kernels than cores, but two workers each grading with one job per core would,
    and a timed hand-in (matmul_timing fits exponents to its own timings) would then lose points to
    the other worker's load. So a worker's grading runs take cores / workers jobs, and their
    kernels as many threads and cores (the jail's CPU quota follows ``OMP_NUM_THREADS``)."""
    from coursekit.nbgrader_cli import THREAD_VARS

    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
    if workers > 1:
        share = str(max(1, (os.cpu_count() or 1) // workers))
        os.environ.setdefault("COURSE_GRADING_JOBS", share)
        for var in THREAD_VARS:
            os.environ.setdefault(var, share)


_share_the_cores_among_workers()


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
def lesson_cache(tmp_path_factory, worker_id) -> Path:
    """One cache of executed lesson notebooks per test run, shared by pytest-xdist's workers: the
    lessons' execution tests fill it, the site test reuses it (whichever runs first executes; a
    notebook being executed by the other worker is waited for, see coursekit.execute)."""
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent  # the run's folder, above gw0, gw1
    cache = shared / "executed"
    cache.mkdir(exist_ok=True)
    return cache


# The test files that take longest: seconds per file under `make test` (2 cores, `pytest
# --durations=0`, 2026-12-07), before that day's cuts where a second figure follows (expected after
# them). `make test` runs files on two workers (`--dist loadfile`): a file's tests stay on one worker,
# so its module fixtures run once; starting the longest first keeps both busy to the end. The site
# test comes last: by then the lessons it shows are executed (lesson_cache).
LONGEST_FIRST = [
    "tests/coursekit/test_colab.py",  # 529 (Keras lessons 01, 02 trained less in fast mode)
    "tests/coursekit/grade/test_cluster.py",  # 430
    "tests/coursekit/grade/test_assignments.py",  # 308
    "tests/lessons/test_lecture_solutions.py",  # 319, about 260
    "tests/lessons/test_lessons.py",  # 304, about 250: executes the lessons the site shows
    "tests/coursekit/grade/test_limits.py",  # 92
    "tests/coursekit/grade/test_grading_robustness.py",  # 114
    "tests/test_browser.py",  # 108
    "tests/coursekit/grade/test_hostile_output.py",  # 229, about 100 (no wait for a silent kernel)
    "tests/coursekit/collect/test_hostile_files.py",  # 90
    "tests/coursekit/grade/test_canary.py",  # 78
    "tests/coursekit/grade/test_gradebook_postgres.py",  # 69
    "tests/coursekit/test_publish.py",  # 67
    "tests/coursekit/grade/test_grading_scale.py",  # 94, about 65 (two runs, not three)
]
LAST = ["tests/coursekit/test_site.py"]


def pytest_collection_modifyitems(config, items) -> None:
    """Longest files first, the site last; within a file, pytest's order."""

    def rank(item) -> int:
        path = item.nodeid.split("::")[0]
        if path in LAST:
            return len(LONGEST_FIRST) + 1
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order inside a file is kept


@pytest.fixture(scope="session")
def make_course(tmp_path_factory):
    """Factory of scratch courses: ``make_course(["matmul_timing"], env=...)`` copies this course
    (configuration, sources, solutions, student material) into a fresh folder and releases the
    named assignments there, so a test grades without touching the repository.

    The first course of each set of names is released with ``coursekit release``; later ones are
    copies of it (release/ and the gradebook the release wrote), which saves an nbgrader run per
    test module. A release in another gradebook (``env`` naming one) is never a copy."""
    import shutil

    from coursekit.grade.gradebook import ENV as GRADEBOOK_ENV
    from tests.helpers import scratch_course

    released: dict[tuple[str, ...], Path] = {}

    def make(names=(), env: dict | None = None) -> Path:
        key = tuple(sorted(names))
        if env is not None and env.get(GRADEBOOK_ENV) != os.environ.get(GRADEBOOK_ENV):
            return scratch_course(tmp_path_factory.mktemp("course"), list(names), env)
        if key not in released:
            released[key] = scratch_course(tmp_path_factory.mktemp("released"), list(names), env)
        target = tmp_path_factory.mktemp("course")
        shutil.copytree(released[key], target, dirs_exist_ok=True, symlinks=True)
        return target

    return make


@pytest.fixture(scope="session")
def perfect_handin():
    """``perfect_handin(root, name)``: the released notebook of ``name`` answered from its worked solution."""
    from tests.helpers import perfect_submission

    def make(root: Path, name: str):
        release, solution = root / "release" / name / f"{name}.ipynb", root / "solutions" / f"{name}.ipynb"
        return perfect_submission(release, solution)

    return make
