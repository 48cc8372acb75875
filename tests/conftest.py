"""Shared fixtures: real data from COURSE_DATA_DIR, a quiet TensorFlow (helpers: tests/helpers.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")



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
