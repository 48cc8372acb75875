"""The lecture notebooks: built from lessons/, the two tracks agree, each runs, no framework mix-up.

pytest tests/lessons/test_lessons.py -m "not slow"     # seconds: build check, parity, imports
pytest tests/lessons/test_lessons.py                   # + every notebook executed in fast mode
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import nbformat
import pytest

from coursekit import execute as execute_notebooks
from coursekit import notebooks
from coursekit.config import Course
from tests.helpers import ROOT, kit

NOTEBOOKS = ROOT / "notebooks"
TRACKS = ("keras", "pytorch")
ALL_NOTEBOOKS = sorted(NOTEBOOKS.glob("*/[0-9][0-9]_*.ipynb"))
# Modules a notebook of the other track must never import.
FORBIDDEN = {
    "keras": ("torch", "torchvision", "torchinfo", "course_utils.torch_training"),
    "pytorch": ("tensorflow", "keras", "tf_keras", "course_utils.keras_callback"),
}


# TensorFlow's C++ log lines (absl's format "I0000 00:00:..." and its start-up notes)
TF_LOG = re.compile(r"^[IWEF]\d{4} \d\d:|absl::|oneDNN|tensorflow/core/|TF-TRT|Unable to register cu")


def _lessons(track: str) -> list[str]:
    return sorted(p.name for p in (NOTEBOOKS / track).glob("[0-9][0-9]_*.ipynb"))


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _python_source(cell_source: str) -> str:
    """Cell source with IPython syntax (``%pip``, ``!ls``) turned into plain Python."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(cell_source)


def _imported_modules(nb) -> set[str]:
    modules: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(_python_source(cell.source))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module)
                modules.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module":
                if node.args and isinstance(node.args[0], ast.Constant):
                    modules.add(str(node.args[0].value))
    return modules


def _is_forbidden(module: str, banned: tuple[str, ...]) -> bool:
    return any(module == b or module.startswith(b + ".") for b in banned)


# ------------------------------------------------------------------ (a) build and parity


def test_notebooks_are_built_from_lessons():
    result = kit(ROOT, "check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_lesson_is_in_both_tracks():
    lessons = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.py"))
    assert lessons, "no lessons found in lessons/"
    keras, pytorch = _lessons("keras"), _lessons("pytorch")
    assert keras == pytorch
    assert keras == [f"{p.stem}.ipynb" for p in lessons]


@pytest.mark.parametrize("name", _lessons("keras"))
def test_tracks_share_the_untagged_cells(name):
    """Every untagged lesson cell is in both notebooks, with the same text up to placeholders."""
    stem = name.removesuffix(".ipynb")
    course = Course.load(ROOT)
    cells = notebooks.read_cells(ROOT / "lessons" / f"{stem}.py", course.tracks)
    by_id = {track: {c.id: c for c in _read(NOTEBOOKS / track / name).cells} for track in TRACKS}
    shared_ids = set()
    for index, cell in enumerate(cells):
        cell_id = notebooks.stable_id(stem, index)
        tags = cell.metadata.get("tags", [])
        if set(tags) & set(TRACKS):
            tracks_with_it = [t for t in TRACKS if cell_id in by_id[t]]
            assert tracks_with_it == [t for t in TRACKS if t in tags], cell.source[:80]
            continue
        shared_ids.add(cell_id)
        keras_cell, pytorch_cell = by_id["keras"][cell_id], by_id["pytorch"][cell_id]
        assert keras_cell.cell_type == pytorch_cell.cell_type == cell.cell_type
        for track, nb_cell in (("keras", keras_cell), ("pytorch", pytorch_cell)):
            path = f"notebooks/{track}/{name}"
            assert nb_cell.source == notebooks.substitute(cell.source, course, track, path)
        if "{{" not in cell.source:
            assert keras_cell.source == pytorch_cell.source
    assert shared_ids == set(by_id["keras"]) & set(by_id["pytorch"])


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_has_badge_and_colab_setup(path):
    nb = _read(path)
    first = nb.cells[0].source
    assert "colab.research.google.com/github/" in first
    assert f"blob/main/notebooks/{path.parent.name}/{path.name}" in first
    course = Course.load(ROOT)
    assert course.colab_url(f"notebooks/{path.parent.name}/{path.name}") in first
    # the Colab install cell fetches course_utils from the students' public repository
    assert any(
        "google.colab" in c.source
        and f"git+https://github.com/{course.public_repo}" in c.source
        and '"pip", "install"' in c.source
        for c in nb.cells
        if c.cell_type == "code"
    )
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit without outputs"


# ------------------------------------------------------------- (c) no framework mix-up


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_imports_only_its_framework(path):
    track = path.parent.name
    modules = _imported_modules(_read(path))
    bad = sorted(m for m in modules if _is_forbidden(m, FORBIDDEN[track]))
    assert not bad, f"{track} notebook {path.name} imports {bad}"
    own = "keras" if track == "keras" else "torch"
    assert any(m == own or m.startswith(own + ".") for m in modules), f"{path.name} never imports {own}"


def test_import_check_catches_a_mix_up():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("import sys\nif 1:\n    %pip install -q x"),
            nbformat.v4.new_code_cell("from torch import nn\nimport keras.layers"),
        ]
    )
    modules = _imported_modules(nb)
    assert _is_forbidden("torch", FORBIDDEN["keras"]) and "torch" in modules
    assert "keras.layers" in modules and _is_forbidden("keras.layers", FORBIDDEN["pytorch"])


