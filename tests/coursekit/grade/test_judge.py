"""The judge (coursekit.grade.judge) against a real kernel: values travel as data, never as the
student's objects, and the verdict is computed outside the kernel."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from jupyter_client.manager import start_new_kernel

from coursekit.grade import judge


@pytest.fixture(scope="module")
def kernel():
    km, kc = start_new_kernel(kernel_name="python3")
    yield kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def _runner(kc):
    def run(code: str) -> tuple[str, str | None]:
        out, err = [], []

        def hook(msg):
            if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                err.append(f"{msg['content']['ename']}: {msg['content']['evalue']}")

        kc.execute_interactive(code, store_history=False, output_hook=hook, timeout=60)
        return "".join(out), (err[0] if err else None)

    return run


def _student(kc, code: str = "", cells=()) -> judge.Student:
    run = _runner(kc)
    if code:
        run(code)
    return judge.Student(run=run, cells=list(cells))


def test_values_come_back_as_data(kernel):
    student = _student(kernel, "import numpy as np, pandas as pd, torch\ndef f(x):\n    return x\n")
    assert student.f([1, 2.5, "a", None, True]) == [1, 2.5, "a", None, True]
    assert student.f((1, (2, 3))) == (1, (2, 3))
    assert student.eval("{1: 'one', (2, 3): [4]}") == {1: "one", (2, 3): [4]}
    assert student.eval("{3, 4}") == {3, 4}
    assert math.isnan(student.eval("float('nan')"))
    array = student.eval("np.arange(6, dtype='float32').reshape(2, 3)")
    assert isinstance(array, np.ndarray) and array.dtype == np.float32 and array.shape == (2, 3)
    sent = np.linspace(0, 1, 7)
    assert np.array_equal(student.f(sent), sent)  # arrays go in as arrays, bit for bit
    assert student.eval("type(x).__name__", x=sent) == "ndarray"
    tensor = student.eval("torch.ones(2, 2)")
    assert isinstance(tensor, judge.Tensor) and tensor.framework == "torch" and tensor.shape == (2, 2)
    frame = student.eval("pd.DataFrame({'n': [1, 2], 'label': ['a', 'b']})")
    assert isinstance(frame, pd.DataFrame) and list(frame["n"]) == [1, 2] and frame["n"].dtype.kind == "i"
    assert student.eval("np.int64(7)") == 7 and type(student.eval("np.float32(0.5)")) is float
    assert student.eval("object()") == judge.Opaque("builtins.object")


def test_an_always_equal_answer_arrives_as_a_plain_value(kernel):
    """An object that claims to equal anything is its plain value once it leaves the kernel."""
    liars = (
        "class Liar(float):\n    def __eq__(self, other):\n        return True\n"
        "class LiarList(list):\n    def __eq__(self, other):\n        return True\n"
    )
    student = _student(kernel, liars)
    value = student.eval("Liar(1.0)")
    assert type(value) is float and value != 2.0
    assert student.eval("LiarList([1])") != [2]


def test_the_kernel_cannot_answer_for_the_judge(kernel):
    """A failing call, and a notebook that hides its output: errors, never a passing value."""
    student = _student(kernel, "def boom(x):\n    raise ValueError('no')\n")
    with pytest.raises(judge.StudentError, match="boom.*raised ValueError: no"):
        student.boom(1)
    with pytest.raises(judge.StudentError, match="not_defined"):
        student.not_defined()
    quiet = judge.Student(run=lambda code: ("", None))  # a kernel that prints nothing
    with pytest.raises(judge.StudentError, match="printed no answer"):
        quiet.eval("1")
    forged = judge.Student(run=lambda code: ('course-judge-0000:{"value": 1}\n', None))  # a guessed nonce
    with pytest.raises(judge.StudentError):
        forged.eval("1")


def test_verdicts_are_the_judges():
    student = judge.Student(run=lambda code: ("", None))
    assert judge.judge("assert 1 + 1 == 2", student).passed
    failed = judge.judge("assert 1 + 1 == 3, 'arithmetic'", student)
    assert not failed.passed and failed.ename == "AssertionError" and failed.message == "arithmetic"
    no_answer = judge.judge("student.f()", student)
    assert not no_answer.passed and "printed no answer" in no_answer.message


def test_split_and_source():
    cell = (
        "assert f(1) == 1\nprint('ok')\n\n"
        "### BEGIN HIDDEN TESTS\nassert student.f(2) == 2\n### END HIDDEN TESTS\n"
    )
    visible, judged = judge.split(cell)
    assert "student" not in visible and "print('ok')" in visible
    assert judged.strip() == "assert student.f(2) == 2"
    assert judge.split("assert True\n") == ("assert True\n", None)
    student = judge.Student(
        run=lambda code: ("", None),
        cells=["def f(x):\n    return 1", "%time y = 2\ndef f(x):\n    return x", "print(f(3))"],
    )
    assert student.source("f").startswith("%time")  # the last definition, magics and all
    assert student.source("y") == ""  # only top-level definitions (y is set by the magic)
    assert student.source("g") == ""
