"""Every docstring example in coursekit runs (one test per module that has examples)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import coursekit


def _modules_with_examples() -> list[str]:
    names = [
        m.name
        for m in pkgutil.walk_packages(coursekit.__path__, prefix="coursekit.")
        if not m.name.endswith("__main__")
    ]
    finder = doctest.DocTestFinder()
    return [
        name
        for name in sorted(names)
        if any(test.examples for test in finder.find(importlib.import_module(name)))
    ]


MODULES = _modules_with_examples()


def test_some_modules_have_examples():
    assert "coursekit.config" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted > 0, name
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
