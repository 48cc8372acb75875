"""Grading an instructor can trust: one batch of broken, hostile and correct hand-ins.

Every bad hand-in is *generated* from the released ``matmul_timing`` notebook (one function
per case), collected with the correct ones and graded in one ``coursekit grade`` run
in a copy of the course. Each student must get the score the work deserves, or an explicit
"not graded" with a readable reason in ``grading_report.csv``; the batch must finish and the
correct submissions keep full marks.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import subprocess
from pathlib import Path

import nbformat
import pytest

from coursekit.grade import batch as grading
from coursekit.grade import checks as grading_checks
from tests.helpers import KIT, fill, grade_batch, scratch_course

NAME = "matmul_timing"
AUTO = 10  # autograded points of matmul_timing (the rest is graded by hand)
PART_A = ("test_matmul", "test_pure_python", "test_time_matmul", "test_exponent_a")
TIMEOUT_S = 10  # per cell, not 300: the endless loop costs 10 s (the worked solution: 0.5 s at most)


def _gid(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _cell(nb, gid):
    return next(c for c in nb.cells if _gid(c) == gid)


# ------------------------------------------------------------------- generators
# Each takes the released notebook and the worked answers {grade_id: source} and returns
# the hand-in: a notebook, or bytes for files that are no notebook at all.


def perfect(release, answers):
    return fill(release, answers)


def duplicate_grade_id(release, answers):
    """The matmul answer and a test cell pasted a second time further down."""
    nb = perfect(release, answers)
    i = nb.cells.index(_cell(nb, "test_time_matmul"))
    nb.cells.insert(i + 1, copy.deepcopy(_cell(nb, "matmul_python")))
    nb.cells.insert(i + 2, copy.deepcopy(_cell(nb, "test_matmul")))
    for k, cell in enumerate(nb.cells):
        cell.id = f"c{k}"
    return nb


def invalid_json(release, answers):
    return nbformat.writes(perfect(release, answers)).encode()[:-200]  # cut off: a broken download


def not_a_notebook(release, answers):
    return json.dumps({"name": "my homework", "answer": 42}).encode()


def wrong_notebook(release, answers):
    """Some other notebook of the student's (a lesson, an empty one) handed in by mistake."""
    return nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# My notes"), nbformat.v4.new_code_cell("print('hello')")]
    )


def kernel_death(release, answers):
    nb = perfect(release, answers)
    cell = _cell(nb, "conv_python")
    cell.source = "import os\nos._exit(1)\n" + cell.source
    return nb


def stripped_metadata(release, answers):
    """An editor that drops all cell metadata (nbgrader, editable, deletable)."""
    nb = perfect(release, answers)
    for cell in nb.cells:
        cell.metadata = {}
    return nb


def altered_metadata(release, answers):
    """Points raised, a test cell turned into an answer, a grade_id renamed."""
    nb = perfect(release, answers)
    _cell(nb, "test_matmul").metadata.nbgrader.points = 50
    _cell(nb, "test_table_b").metadata.nbgrader.update(solution=True, locked=False)
    _cell(nb, "conv_python").metadata.nbgrader.grade_id = "my_conv"
    return nb


def deleted_test_cell(release, answers):
    """The test cells of matmul deleted (Colab lets students delete locked cells)."""
    nb = perfect(release, answers)
    nb.cells.remove(_cell(nb, "test_matmul"))
    return nb


def deleted_test_wrong_answer(release, answers):
    """A wrong matmul whose failing test cell was deleted: must score 0 there, not be skipped."""
    nb = deleted_test_cell(release, answers)
    cell = _cell(nb, "matmul_python")
    cell.source = cell.source.replace("s += row_a[k] * col_b[k]", "s += row_a[k] + col_b[k]")
    assert cell.source != answers["matmul_python"]
    return nb


ATTACK = """
# "helper" cell added by the student after the setup cell
def _drop_checks(lines):
    if any("assert" in line for line in lines):
        return ["pass\\n"]
    return [line for line in lines if "NotImplementedError" not in line]
get_ipython().input_transformers_cleanup.append(_drop_checks)
"""