# API names that belong to one framework. A cell both notebooks get (no track tag) may name them
# only next to the other framework (its API or its name: "Keras: `restore_best_weights=True`;
# PyTorch: `load_state_dict`"); a quoted listing of a source (a fenced block in a markdown cell,
# like lesson 8's slide code) is exempt.
FRAMEWORK_API = {
    "pytorch": re.compile(
        r"\btorch(?:vision|info)?\.|\bnn\.[A-Z]\w+|\bF\.[a-z_]+\(|\bstate_dict\b|\bDataLoader\b|"
        r"\bTensorDataset\b|\bSummaryWriter\b|\brequires_grad(?:_)?\b|\bno_grad\b|\.backward\(|\bzero_grad\b|\bload_state_dict\b|"
        r"\b(?:Conv|BatchNorm|MaxPool|AvgPool)[123]d\b|\b(?:CrossEntropy|NLL|BCEWithLogits)Loss\b"
    ),
    "keras": re.compile(
        r"\bkeras\.|\btf\.[a-z]|\bGradientTape\b|\bfrom_logits\b|\b(?:get|set|save|load)_weights\b|"
        r"\bmodel\.summary\(|\bBatchNormalization\b|\bkernel_regularizer\b|\bDense\(|\b(?:Conv|MaxPooling)[123]D\b|"
        r"\bSparseCategoricalCrossentropy\b"
    ),
}
FRAMEWORK_NAME = {"pytorch": re.compile(r"\bPyTorch\b"), "keras": re.compile(r"\bKeras\b")}
FENCED = re.compile(r"^```.*?^```", re.M | re.S)


def _one_framework_apis(cell) -> dict[str, list[str]]:
    """The API names of the one framework an untagged cell names alone (empty: fine)."""
    text = FENCED.sub("", cell.source) if cell.cell_type == "markdown" else cell.source
    found = {track: sorted({m.group(0) for m in api.finditer(text)}) for track, api in FRAMEWORK_API.items()}
    alone = {}
    for track, other in (("keras", "pytorch"), ("pytorch", "keras")):
        if found[track] and not found[other] and not FRAMEWORK_NAME[other].search(text):
            alone[track] = found[track]
    return alone


SOURCES = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.py")) + sorted(
    (ROOT / "solutions" / "lectures" / "src").glob("[0-9][0-9]_*.py")
)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_no_untagged_cell_names_one_frameworks_api(source):
    """Both notebooks get an untagged cell: it must not teach one framework's API alone."""
    course = Course.load(ROOT)
    problems = []
    for index, cell in enumerate(notebooks.read_cells(source, course.tracks)):
        if set(cell.metadata.get("tags", [])) & set(TRACKS):
            continue
        for track, names in _one_framework_apis(cell).items():
            first = cell.source.strip().splitlines()[0][:70]
            problems.append(f"cell {index} ({first!r}) names only {track}'s {names}: tag it or name both")
    assert not problems, f"{source.name}:\n" + "\n".join(problems)


def test_api_check_catches_one_framework_prose():
    md = nbformat.v4.new_markdown_cell
    assert _one_framework_apis(md("Print the model: `print(model)` and `torchinfo.summary(model)`.")) == {
        "pytorch": ["torchinfo."]
    }
    assert _one_framework_apis(md("Keep the weights: `get_weights` / a cloned `state_dict`.")) == {}
    assert _one_framework_apis(md("PyTorch: `load_state_dict`; Keras: `restore_best_weights`.")) == {}
    assert _one_framework_apis(md("The slide:\n```python\nself.fc1 = nn.Linear(9216, 128)\n```")) == {}
    assert _one_framework_apis(nbformat.v4.new_code_cell("opt = keras.optimizers.Adam()")) == {
        "keras": ["keras."]
    }


# ------------------------------------------------------------------ (b) execution


@pytest.mark.slow
@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_executes_in_fast_mode(path, lesson_cache, monkeypatch):
    if "COURSE_DATA_DIR" not in os.environ:
        shared = ROOT.parent / "shared" / "data"
        if shared.is_dir():
            monkeypatch.setenv("COURSE_DATA_DIR", str(shared))
    # raises on the first error; kept in the session's cache, where the site test finds it
    nb, _ = execute_notebooks.execute(path, lesson_cache, fast=True, timeout=600, reuse=True)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    assert any(c.get("outputs") for c in nb.cells), "the executed notebook has no output at all"
    stderr = [
        line
        for c in nb.cells
        for o in c.get("outputs", [])
        if o.get("name") == "stderr"
        for line in o.get("text", "").splitlines()
    ]
    noise = [line for line in stderr if TF_LOG.search(line)]
    assert not noise, f"TensorFlow's log lines reach the student: {noise[:4]}"
