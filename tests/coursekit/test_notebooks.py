"""The one notebook build (jupytext percent sources → notebooks per track) on tiny sources."""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest

from coursekit import assignments, notebooks
from coursekit.config import Course
from tests.helpers import ROOT, kit

SOURCE = """# %% [markdown]
# # Lesson ({{Track}})
#
# [Open in Colab]({{colab}})

# %%
# %matplotlib inline
import numpy as np

# %% tags=["keras"]
import keras

# %% tags=["pytorch"]
import torch
"""

ASSIGNMENT = """# %% nbgrader={"grade": false, "grade_id": "answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def double(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_double", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false} tags=["pytorch"]
assert double(2) == 4
### BEGIN HIDDEN TESTS
assert double(-3) == -6
### END HIDDEN TESTS
"""


@pytest.fixture
def course(tmp_path) -> Course:
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "01_tiny.py").write_text(SOURCE)
    (tmp_path / "solutions" / "lectures" / "src").mkdir(parents=True)
    (tmp_path / "solutions" / "lectures" / "src" / "01_tiny.py").write_text("# %%\nprint(1)\n")
    (tmp_path / "assignments").mkdir()
    (tmp_path / "assignments" / "twice.py").write_text(ASSIGNMENT)
    (tmp_path / "course.toml").write_text(
        '[course]\nid = "t"\npublic_repo = "me/pub"\n'
        '[tracks]\nkeras = "Keras"\npytorch = "PyTorch"\n'
        '[assignments.twice]\ntracks = ["keras", "pytorch"]\npoints = 1\n'
    )
    return Course.load(tmp_path)


def _nb(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def test_one_source_two_tracks(course):
    assert notebooks.build(course) == 0
    keras, torch = (_nb(course.root / "notebooks" / t / "01_tiny.ipynb") for t in ("keras", "pytorch"))
    assert [c.source for c in keras.cells][2:] == ["import keras"]
    assert [c.source for c in torch.cells][2:] == ["import torch"]
    assert keras.cells[0].source.startswith("# Lesson (Keras)")
    colab = "colab.research.google.com/github/me/pub/blob/main/notebooks/keras/01_tiny.ipynb"
    assert colab in keras.cells[0].source
    assert keras.cells[1].source == "%matplotlib inline\nimport numpy as np"  # the magic is restored
    assert keras.metadata.kernelspec.name == "python3"
    assert all("tags" not in c.metadata for c in keras.cells)  # track tags are the build's, not the student's
    assert keras.cells[1].id == torch.cells[1].id  # a shared cell keeps its id in both tracks


def test_check_reports_stale_and_rebuild_is_identical(course, capsys):
    assert notebooks.build(course) == 0
    assert notebooks.build(course, check=True) == 0
    (course.root / "lessons" / "01_tiny.py").write_text(SOURCE.replace("numpy", "pandas"))
    assert notebooks.build(course, check=True) == 1
    assert "out of date: notebooks/keras/01_tiny.ipynb" in capsys.readouterr().out


def test_unknown_tag_names_file_and_cell(course):
    (course.root / "lessons" / "01_tiny.py").write_text(SOURCE.replace('tags=["keras"]', 'tags=["jax"]'))
    with pytest.raises(notebooks.SourceError, match=r"01_tiny.py: cell 3 .*unknown tag.*jax"):
        notebooks.build(course)


def test_cli_prints_a_source_error_without_traceback(course):
    """One error class: the CLI prints what to fix, exit status 2; the traceback only with --debug."""
    (course.root / "lessons" / "01_tiny.py").write_text(SOURCE.replace('tags=["keras"]', 'tags=["jax"]'))
    done = kit(course.root, "build")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "coursekit: " in done.stderr and "unknown tag" in done.stderr and "jax" in done.stderr
    debug = kit(course.root, "--debug", "build")
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "SourceError" in debug.stderr


def test_duplicate_grade_id_is_a_source_error(course):
    source = course.root / "assignments" / "twice.py"
    source.write_text(source.read_text().replace('"grade_id": "test_double"', '"grade_id": "answer"'))
    with pytest.raises(
        notebooks.SourceError, match=r"twice.py: grade_id used twice .*'answer'.*own grade_id"
    ):
        assignments.build(course)


def test_assignment_tracks_solutions_and_hidden_tests(course):
    assert assignments.build(course) == 0
    torch = _nb(course.root / "assignments" / "twice_pytorch" / "twice_pytorch.ipynb")
    keras = _nb(course.root / "assignments" / "twice_keras" / "twice_keras.ipynb")
    assert [c.id for c in torch.cells] == ["answer", "test_double"]  # nbgrader's grade_id is the id
    assert [c.id for c in keras.cells] == ["answer"]
    assert torch.cells[1].metadata.nbgrader["points"] == 1
    solution = _nb(course.root / "solutions" / "twice_pytorch.ipynb")
    assert "BEGIN" not in solution.cells[0].source and "return 2 * x" in solution.cells[0].source
    assert "double(-3)" not in solution.cells[1].source  # hidden tests are not in the worked solution


@pytest.mark.parametrize(
    "path",
    sorted(
        [
            *ROOT.glob("lessons/*.py"),
            *ROOT.glob("assignments/*.py"),
            *ROOT.glob("solutions/lectures/src/*.py"),
        ]
    ),
    ids=lambda p: p.name,
)
def test_sources_round_trip_through_jupytext(path):
    """Opening a source as a notebook (JupyterLab + jupytext) and saving it changes nothing."""
    from jupytext.config import find_jupytext_configuration_file, load_jupytext_configuration_file

    config = load_jupytext_configuration_file(find_jupytext_configuration_file(str(ROOT)))
    text = path.read_text(encoding="utf-8")
    nb = jupytext.reads(text, fmt="py:percent")
    assert jupytext.writes(nb, fmt="py:percent", config=config) == text


def test_toolbar_edit_reaches_the_built_notebook(tmp_path):
    """What nbgrader's toolbar changes in the opened source is in the next build."""
    from coursekit.selfcheck import copy_course

    course = Course.load(copy_course(ROOT, tmp_path / "c"))
    path = course.root / "assignments" / "matmul_timing.py"
    nb = jupytext.read(path, fmt="py:percent")
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_matmul")
    cell.metadata["nbgrader"]["points"] = 7
    nb.metadata["jupytext"] = {"notebook_metadata_filter": "-all"}
    jupytext.write(nb, path, fmt="py:percent")
    assert assignments.build(course) == 0
    built = _nb(course.root / "assignments" / "matmul_timing" / "matmul_timing.ipynb")
    assert next(c for c in built.cells if c.id == "test_matmul").metadata.nbgrader["points"] == 7