ATTACK_EXC = """
def _ignore(shell, etype, value, tb, tb_offset=None):
    return None
get_ipython().set_custom_exc((Exception,), _ignore)
"""


ATTACK_ALL = """
get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\\n"])  # every later cell does nothing
"""


CLASS_PATCH = """
# patches the shell's class, not the shell: every later error is swallowed
from IPython.core.interactiveshell import InteractiveShell
_run_code = InteractiveShell.run_code
async def _quiet(self, code_obj, result=None, *, async_=False):
    try:
        exec(code_obj, self.user_global_ns, self.user_ns)
    except BaseException:
        pass
    return False
InteractiveShell.run_code = _quiet
"""

SNAPSHOT_EDIT = """
# edits the grader's own snapshot in sys.modules, so its guard "restores" the student's transformer
import ast, sys
class _NoAsserts(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()
    def visit_Raise(self, node):
        return ast.Pass()
for _name, _module in list(sys.modules.items()):
    if "grader" in _name and hasattr(_module, "ast"):
        _module.ast.append(_NoAsserts())
get_ipython().ast_transformers.append(_NoAsserts())
"""

EVENT_DISGUISE = """
# an event callback that says it is IPython's and adds an AST transformer before every cell
import ast
class _NoAsserts(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()
    def visit_Raise(self, node):
        return ast.Pass()
def _before(info=None):
    ip = get_ipython()
    if not any(isinstance(t, _NoAsserts) for t in ip.ast_transformers):
        ip.ast_transformers.append(_NoAsserts())
_before.__module__ = "IPython.core.events"
get_ipython().events.register("pre_run_cell", _before)
"""

EINSUM = """
# a wrong matmul_numpy (A @ B.T), and numpy's einsum patched to agree with it in the tests
_einsum = np.einsum
np.einsum = lambda spec, a, b, *rest, **kw: (
    a @ b.T if spec == "ik,kj->ij" else _einsum(spec, a, b, *rest, **kw))
"""


def _attack(source: str):
    """A hand-in builder: the blank release (no answers), the cell ``source`` added after the setup cell."""

    def make(release, answers):
        nb = copy.deepcopy(release)
        nb.cells.insert(nb.cells.index(_cell(nb, "setup")) + 1, nbformat.v4.new_code_cell(source))
        return nb

    return make


rewrite_attack = _attack(ATTACK)  # rewrites every later cell: tests become `pass`, stubs stop raising
custom_exc_attack = _attack(ATTACK_EXC)  # IPython swallows every exception (failed asserts included)
blanket_attack = _attack(ATTACK_ALL)  # every later cell, the grader's own check included, becomes `pass`
class_patch_attack = _attack(CLASS_PATCH)  # patches InteractiveShell.run_code on the class (issue 20, way 1)
snapshot_attack = _attack(SNAPSHOT_EDIT)  # edits the guard's snapshot in the kernel (issue 20, way 2)
event_disguise_attack = _attack(EVENT_DISGUISE)  # an event callback disguised as IPython's (issue 20, way 3)


def patched_reference(release, answers):
    """matmul_numpy wrong, np.einsum (the old hidden test's reference) patched to agree with it."""
    nb = perfect(release, answers)
    cell = _cell(nb, "matmul_libs")
    cell.source = cell.source.replace("return A @ B", "return A @ B.T") + "\n" + EINSUM
    assert "A @ B.T" in cell.source
    return nb


def stderr_chatter(release, answers):
    """A correct hand-in whose matmul_numpy writes a line to stderr at every call (in the test cells too).

    Part B, where imports are allowed: Part A's import rule would withhold points for ``import sys``.
    """
    nb = perfect(release, answers)
    cell = _cell(nb, "matmul_libs")
    chatter = "import sys\n    print('matmul called', file=sys.stderr)\n    return A @ B"
    cell.source = cell.source.replace("return A @ B", chatter, 1)
    assert "file=sys.stderr" in cell.source
    return nb


