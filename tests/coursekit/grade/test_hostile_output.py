"""Output never costs points, and a cell Python cannot parse is the hand-in's fault, not the grader's.

One grading batch of matmul_timing in a scratch course: a perfect hand-in, a perfect one whose
matmul prints a verbose log (about 240 kB per call, so inside the test cells too: the grader cuts
it, and its note must not fail those tests), one whose last (manually graded) cell prints one line
of 768 MiB (the grading worker must neither hold nor log it), and perfect ones with an extra cell
nested too deeply for Python's parser (``ast.parse`` raises RecursionError or MemoryError there).
"""

from __future__ import annotations

import csv
import json
import os

import nbformat
import pytest

from tests.helpers import kit

NAME = "matmul_timing"
AUTO = 10  # autograded points of matmul_timing
VERBOSE = """

_quiet_matmul = matmul


def matmul(A, B):
    if len(A) <= 3:  # the test cell's small products, not the timed ones (printing costs time)
        print(("epoch 1/1 - loss 0.1234 - accuracy 0.9876 " * 24 + "\\n") * 240, end="")  # about 240 kB
    return _quiet_matmul(A, B)
"""
HUGE_LINE = "import sys\nfor _ in range(768):\n    sys.stdout.write('x' * 2**20)\nprint()"
DEEP = {
    "deepminus": "x = " + "-" * 100_000 + "1",
    "deepplus": "x = 1" + " + 1" * 5_000,
    "deepindex": "a = [0]\nx = a" + "[0]" * 5_000,
}

pytestmark = pytest.mark.slow


def _gid(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


@pytest.fixture(scope="module")
def graded(make_course, perfect_handin):
    env = dict(os.environ, COURSE_GRADING_TIMEOUT="60")
    root = make_course([NAME], env=env)
    handins = root / "handins"
    handins.mkdir()
    nbformat.write(perfect_handin(root, NAME), handins / f"perfect__{NAME}.ipynb")
    nb = perfect_handin(root, NAME)
    (cell,) = [c for c in nb.cells if _gid(c) == "matmul_python"]
    cell.source += VERBOSE
    nbformat.write(nb, handins / f"verbose__{NAME}.ipynb")
    nb = perfect_handin(root, NAME)
    (cell,) = [c for c in nb.cells if _gid(c) == "plot_b"]
    cell.source += "\n\n" + HUGE_LINE
    nbformat.write(nb, handins / f"hugeline__{NAME}.ipynb")
    for student, source in DEEP.items():
        nb = perfect_handin(root, NAME)
        i = nb.cells.index(next(c for c in nb.cells if _gid(c) == "setup"))
        nb.cells.insert(i + 1, nbformat.v4.new_code_cell(source))
        nbformat.write(nb, handins / f"{student}__{NAME}.ipynb")
    assert kit(root, "collect", str(handins), env=env).returncode == 0
    result = kit(root, "grade", NAME, "--no-canary", env=env)
    with open(root / "grading_report.csv", newline="") as f:
        report = {r["student_id"]: r for r in csv.DictReader(f)}
    return {"root": root, "report": report, "result": result}


def _row(graded, student):
    row = graded["report"][student]
    print(student, row)
    assert row["status"] == "graded", row
    return row


def _outputs(graded, student):
    nb = nbformat.read(graded["root"] / "autograded" / student / NAME / f"{NAME}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    return {_gid(c) or f"cell {i}": c.get("outputs", []) for i, c in enumerate(code)}


def test_printing_in_a_test_cell_costs_no_points(graded):
    assert float(_row(graded, "perfect")["score"]) == AUTO
    row = _row(graded, "verbose")
    assert float(row["score"]) == AUTO, row
    outputs = _outputs(graded, "verbose")
    notes = [o for o in outputs["test_matmul"] if "output cut by the grader" in o.get("text", "")]
    assert notes, outputs["test_matmul"]
    assert all(o["name"] == "stdout" for o in notes)  # nbgrader fails a test cell that wrote to stderr
    for gid in ("test_matmul", "test_time_matmul"):
        stderr = [o for o in outputs[gid] if o.get("output_type") == "stream" and o.get("name") == "stderr"]
        assert not stderr, (gid, stderr)


def test_a_cell_too_deep_to_parse_fails_alone(graded):
    for student in DEEP:
        row = _row(graded, student)
        assert float(row["score"]) == AUTO, row  # that cell is no test: every point is kept
        outputs = _outputs(graded, student)
        errors = [o for cell in outputs.values() for o in cell if o.get("output_type") == "error"]
        assert errors, (student, "the cell nested too deeply should fail")
        # IPython cannot even answer for some (the kernel goes idle without a reply): that cell fails
        # at once, not after the cell's time limit
        assert not any("Timeout" in e["ename"] or "timed out" in e["evalue"] for e in errors), (
            student,
            errors,
        )
        if any(e["ename"] == "NoReply" for e in errors):
            timing = [e for e in _events(graded, student) if e["event"] == "timing"][-1]
            assert max(seconds for _, _, seconds in timing["cells"]) < 60, timing
    said = {
        e["ename"]
        for student in DEEP
        for cell in _outputs(graded, student).values()
        for e in cell
        if e.get("output_type") == "error"
    }
    assert "NoReply" in said, said  # a kernel that never answers exists here: the case is tested


def _events(graded, student):
    path = graded["root"] / "grading_logs" / f"{student}__{NAME}.events"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_a_huge_line_reaches_neither_the_worker_nor_its_log(graded):
    row = _row(graded, "hugeline")
    assert float(row["score"]) == AUTO, row
    printed = "".join(o.get("text", "") for o in _outputs(graded, "hugeline")["plot_b"])
    assert "the grader read the first" in printed or "refused unread" in printed, printed[:300]
    assert len(printed) < 300_000
    logs = sorted((graded["root"] / "grading_logs").glob("*.log"))
    sizes = {path.name: path.stat().st_size for path in logs}
    assert sizes and max(sizes.values()) < 5_000_000, sizes
