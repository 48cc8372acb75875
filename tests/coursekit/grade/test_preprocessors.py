"""Each of coursekit's nbgrader preprocessors on a tiny notebook (seconds, no assignment needed)."""

from __future__ import annotations

import json

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from coursekit.grade import checks
from coursekit.grade.execute import GuardedExecute, _first_failure
from coursekit.grade.feedback import NOTE, HideHiddenTests
from coursekit.grade.limits import LimitOutputBytes
from coursekit.grade.warm import notebook_modules


def _nbgrader(grade_id: str, *, grade: bool, solution: bool, points: int = 0) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def _test_cell(source: str, grade_id: str = "test_x") -> nbformat.NotebookNode:
    return new_code_cell(source, metadata=_nbgrader(grade_id, grade=True, solution=False, points=1))


# ----------------------------------------------------------------------------- limits


def test_limit_output_bytes_cuts_text_and_keeps_errors():
    cell = new_code_cell("print('x' * 10**6)")
    cell.outputs = [
        new_output("stream", name="stdout", text="x" * 1_000_000),
        new_output("error", ename="AssertionError", evalue="wrong", traceback=["t" * 50_000] * 9),
    ]
    nb = new_notebook(cells=[cell])
    LimitOutputBytes(max_text_bytes=1_000, max_bytes=100_000).preprocess(nb, {})
    out = nb.cells[0].outputs
    assert len(out[0]["text"]) == 1_000
    assert out[1]["output_type"] == "error" and out[1]["ename"] == "AssertionError"  # decides the grade
    assert len(out[1]["traceback"]) == 5 and all(len(t) <= 2_000 for t in out[1]["traceback"])
    assert "output cut by the grader" in out[-1]["text"]
    assert len(json.dumps(nb)) < 20_000


def test_limit_output_bytes_note_does_not_fail_a_passing_test_cell():
    """A correct answer that prints 240 kB in a test cell (a verbose training log) keeps its points."""
    from nbgrader.utils import determine_grade

    cell = _test_cell("assert train() > 0.9")
    cell.outputs = [new_output("stream", name="stdout", text=("epoch 1 - loss 0.1234\n" * 40) * 270)]
    nb = new_notebook(cells=[cell])
    LimitOutputBytes(max_text_bytes=100_000, max_bytes=2_000_000).preprocess(nb, {})
    out = nb.cells[0].outputs
    assert "output cut by the grader" in out[-1]["text"], out[-1]
    assert all(o["name"] == "stdout" for o in out), [o["name"] for o in out]
    assert determine_grade(nb.cells[0]) == (1, 1)


def test_limit_output_bytes_leaves_small_cells_alone():
    cell = new_code_cell("print(1)")
    cell.outputs = [new_output("stream", name="stdout", text="1\n")]
    nb = new_notebook(cells=[cell])
    LimitOutputBytes().preprocess(nb, {})
    assert nb.cells[0].outputs == [new_output("stream", name="stdout", text="1\n")]


# --------------------------------------------------------------------------- feedback


def test_hide_hidden_tests_keeps_verdict_not_code():
    hidden = "assert f(12345) == 24690, 'hidden check failed'"
    test = _test_cell(
        "assert f(1) == 2, 'f(1) should be 2'\n### BEGIN HIDDEN TESTS\n"
        "assert f(12345) == 24690, 'hidden check failed'\n### END HIDDEN TESTS"
    )
    test.outputs = [
        new_output("stream", name="stdout", text="assert f(12345) == 24690\n"),
        new_output(
            "error", ename="AssertionError", evalue="hidden check failed", traceback=[f"----> 3 {hidden}"]
        ),
    ]
    spy = new_code_cell("print('spy')")  # a cell that printed the hidden test (an audit hook, say)
    spy.outputs = [new_output("stream", name="stdout", text=f"hello\n{hidden}\n")]
    nb = new_notebook(cells=[new_markdown_cell("# A"), spy, test])
    HideHiddenTests().preprocess(nb, {})
    shown = json.dumps(nb)
    assert "12345" not in shown, "hidden test code reached the feedback"
    assert NOTE in nb.cells[2].source and "f(1) == 2" in nb.cells[2].source
    (error,) = nb.cells[2].outputs
    assert error["traceback"] == ["AssertionError: hidden check failed"]
    assert nb.cells[1].outputs[0]["text"] == "hello\n"