def edited_test_cells(release, answers):
    """Test cells edited in the file (asserts removed): nbgrader restores them by checksum."""
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code":
            cell.source = "pass"
    return nb


def forbidden_import(release, answers):
    """matmul by numpy: its tests pass, but Part A forbids the import."""
    nb = perfect(release, answers)
    timing = answers["matmul_python"][answers["matmul_python"].index("def time_matmul") :]
    _cell(nb, "matmul_python").source = (
        "import time\n\nimport numpy as np\n\n\ndef matmul(A, B):\n"
        "    return (np.array(A) @ np.array(B)).tolist()\n\n\n" + timing
    )
    return nb


def _break_fit(source, code):
    """``code`` after the import of the fit_a cell (Part B needs the import)."""
    head, tail = source.split("\n\n", 1)
    assert head.startswith("from course_utils import"), head
    return f"{head}\n\n{code}\n{tail}"


def exception_in_answer(release, answers):
    nb = perfect(release, answers)
    cell = _cell(nb, "fit_a")
    cell.source = _break_fit(cell.source, 'raise ValueError("I did not finish this")')
    return nb


def infinite_loop(release, answers):
    nb = perfect(release, answers)
    cell = _cell(nb, "fit_a")
    cell.source = _break_fit(cell.source, "while True:\n    pass")
    return nb


def colab_resaved(release, answers):
    """What Colab writes: notebook-level colab metadata, cell ids, outputId, execution info."""
    nb = perfect(release, answers)
    nb.metadata["colab"] = {"provenance": [], "name": "matmul_timing.ipynb", "toc_visible": True}
    nb.metadata["accelerator"] = "GPU"
    for k, cell in enumerate(nb.cells):
        cell.metadata["id"] = f"colab{k:04d}"
        if cell.cell_type == "code":
            cell.metadata["colab"] = {"base_uri": "https://localhost:8080/"}
            cell.metadata["outputId"] = f"3f2a9c{k:02d}-aaaa-bbbb-cccc-0123456789ab"
            cell.metadata["executionInfo"] = {"status": "ok", "elapsed": 12, "user_tz": -540}
    return nb


SNOOP = """
# a student cell looking for the solutions, the gradebook and the other hand-ins
import os
ROOT = {root!r}
for target in ["../../../assignments/matmul_timing/matmul_timing.ipynb", "../../../gradebook.db",
               ROOT + "/assignments/matmul_timing/matmul_timing.ipynb",
               ROOT + "/solutions/matmul_timing.ipynb",
               ROOT + "/release/matmul_timing/matmul_timing.ipynb", ROOT + "/gradebook.db",
               ROOT + "/submitted/perfect1/matmul_timing/matmul_timing.ipynb",
               ROOT + "/autograded/perfect1/matmul_timing/matmul_timing.ipynb",
               ROOT + "/course.toml", ROOT + "/nbgrader_config.py"]:
    try:
        with open(target, "rb") as f:
            print("LEAKED", target, len(f.read(100)))
    except OSError as err:
        print("blocked", target, type(err).__name__)
for folder in [ROOT, ROOT + "/submitted"]:
    try:
        print("LISTED", folder, os.listdir(folder))
    except OSError as err:
        print("blocked", folder, type(err).__name__)
print("seen in the parent folder:", os.listdir(".."))
try:
    with open(ROOT + "/gradebook.db", "ab") as f:
        f.write(b"x")
    print("LEAKED write")
except OSError as err:
    print("blocked write", type(err).__name__)
"""

_COURSE_ROOT = {}  # set by the fixture: the snooping cell needs the course's absolute path


def snoop(release, answers):
    """A perfect hand-in that also tries to read the solutions, the gradebook, other students."""
    nb = perfect(release, answers)
    i = nb.cells.index(_cell(nb, "setup"))
    nb.cells.insert(i + 1, nbformat.v4.new_code_cell(SNOOP.format(root=str(_COURSE_ROOT["root"]))))
    return nb


