"""nbgrader assignments: sources, solutions, release, collect, autograde, feedback, export.

The slow tests run the whole instructor workflow once (the ``coursekit`` CLI) in a copy of
the course directory: every assignment is released, a perfect submission (the released
notebook with the solutions filled in) and a blank one (the released notebook as it is)
are collected and autograded, and the grades are exported. The canary before grading is
skipped here: it would grade the perfect submissions again (tests/coursekit/grade/test_canary.py).
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from coursekit.collect import _grade_ids, check_handin, plan_collect
from coursekit.config import Course
from coursekit.nbgrader_cli import NBGRADER
from tests.helpers import ROOT, always_equal_submission, autograded_scores, kit, mnist_available

COURSE = Course.load(ROOT)
ASSIGNMENTS = sorted(COURSE.notebook_names())
# nbgrader points per notebook, read from course.toml (`points`), never repeated here
TOTALS = {name: COURSE.assignment_of(name).points for name in ASSIGNMENTS}


def _nbgrader_cells(nb):
    return [c for c in nb.cells if "nbgrader" in c.metadata]


def _read(path: Path):
    return nbformat.read(path, as_version=4)


# ------------------------------------------------------------------------------ fast


def test_all_assignments_present():
    for name in ASSIGNMENTS:
        assert (ROOT / "assignments" / name / f"{name}.ipynb").exists(), f"{name} of course.toml is not built"
    assert all(points > 0 for points in TOTALS.values())


def test_generated_notebooks_are_up_to_date():
    """assignments/ and solutions/ are exactly what `coursekit build` writes from assignments/*.py."""
    result = kit(ROOT, "check")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_source_notebook(name):
    nb = _read(ROOT / "assignments" / name / f"{name}.ipynb")
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    cells = _nbgrader_cells(nb)
    ids = [c.metadata.nbgrader.grade_id for c in cells]
    assert len(ids) == len(set(ids)), "grade ids must be unique"
    points = sum(c.metadata.nbgrader.get("points", 0) for c in cells if c.metadata.nbgrader.grade)
    assert points == TOTALS[name]
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit without outputs"
    autograded = [c for c in cells if c.metadata.nbgrader.grade and not c.metadata.nbgrader.solution]
    assert autograded and all(c.cell_type == "code" and c.metadata.nbgrader.locked for c in autograded)
    assert any("### BEGIN HIDDEN TESTS" in c.source for c in autograded), "every assignment has hidden tests"
    manual = [c for c in cells if c.metadata.nbgrader.grade and c.metadata.nbgrader.solution]
    assert any(c.cell_type == "markdown" for c in manual), "discussion cells are graded by hand"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_notebook_matches_source(name):
    source = _read(ROOT / "assignments" / name / f"{name}.ipynb")
    solution = _read(ROOT / "solutions" / f"{name}.ipynb")
    assert [c.id for c in solution.cells] == [c.id for c in source.cells]
    text = "\n".join(c.source for c in solution.cells)
    assert "### BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert "raise NotImplementedError" not in text


def _handin(path: Path, grade_ids=("a", "b")):
    cells = [nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {"grade_id": g}}) for g in grade_ids]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)


def test_collect_layouts(tmp_path):
    handins = tmp_path / "handins"
    handins.mkdir()
    for name in (
        "s1__matmul_timing.ipynb",
        "s2__param_study_keras.ipynb",
        "s3.ipynb",
        "s4__nonsense.ipynb",
        "bad id__matmul_timing.ipynb",
    ):
        _handin(handins / name)
    (handins / "s2__param_study_keras__my_data.csv").write_text("x,label\n1,a\n")
    (handins / "s5").mkdir()
    _handin(handins / "s5" / "Copy of notebook.ipynb")
    (handins / "s5" / "data.json").write_text("[]")

    plan, errors = plan_collect(handins, None, ASSIGNMENTS)
    found = {(student, name) for student, name, _, _ in plan}
    assert ("s1", "matmul_timing") in found and ("s2", "param_study_keras") in found
    extras = {student: [p.name for p in files] for student, _, _, files in plan}
    assert extras["s2"] == ["s2__param_study_keras__my_data.csv"]
    assert any("s3.ipynb" in e and "ASSIGNMENT" in e for e in errors)
    assert any("nonsense" in e for e in errors)
    assert any("bad id" in e for e in errors)
    assert any(e.startswith("s5/") for e in errors)

    plan, errors = plan_collect(handins, "fc_vs_conv_keras", ASSIGNMENTS)
    students = {student: (name, files) for student, name, _, files in plan}
    assert students["s3"][0] == "fc_vs_conv_keras"
    assert students["s5"][0] == "fc_vs_conv_keras" and [p.name for p in students["s5"][1]] == ["data.json"]


def test_check_handin_reports_lost_metadata(tmp_path):
    name = "matmul_timing"
    ids = _grade_ids(ROOT / "assignments" / name / f"{name}.ipynb")
    good, lost, twice, broken = (tmp_path / f"{stem}.ipynb" for stem in ("good", "lost", "twice", "broken"))
    _handin(good, ids)
    _handin(lost, ids[:-2])
    _handin(twice, ids + ids[:1])
    broken.write_text("{not json")
    assert check_handin(good, name, ROOT) == []
    assert "metadata" in check_handin(lost, name, ROOT)[0]
    assert "duplicated" in check_handin(twice, name, ROOT)[0]
    assert "cannot read" in check_handin(broken, name, ROOT)[0]


# ------------------------------------------------------------------------------ slow


@pytest.fixture(scope="module")
def course(make_course, perfect_handin):
    """A graded copy of the course: perfect and blank submissions of every assignment."""
    names = ASSIGNMENTS if mnist_available() else ["matmul_timing"]
    root = make_course(names)
    handins = root / "handins"
    handins.mkdir()
    for name in names:
        release = root / "release" / name / f"{name}.ipynb"
        nbformat.write(perfect_handin(root, name), handins / f"perfect__{name}.ipynb")
        shutil.copy2(release, handins / f"blank__{name}.ipynb")
        nbformat.write(
            always_equal_submission(release, root / "solutions" / f"{name}.ipynb"),
            handins / f"alwayseq__{name}.ipynb",
        )
        if name in WRONG:  # a deliberately wrong answer: the partial score designed for it
            old, new = WRONG[name]
            nb = perfect_handin(root, name)
            edited = [c for c in nb.cells if old in c.source]
            assert len(edited) == 1, f"{name}: the wrong-answer edit no longer applies"
            edited[0].source = edited[0].source.replace(old, new)
            nbformat.write(nb, handins / f"wrong__{name}.ipynb")
    for student, (name, old, new) in KERAS_BACKEND_HANDINS.items():
        if name in names:
            nb = perfect_handin(root, name)
            edited = [c for c in nb.cells if old in c.source]
            assert len(edited) == 1, f"{name}: the {student} edit no longer applies"
            edited[0].source = edited[0].source.replace(old, new)
            nbformat.write(nb, handins / f"{student}__{name}.ipynb")
    collected = kit(root, "collect", str(handins))
    assert collected.returncode == 0, collected.stdout + collected.stderr
    # no canary: the "perfect" hand-ins are its worked solutions, graded here with everyone else
    # (test_perfect_submission_gets_full_autograded_marks); test_canary.py runs the canary itself
    graded = kit(root, "grade", "--no-canary")
    return {"root": root, "names": names, "grade": graded, "collect": collected}


# Deliberately wrong answers and the test cells that must (and alone may) lose their points.
WRONG = {
    # the product A·Bᵀ instead of A·B
    "matmul_timing": ("Bt = [[B[k][j] for k in range(n)] for j in range(n)]", "Bt = B"),
    # the parameter formula of a convolution without its biases
    "fc_vs_conv_pytorch": (
        "return in_channels * kernel_size * kernel_size * out_channels + (out_channels if bias else 0)",
        "return in_channels * kernel_size * kernel_size * out_channels",
    ),
}
WRONG_LOSES = {"matmul_timing": {"test_matmul"}, "fc_vs_conv_pytorch": {"test_count_params"}}

# Keras hand-ins run first on Keras's PyTorch backend (course.toml keras_backend = "torch"):
# one that imports TensorFlow runs on TensorFlow only; one whose code works on TensorFlow alone
# (np.asarray of a model's output: a torch tensor that requires grad cannot become an array)
# fails there and is graded again on TensorFlow. Both are worked solutions: full marks.
_BUILD = 'build_mlp(nodes=32, layers=2, activation="tanh").summary()'
KERAS_BACKEND_HANDINS = {
    "tfimport": ("param_study_keras", _BUILD, "import tensorflow as tf\n\n" + _BUILD),
    "tfonly": (
        "param_study_keras",
        _BUILD,
        _BUILD + '\n_probe = np.asarray(build_mlp(8, 1)(np.zeros((1, 28, 28, 1), "float32")))',
    ),
}


def _scores(root: Path, name: str, student: str):
    """{grade_id: (auto score, max score)} of the autograded test cells."""
    return autograded_scores(root, name, student)


@pytest.mark.slow
def test_release_has_no_solutions_or_hidden_tests(course):
    for name in course["names"]:
        nb = _read(course["root"] / "release" / name / f"{name}.ipynb")
        text = "\n".join(c.source for c in nb.cells)
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
        assert "raise NotImplementedError()" in text and "YOUR ANSWER HERE" in text
        solution = _read(course["root"] / "solutions" / f"{name}.ipynb")
        for released, solved in zip(_nbgrader_cells(nb), _nbgrader_cells(solution), strict=True):
            if released.metadata.nbgrader.get("solution") and released.cell_type == "code":
                assert released.source != solved.source, f"{name}: solution leaked in {released.id}"
        for cell in _nbgrader_cells(_read(course["root"] / "assignments" / name / f"{name}.ipynb")):
            if "### BEGIN HIDDEN TESTS" in cell.source:
                hidden = cell.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
                assert hidden.strip() not in text


@pytest.mark.slow
def test_grading_ran_without_crashing(course):
    result = course["grade"]
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "WARNING" not in course["collect"].stdout


@pytest.mark.slow
def test_perfect_submission_gets_full_autograded_marks(course):
    for name in course["names"]:
        scores = _scores(course["root"], name, "perfect")
        assert scores, f"{name}: nothing was autograded"
        lost = {cell: s for cell, s in scores.items() if s[0] != s[1]}
        assert not lost, f"{name}: the worked solution lost points in {lost}"


@pytest.mark.slow
def test_always_equal_answers_get_nothing(course):
    """Every answer replaced by an object that claims to equal anything: 0 autograded points."""
    for name in course["names"]:
        scores = _scores(course["root"], name, "alwayseq")
        earned = {gid: got for gid, (got, _) in scores.items() if got}
        assert not earned, f"{name}: an always-equal answer earned points in {earned}"


@pytest.mark.slow
def test_blank_submission_gets_zero(course):
    for name in course["names"]:
        scores = _scores(course["root"], name, "blank")
        assert sum(score for score, _ in scores.values()) == 0, f"{name}: blank notebook scored {scores}"


@pytest.mark.slow
def test_grades_exported_and_feedback_written(course):
    root = course["root"]
    with open(root / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    got = {(r["student_id"], r["assignment"]): r for r in rows}
    for name in course["names"]:
        for student in ("perfect", "blank"):
            assert float(got[student, name]["max_score"]) == TOTALS[name]
            assert (root / "feedback" / student / name / f"{name}.html").is_file()
        assert float(got["blank", name]["score"]) == 0
        assert float(got["perfect", name]["score"]) > 0


@pytest.mark.slow
def test_wrong_submissions_get_the_designed_partial_score(course):
    for name in WRONG:
        if name not in course["names"]:
            continue
        perfect, wrong = _scores(course["root"], name, "perfect"), _scores(course["root"], name, "wrong")
        lost = {cell for cell, (score, _) in wrong.items() if score < perfect[cell][0]}
        assert lost == WRONG_LOSES[name], (
            f"{name}: lost points in {sorted(lost)}, expected only {sorted(WRONG_LOSES[name])}"
        )
        total_wrong = sum(s for s, _ in wrong.values())
        total_perfect = sum(s for s, _ in perfect.values())
        assert 0 < total_wrong < total_perfect, f"{name}: {total_wrong} of {total_perfect}"


def _validate(root: Path, paths: list[Path], *flags: str) -> str:
    """What ``nbgrader validate`` says of ``paths``, in one process (it validates them in order)."""
    result = subprocess.run(
        [NBGRADER, "validate", *flags, *map(str, paths)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return result.stdout + result.stderr


@pytest.mark.slow
def test_nbgrader_validate_fails_every_test_of_a_blank_release(course):
    # nbgrader validate exits 0 whatever happens: read what it says. (A source notebook is checked
    # by grading its worked solution, test_perfect_submission_gets_full_autograded_marks: its
    # hidden tests are judged outside the kernel, which nbgrader validate cannot do.)
    releases = [course["root"] / "release" / name / f"{name}.ipynb" for name in course["names"]]
    said = _validate(course["root"], releases, "--invert")
    if said.count("Success! The notebook does not pass any test") != len(releases):
        for path in releases:  # which one: each alone, only now
            blank = _validate(course["root"], [path], "--invert")
            assert "Success! The notebook does not pass any test" in blank, f"{path.stem}: {blank[-2000:]}"
        pytest.fail(f"nbgrader validate of all releases at once said:\n{said[-3000:]}")


def _report_notes(root: Path) -> dict[tuple[str, str], str]:
    with open(root / "grading_report.csv", newline="") as f:
        return {(r["student_id"], r["assignment"]): r["notes"] for r in csv.DictReader(f)}


@pytest.mark.slow
def test_keras_runs_on_torch_and_falls_back_to_tensorflow(course):
    """Keras hand-ins: the PyTorch backend where it runs cleanly, TensorFlow where it does not
    (and where the hand-in imports TensorFlow); the report says which, the grade is the same."""
    keras_names = [n for n in course["names"] if n.endswith("_keras")]
    if not keras_names:
        pytest.skip("no Keras assignment graded (MNIST data missing)")
    notes = _report_notes(course["root"])
    for name in keras_names:
        assert "Keras ran on its PyTorch backend without an error" in notes["perfect", name]
        assert "graded on TensorFlow (on Keras's PyTorch backend cell" in notes["blank", name]
        assert "NotImplementedError" in notes["blank", name]
    for student, (name, _, _) in KERAS_BACKEND_HANDINS.items():
        if name not in keras_names:
            continue
        scores = _scores(course["root"], name, student)
        assert scores == _scores(course["root"], name, "perfect"), f"{student}: {scores}"
    tfimport, tfonly = notes["tfimport", "param_study_keras"], notes["tfonly", "param_study_keras"]
    assert "Keras ran on TensorFlow: the notebook imports TensorFlow" in tfimport, tfimport
    assert "graded on TensorFlow (on Keras's PyTorch backend cell" in tfonly, tfonly
    assert "RuntimeError" in tfonly, tfonly
