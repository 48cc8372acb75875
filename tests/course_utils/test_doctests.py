"""Every docstring example in course_utils runs: one test per module, no network, no GPU, no data.

Examples use tiny synthetic arrays and models. A module whose code or examples import torch or
keras is skipped only where that framework is not installed.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import os
import pkgutil
import tempfile

import pytest

import course_utils

FRAMEWORKS = ("torch", "keras", "tensorflow")
# course_utils modules that import a framework when imported themselves
FRAMEWORK_MODULES = {"course_utils.torch_training": "torch", "course_utils.keras_callback": "keras"}


def _modules() -> list[str]:
    names = ["course_utils"] + [
        m.name for m in pkgutil.walk_packages(course_utils.__path__, prefix="course_utils.")
    ]
    # Keras last: TensorFlow imported before torch has crashed torch before (see README)
    return sorted(names, key=lambda name: ("keras" in name or name == "course_utils", name))


def _frameworks_used(tests: list[doctest.DocTest]) -> list[str]:
    """The frameworks the examples import, directly or through a course_utils module."""
    used = set()
    for test in tests:
        for example in test.examples:
            try:
                tree = ast.parse(example.source)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    if name.split(".")[0] in FRAMEWORKS:
                        used.add(name.split(".")[0])
                    elif name in FRAMEWORK_MODULES:
                        used.add(FRAMEWORK_MODULES[name])
    return sorted(used)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if name in FRAMEWORK_MODULES:
        pytest.importorskip(FRAMEWORK_MODULES[name])
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder().find(module, name)
    for framework in _frameworks_used(tests):
        pytest.importorskip(framework)

    # files the examples write (live.save("loss.png"), stand-in data folders) go to tmp_path;
    # the environment variables they set (COURSE_FAST, PYTHONHASHSEED) are put back afterwards
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    for var in ("COURSE_FAST", "COURSE_FAST_SIZES", "NBGRADER_EXECUTION", "COURSE_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    environ = dict(os.environ)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    try:
        for test in tests:
            runner.run(test, out=report.append)
    finally:
        os.environ.clear()
        os.environ.update(environ)
        plt.close("all")
    assert runner.failures == 0, f"{runner.failures} of {runner.tries} examples failed:\n" + "".join(report)
