"""The worked solutions of the lecture exercises: built from their sources, one per lesson, each runs.

    pytest tests/lessons/test_lecture_solutions.py -m "not slow"   # seconds: build check, one per lesson
    pytest tests/lessons/test_lecture_solutions.py                 # + every solution executed in fast mode
"""

from __future__ import annotations

import os

import nbformat
import pytest

from coursekit import execute as execute_notebooks
from tests.helpers import ROOT, kit

SOLUTIONS = ROOT / "solutions" / "lectures"
LESSON_NAMES = sorted(p.stem for p in (ROOT / "lessons").glob("[0-9][0-9]_*.py"))



def test_solution_notebooks_are_built_from_their_sources():
    result = kit(ROOT, "check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_solution_notebook_per_lesson():
    assert LESSON_NAMES, "no lessons found"
    notebooks = sorted(p.stem for p in SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
    sources = sorted(p.stem for p in (SOLUTIONS / "src").glob("[0-9][0-9]_*.py"))
    assert notebooks == LESSON_NAMES
    assert sources == LESSON_NAMES


@pytest.mark.parametrize("name", LESSON_NAMES)
def test_solution_notebook_has_no_outputs_and_answers_every_exercise(name):
    nb = nbformat.read(SOLUTIONS / f"{name}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{name}: no code cells"
    assert all(not c.outputs and c.execution_count is None for c in code), f"{name}: has outputs"
    lesson = (ROOT / "lessons" / f"{name}.py").read_text(encoding="utf-8")
    exercises = lesson.split("## Exercises", 1)[1]
    n_exercises = sum(1 for line in exercises.splitlines() if line[:4] in {f"# {k}." for k in range(1, 10)})
    headings = [c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## Exercise ")]
    assert n_exercises >= 2 and len(headings) == n_exercises, (name, n_exercises, len(headings))


@pytest.mark.slow
@pytest.mark.parametrize("name", LESSON_NAMES)
def test_solution_notebook_runs_in_fast_mode(name, monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    if "COURSE_DATA_DIR" not in os.environ:  # the real data, as for the lessons' notebooks
        shared = ROOT.parent / "shared" / "data"
        if shared.is_dir():
            monkeypatch.setenv("COURSE_DATA_DIR", str(shared))
    nb = nbformat.read(SOLUTIONS / f"{name}.ipynb", as_version=4)
    execute_notebooks.run_notebook(nb, SOLUTIONS, timeout=600)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
