"""Worked solutions of the lecture exercises: built from their sources, one per lesson and track, each runs.

pytest tests/lessons/test_lecture_solutions.py -m "not slow"   # seconds: build check, one per lesson
pytest tests/lessons/test_lecture_solutions.py                 # + every solution executed in fast mode
"""

from __future__ import annotations

import os
import re

import nbformat
import pytest

from coursekit import execute as execute_notebooks
from tests.helpers import ROOT, kit

SOLUTIONS = ROOT / "solutions" / "lectures"
LESSON_NAMES = sorted(p.stem for p in (ROOT / "lessons").glob("[0-9][0-9]_*.py"))
TRACKS = ("keras", "pytorch")
NOTEBOOKS = sorted(SOLUTIONS.glob("*/[0-9][0-9]_*.ipynb"))


def test_solution_notebooks_are_built_from_their_sources():
    result = kit(ROOT, "check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_solution_notebook_per_lesson_and_track():
    assert LESSON_NAMES, "no lessons found"
    sources = sorted(p.stem for p in (SOLUTIONS / "src").glob("[0-9][0-9]_*.py"))
    assert sources == LESSON_NAMES
    for track in TRACKS:
        built = sorted(p.stem for p in (SOLUTIONS / track).glob("[0-9][0-9]_*.ipynb"))
        missing = sorted(set(LESSON_NAMES) - set(built))
        assert built == LESSON_NAMES, f"{track}: no solutions of {missing}"
    assert not list(SOLUTIONS.glob("[0-9][0-9]_*.ipynb")), "a solution source without track cells"


FORBIDDEN = {"keras": ("torch", "torchvision", "torchinfo"), "pytorch": ("tensorflow", "keras")}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_solution_notebook_has_no_outputs_and_answers_every_exercise(path):
    name, track = path.stem, path.parent.name
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{name}: no code cells"
    assert all(not c.outputs and c.execution_count is None for c in code), f"{name}: has outputs"
    lesson = (ROOT / "lessons" / f"{name}.py").read_text(encoding="utf-8")
    exercises = lesson.split("## Exercises", 1)[1]
    n_exercises = sum(1 for line in exercises.splitlines() if line[:4] in {f"# {k}." for k in range(1, 10)})
    headings = [c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## Exercise ")]
    assert n_exercises >= 2 and len(headings) == n_exercises, (name, n_exercises, len(headings))
    pattern = re.compile(r"^\s*(?:from|import)\s+([\w.]+)", re.M)
    imports = {m.group(1) for c in code for m in pattern.finditer(c.source)}
    bad = [m for m in imports if m.split(".")[0] in FORBIDDEN[track]]
    assert not bad, f"the {track} solution of {name} imports {bad}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_solution_notebook_runs_in_fast_mode(path, monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    if "COURSE_DATA_DIR" not in os.environ:  # the real data, as for the lessons' notebooks
        shared = ROOT.parent / "shared" / "data"
        if shared.is_dir():
            monkeypatch.setenv("COURSE_DATA_DIR", str(shared))
    nb = nbformat.read(path, as_version=4)
    execute_notebooks.run_notebook(nb, path.parent, timeout=600)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