# ----------------------------------------------------------------------------- checks


def test_import_rule_of_part_a():
    (rule,) = checks.RULES["matmul_timing"]
    ok = new_notebook(cells=[new_code_cell("import time\n\ndef matmul(a, b):\n    return time.time()")])
    assert checks.check_import_rule(rule, ok) == []
    numpy = new_notebook(
        cells=[
            new_code_cell("import numpy as np"),
            new_code_cell("import time\n\ndef matmul(a, b):\n    return np.dot(a, b)"),
        ]
    )
    assert any("'np'" in p for p in checks.check_import_rule(rule, numpy))
    sneaky = new_code_cell("def matmul(a, b):\n    return __import__('numpy').dot(a, b)")
    sneaky = new_notebook(cells=[sneaky])
    assert checks.check_import_rule(rule, sneaky)


# ---------------------------------------------------------------------------- execute


def test_guarded_execute_undoes_tampering_before_a_test(tmp_path, monkeypatch):
    """A cell that deletes assert lines from later cells: the guard restores IPython, the test fails."""
    monkeypatch.setenv("COURSE_GRADING_STATUS", str(tmp_path / "events"))
    monkeypatch.setenv("COURSE_FAST", "1")
    tamper = new_code_cell(
        "ip = get_ipython()\n"
        "ip.input_transformers_post.append(lambda lines: [l for l in lines if 'assert' not in l])",
        metadata=_nbgrader("answer", grade=False, solution=True),
    )
    nb = new_notebook(cells=[new_code_cell("x = 1"), tamper, _test_cell("assert x == 2, 'x must be 2'")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    GuardedExecute(timeout=60, allow_errors=True).preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    errors = [o for o in nb.cells[2].outputs if o["output_type"] == "error"]
    assert errors and errors[0]["evalue"] == "x must be 2", nb.cells[2].outputs
    events = [json.loads(line) for line in (tmp_path / "events").read_text().splitlines()]
    assert any(e["event"] == "tampering" and e["cell"] == 3 for e in events), events
    assert any(e["event"] == "sandbox" for e in events)


def test_guarded_execute_caps_output_as_it_arrives(tmp_path, monkeypatch):
    """A test cell that prints 12 MB in many messages, then one message of 40 MB: the grader reads a
    bounded part, says so in the cell (stdout: the test keeps its points), and the next cell's
    output still arrives."""
    from nbgrader.utils import determine_grade

    monkeypatch.setenv("COURSE_FAST", "1")
    many = _test_cell(
        "import sys, time\nfor _ in range(12):\n    print('x' * 999_999)\n"
        "    sys.stdout.flush()\n"
        "    time.sleep(0.01)",
        "test_many",
    )
    huge = _test_cell("import sys\nsys.stdout.write('y' * 40_000_000)\nsys.stdout.flush()", "test_huge")
    fails = _test_cell(
        "import sys\nsys.stdout.write('z' * 40_000_000)\nsys.stdout.flush()\nassert False, 'wrong'",
        "test_fails",
    )  # the lost output must not hide the failure
    nb = new_notebook(cells=[many, huge, fails, new_code_cell("print('after')")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    GuardedExecute(timeout=60, allow_errors=True).preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    many, huge, fails, after = nb.cells
    note = "output cut by the grader: this cell printed 12.0 MB; the grader read the first 4.2 MB"
    assert note in many.outputs[0]["text"]
    assert sum(len(o.get("text", "")) for o in many.outputs) < 4_300_000
    assert "larger than 32 MiB were refused unread" in huge.outputs[0]["text"], huge.outputs[0]
    assert sum(len(o.get("text", "")) for o in huge.outputs) < 1_000
    for cell in (many, huge):
        assert all(o["name"] == "stdout" for o in cell.outputs)
        assert determine_grade(cell) == (1, 1)
    assert [o["evalue"] for o in fails.outputs if o["output_type"] == "error"] == ["wrong"], fails.outputs
    assert determine_grade(fails) == (0, 1)
    LimitOutputBytes().preprocess(nb, {})  # the course's caps: the first note stays, no second total
    texts = [o["text"] for o in many.outputs if o["output_type"] == "stream"]
    assert texts[0].startswith("\n[output cut by the grader: this cell printed 12.0 MB")
    assert texts[-1] == "\n[output cut by the grader: the first 100 kB are kept]\n", texts[-1]
    assert after.outputs and after.outputs[-1]["text"] == "after\n", after.outputs


def test_first_failure_names_the_cell_that_raised_or_a_test_on_stderr():
    test = {"nbgrader": {"grade": True, "solution": False, "grade_id": "test_a", "points": 1}}
    ok = new_code_cell("x = 1", outputs=[new_output("stream", name="stdout", text="fine")])
    noisy = new_code_cell("warn()", outputs=[new_output("stream", name="stderr", text="careful")])
    assert _first_failure(new_notebook(cells=[new_markdown_cell("# A"), ok, noisy])) is None
    stderr = [new_output("stream", name="stderr", text="w")]
    failing_test = new_code_cell("assert f()", metadata=test, outputs=stderr)
    assert _first_failure(new_notebook(cells=[ok, failing_test])) == "test cell 2 (test_a) wrote to stderr"
    raised = new_code_cell(
        "f()", outputs=[new_output("error", ename="RuntimeError", evalue="requires grad", traceback=[])]
    )
    said = _first_failure(new_notebook(cells=[ok, raised]))
    assert said == "cell 2 (cell 2) raised RuntimeError: requires grad"


def test_notebook_modules_reads_top_level_imports_of_code_cells():
    cells = [
        new_markdown_cell("import os"),
        new_code_cell("%matplotlib inline\nimport keras\nimport numpy as np"),
        new_code_cell("from tensorflow import keras as k\nfrom . import mine"),
        new_code_cell("def f(:"),
    ]
    assert notebook_modules(cells) == ("keras", "numpy", "tensorflow")


DEEP = ["x = " + "-" * 100_000 + "1", "x = 1" + " + 1" * 5_000, "a = [0]\nx = a" + "[0]" * 5_000]


def test_cells_too_deep_to_parse_are_skipped_not_a_grader_failure():
    """ast.parse raises RecursionError or MemoryError on these: the hand-in's fault, not the grader's."""
    cells = [new_code_cell("import numpy"), *[new_code_cell(source) for source in DEEP]]
    assert notebook_modules(cells) == ("numpy",)
    ok = "import time\n\ndef matmul(a, b):\n    return time.time()"
    assert checks.check_rules("matmul_timing", new_notebook(cells=[*cells[1:], new_code_cell(ok)])) == []


def test_grading_limits_come_from_course_toml_or_stop_the_run(tmp_path):
    """No course.toml (nbgrader on its own): None, Grading's defaults. One that does not load:
    its error, never a silent fallback to default limits."""
    import pytest

    from coursekit.errors import CourseError
    from tests.helpers import ROOT

    guard = GuardedExecute()
    guard._course_root = str(tmp_path)
    assert guard._settings("matmul_timing") is None
    (tmp_path / "course.toml").write_text((ROOT / "course.toml").read_text(encoding="utf-8"))
    assert guard._settings("matmul_timing").cell_timeout_s > 0
    (tmp_path / "course.toml").write_text("[grading]\ncell_timeout_s = 'long'\n")
    with pytest.raises(CourseError, match="cell_timeout_s"):
        guard._settings("matmul_timing")