AUDIT_HOOK = """
# prints the source of every later cell as it is compiled: the hidden tests included
import sys
def _spy(event, args):
    if event == "compile" and args and isinstance(args[0], (str, bytes)):
        print(args[0] if isinstance(args[0], str) else args[0].decode(errors="ignore"))
sys.addaudithook(_spy)
"""


def audit_hook_spy(release, answers):
    """A perfect hand-in that prints every test cell's code (hidden tests too) as it runs."""
    nb = perfect(release, answers)
    i = nb.cells.index(_cell(nb, "setup"))
    nb.cells.insert(i + 1, nbformat.v4.new_code_cell(AUDIT_HOOK))
    return nb


def big_output(release, answers):
    """A perfect hand-in that prints 20 MB in 200 long lines (the line limit does not catch it)."""
    nb = perfect(release, answers)
    i = nb.cells.index(_cell(nb, "setup"))
    nb.cells.insert(i + 1, nbformat.v4.new_code_cell('for _ in range(200):\n    print("x" * 100_000)'))
    return nb


CASES = {
    "perfect1": perfect,
    "perfect2": perfect,
    "duplicate": duplicate_grade_id,
    "badjson": invalid_json,
    "notnotebook": not_a_notebook,
    "wrongfile": wrong_notebook,
    "kernel": kernel_death,
    "stripped": stripped_metadata,
    "altered": altered_metadata,
    "deletedtest": deleted_test_cell,
    "deletedwrong": deleted_test_wrong_answer,
    "attack": rewrite_attack,
    "attackexc": custom_exc_attack,
    "attackall": blanket_attack,
    "editedtests": edited_test_cells,
    "classpatch": class_patch_attack,
    "snapshot": snapshot_attack,
    "disguise": event_disguise_attack,
    "einsum": patched_reference,
    "stderr": stderr_chatter,
    "numpy": forbidden_import,
    "exception": exception_in_answer,
    "loop": infinite_loop,
    "colab": colab_resaved,
    "snoop": snoop,
    "spy": audit_hook_spy,
    "bigprint": big_output,
}


# ---------------------------------------------------------------------- fixture


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    env = dict(os.environ, COURSE_GRADING_TIMEOUT=str(TIMEOUT_S))
    root = tmp_path_factory.mktemp("course")
    _COURSE_ROOT["root"] = root
    scratch_course(root, [NAME], env=env)
    run = dict(cwd=root, capture_output=True, text=True, timeout=900, env=env)
    tool = KIT
    release = nbformat.read(root / "release" / NAME / f"{NAME}.ipynb", as_version=4)
    solution = nbformat.read(root / "solutions" / f"{NAME}.ipynb", as_version=4)
    answers = {_gid(c): c.source for c in solution.cells if _gid(c)}
    handins = root / "handins"
    handins.mkdir()
    for student, make in CASES.items():
        made = make(copy.deepcopy(release), answers)
        path = handins / f"{student}__{NAME}.ipynb"
        if isinstance(made, bytes):
            path.write_bytes(made)
        else:
            path.write_text(json.dumps(made, indent=1))
    collected = subprocess.run([*tool, "collect", str(handins)], **run)
    n_nbgrader = sum("nbgrader" in cell.metadata for cell in release.cells)  # what a strip removes
    return {
        "root": root,
        "collect": collected,
        "n_nbgrader": n_nbgrader,
        **grade_batch(root, NAME, env, timeout=900),
    }


def _cells(batch, student):
    """{grade_id: score} of the autograded test cells."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{batch['root'] / 'gradebook.db'}") as gb:
        sub = gb.find_submission_notebook(NAME, NAME, student)
        return {g.name: g.score for g in sub.grades if g.cell_type == "code" and g.auto_score is not None}


def _row(batch, student):
    row = batch["report"][student]
    print(student, row)
    return row


def _graded(batch, student, score):
    row = _row(batch, student)
    assert row["status"] == "graded", row
    assert float(row["score"]) == score, row
    assert float(row["max_score"]) == 21
    return row


def _not_graded(batch, student, *words):
    row = _row(batch, student)
    assert row["status"] == "not graded" and row["score"] == "", row
    for word in words:
        assert word in row["reason"], row
    return row


# ------------------------------------------------------------------------ tests


def test_import_rule_static():
    def nb(*sources):
        return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])

    ok = "import time\n\ndef matmul(A, B):\n    return [[sum(x * y for x, y in zip(r, B)) for r in A]]"
    check = grading_checks.check_rules
    assert check(NAME, nb(ok)) == []
    assert check(NAME, nb("%matplotlib inline\nimport matplotlib.pyplot as plt", ok)) == []
    for bad in (
        "import numpy as np\n\ndef matmul(A, B):\n    return np.dot(A, B)",
        "from math import fsum\n\ndef matmul(A, B):\n    return A",
        "def matmul(A, B):\n    return __import__('numpy').dot(A, B)",
    ):
        (violation,) = check(NAME, nb(bad))
        assert "points withheld" in violation.message and violation.withhold == PART_A
    (violation,) = check(NAME, nb("import numpy as xp", "def matmul(A, B):\n    return xp.dot(A, B)"))
    assert "'xp'" in violation.message
    local = "def matmul(A, B):\n    np = len(A)\n    return [[0.0] * np for _ in range(np)]"
    assert check(NAME, nb("import numpy as np", local)) == []  # a local variable named np is fine


@pytest.mark.slow
def test_batch_finishes_and_every_student_has_a_row(batch):
    print(batch["grade"].stdout[-3000:])
    print(f"grade took {batch['seconds']:.0f} s for {len(CASES)} submissions")
    assert set(batch["report"]) == set(CASES), batch["grade"].stdout[-3000:] + batch["grade"].stderr[-3000:]
    # exit status 1 because of the not-graded ones, which are listed at the end
    assert "not graded" in batch["grade"].stderr
    assert (batch["root"] / "grades.csv").is_file()


@pytest.mark.slow
def test_correct_submissions_keep_full_marks(batch):
    for student in ("perfect1", "perfect2", "colab", "spy"):
        row = _graded(batch, student, AUTO)
        assert "restored" not in row["notes"] and "undid" not in row["notes"], row


@pytest.mark.slow
def test_unreadable_files_are_not_graded(batch):
    _not_graded(batch, "badjson", "not valid JSON", "line")
    _not_graded(batch, "notnotebook", "not a Jupyter notebook")
    _not_graded(batch, "wrongfile", "not this assignment's notebook", "wrong file")
    assert "NOT GRADABLE" in batch["collect"].stdout


@pytest.mark.slow
def test_kernel_death_is_not_a_zero(batch):
    from nbgrader.api import Gradebook, MissingEntry

    row = _not_graded(batch, "kernel", "kernel died in cell", "conv_python")
    assert row["max_score"] == "21"
    with Gradebook(f"sqlite:///{batch['root'] / 'gradebook.db'}") as gb, pytest.raises(MissingEntry):
        gb.find_submission(NAME, "kernel")  # no stale score left behind


@pytest.mark.slow
def test_repaired_metadata_keeps_the_points(batch):
    row = _graded(batch, "duplicate", AUTO)
    assert "second copy of 'matmul_python'" in row["notes"] and "second copy of 'test_matmul'" in row["notes"]
    row = _graded(batch, "stripped", AUTO)
    assert f"{batch['n_nbgrader']} cell(s) had lost their nbgrader metadata, restored" in row["notes"]
    row = _graded(batch, "altered", AUTO)
    assert "altered nbgrader metadata restored" in row["notes"] and "'my_conv'" in row["notes"]


@pytest.mark.slow
def test_deleted_test_cell_is_run_again(batch):
    row = _graded(batch, "deletedtest", AUTO)
    assert "test cell 'test_matmul' (2 points) was deleted: re-inserted" in row["notes"]
    assert _cells(batch, "deletedtest")["test_matmul"] == 2
    row = _graded(batch, "deletedwrong", AUTO - 2 - 1)  # test_matmul 2, and the exponent is off
    assert _cells(batch, "deletedwrong")["test_matmul"] == 0


@pytest.mark.slow
def test_tampering_the_guard_sees_is_not_graded(batch):
    """What the in-kernel guard detects makes the hand-in "not graded: tampering in cell N", with
    the evidence, never a score."""
    _not_graded(batch, "attack", "tampering in cell", "input transformers")
    _not_graded(batch, "attackexc", "tampering in cell", "set_custom_exc")
    _not_graded(batch, "classpatch", "tampering in cell", "InteractiveShell.run_code")
    _graded(batch, "editedtests", 0)  # nbgrader's OverwriteCells restores locked sources
    # the guard itself cannot run: explicit "not graded", for the instructor to look at
    _not_graded(batch, "attackall", "tampering in cell", "interferes with grading")


@pytest.mark.slow
def test_tampering_the_guard_misses_earns_nothing(batch):
    """The guard lives in the student's process, and these get past it; the judge, outside the
    kernel, decides the points: a blank notebook stays at 0."""
    for student in ("snapshot", "disguise"):
        row = _row(batch, student)
        assert row["status"] == "not graded" or float(row["score"]) == 0, row
        if row["status"] == "graded":
            assert not any(_cells(batch, student).values()), _cells(batch, student)


@pytest.mark.slow
def test_a_patched_reference_does_not_make_a_wrong_answer_pass(batch):
    row = _graded(batch, "einsum", AUTO - 1)
    assert _cells(batch, "einsum")["test_matmul_libs"] == 0, row


@pytest.mark.slow
def test_output_never_costs_points(batch):
    row = _graded(batch, "stderr", AUTO)
    nb = nbformat.read(batch["root"] / "autograded" / "stderr" / NAME / f"{NAME}.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for o in _cell(nb, "test_matmul_libs").outputs)
    assert "matmul called" in printed, row  # kept, shown as standard output


@pytest.mark.slow
def test_forbidden_import_withholds_part_a(batch):
    row = _row(batch, "numpy")
    assert row["status"] == "graded", row
    assert "Part A: points withheld" in row["notes"] and "'numpy'" in row["notes"]
    cells = _cells(batch, "numpy")
    assert all(cells[g] == 0 for g in PART_A), cells
    assert cells["test_matmul_libs"] == cells["test_conv_python"] == cells["test_conv_libs"] == 1
    # Part B times matmul as "matmul python" too: its exponent test may fail on its own
    assert float(row["score"]) == sum(cells.values()) <= AUTO - 5
    page = (batch["root"] / "feedback" / "numpy" / NAME / f"{NAME}.html").read_text(encoding="utf-8")
    assert "Part A: points withheld" in page  # the student reads why


@pytest.mark.slow
def test_exception_and_endless_loop_lose_only_their_part(batch):
    row = _graded(batch, "exception", AUTO - 1)
    assert "undid" not in row["notes"] and "time" not in row["reason"]
    assert _cells(batch, "exception")["test_exponent_a"] == 0
    row = _graded(batch, "loop", AUTO - 1)
    assert "ran out of time" in row["notes"]


@pytest.mark.slow
def test_grades_csv_still_written(batch):
    with open(batch["root"] / "grades.csv", newline="") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    assert float(rows["perfect1"]["score"]) == AUTO
    assert (batch["root"] / "feedback" / "perfect1" / NAME / f"{NAME}.html").is_file()
    assert not (batch["root"] / "feedback" / "kernel" / NAME).exists()


def _outputs(batch, student, folder="autograded") -> str:
    nb = nbformat.read(batch["root"] / folder / student / NAME / f"{NAME}.ipynb", as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    return "\n".join(o.get("text", "") for c in cells for o in c.get("outputs", []))


@pytest.mark.slow
def test_student_code_cannot_read_the_course(batch):
    """Solutions, hidden tests, gradebook, other students: every reading attempt fails."""
    from coursekit.grade import jail

    row = _graded(batch, "snoop", AUTO)  # the work itself is fine: full marks
    printed = _outputs(batch, "snoop")
    assert printed.count("blocked ../../../") == 2, printed[:3000]
    mode = jail.isolation().mode
    if mode != "bwrap":
        pytest.skip("absolute paths are hidden only in the jail (grading as root on Linux)")
    assert "LEAKED" not in printed and "LISTED" not in printed, printed
    assert printed.count("blocked ") == 13, printed
    assert "blocked write" in printed
    assert f"isolation: {mode}" in row["notes"], row


@pytest.mark.slow
def test_big_output_is_cut_to_size(batch):
    _graded(batch, "bigprint", AUTO)
    root = batch["root"]
    graded = root / "autograded" / "bigprint" / NAME / f"{NAME}.ipynb"
    page = root / "feedback" / "bigprint" / NAME / f"{NAME}.html"
    perfect_page = root / "feedback" / "perfect1" / NAME / f"{NAME}.html"
    assert graded.stat().st_size < 1_000_000, graded.stat().st_size  # 20 MB were printed
    assert page.stat().st_size < perfect_page.stat().st_size + 300_000
    assert "output cut by the grader: this cell printed 20.0 MB" in _outputs(batch, "bigprint")


def _hidden_lines(root: Path) -> list[str]:
    """The lines of hidden-test code (long enough to be specific) of the source notebook."""
    source = nbformat.read(root / "assignments" / NAME / f"{NAME}.ipynb", as_version=4)
    lines, visible = [], []
    for cell in source.cells:
        before, _, rest = cell.source.partition("### BEGIN HIDDEN TESTS")
        region, _, after = rest.partition("### END HIDDEN TESTS")
        visible.append(before + after)
        lines += [line.strip() for line in region.splitlines() if len(line.strip()) > 25]
    shown = "\n".join(visible)  # a line that is also a visible test is no secret
    lines = [line for line in lines if line not in shown]
    assert len(lines) > 10
    return lines


@pytest.mark.slow
def test_no_hidden_test_code_in_release_or_feedback(batch):
    import html
    import re

    root = batch["root"]
    hidden = _hidden_lines(root)
    pages = list((root / "feedback").glob(f"*/{NAME}/{NAME}.html"))
    assert len(pages) >= 10
    for path in [root / "release" / NAME / f"{NAME}.ipynb", *pages]:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".html":  # code is highlighted token by token: compare the plain text
            text = html.unescape(re.sub(r"<[^>]+>", "", text))
        else:
            text = "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells)
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{path.relative_to(root)} shows hidden-test code: {leaked[:3]}"
    # hidden tests are judged in the grader, never sent to the kernel: the spying hand-in, which
    # prints IPython's input history in every cell, saw none of them even in its graded notebook
    spied = _outputs(batch, "spy")
    assert "test_matmul" in spied or "matmul" in spied, spied[:500]  # it did print the history
    assert not [line for line in hidden if line in spied]
    # where the hidden tests were, the student reads that they ran
    page = (root / "feedback" / "deletedwrong" / NAME / f"{NAME}.html").read_text(encoding="utf-8")
    assert "hidden tests ran here" in page


@pytest.mark.slow
def test_corrected_hand_in_gets_withheld_points_back(batch):
    """Last: re-grades "numpy" with a pure-Python matmul; nbgrader would keep the manual 0."""
    root = batch["root"]
    release = nbformat.read(root / "release" / NAME / f"{NAME}.ipynb", as_version=4)
    solution = nbformat.read(root / "solutions" / f"{NAME}.ipynb", as_version=4)
    fixed = perfect(release, {_gid(c): c.source for c in solution.cells if _gid(c)})
    folder = root / "submitted" / "numpy" / NAME
    for old in folder.glob("*.orig"):
        old.unlink()
    nbformat.write(fixed, folder / f"{NAME}.ipynb")
    os.environ["COURSE_GRADING_TIMEOUT"] = str(TIMEOUT_S)
    try:
        row = grading.grade_one(NAME, "numpy", root)
    finally:
        del os.environ["COURSE_GRADING_TIMEOUT"]
    assert row["status"] == "graded" and float(row["score"]) == AUTO, row
    assert "withheld" not in row["notes"]
