"""The report rules of the slides that the assignments check by program.

The slides' 表の書き方 / 数値の書き方 (a timing table: units in the column names, no more digits
than a timing supports): the check lives in the matmul_timing source, and these tests run it on
the slides' own good and bad examples. The figure rules (レポート総評) are course_utils.report,
tested in tests/course_utils/test_report.py; here: every assignment states the rules and calls
check_figure after its plots.
"""

from __future__ import annotations

import ast

import pandas as pd
import pytest

from tests.helpers import ROOT

SOURCES = ("matmul_timing", "fc_vs_conv", "param_study")

# The slides' example (表の書き方): the good table and the bad one ("ダメな例").
GOOD = pd.DataFrame({"N": [5000, 10000], "numpy[s]": [6.98, 24.55], "torch[s]": [4.44, 15.90]})
BAD = pd.DataFrame({"N": [5000, 10000], "numpy": [6.97910, 24.545112], "torch": [4.441071, 15.901942]})


def _tree(name: str) -> ast.Module:
    return ast.parse((ROOT / "assignments" / f"{name}.py").read_text(encoding="utf-8"))


def _load(name: str, functions: tuple[str, ...], names: tuple[str, ...] = ()) -> dict:
    """The top-level functions (and constants, matplotlib imports) of an assignment source, run."""
    keep = []
    for node in _tree(name).body:
        if isinstance(node, ast.FunctionDef) and node.name in functions:
            keep.append(node)
        elif isinstance(node, ast.Assign) and any(getattr(t, "id", None) in names for t in node.targets):
            keep.append(node)
        elif isinstance(node, ast.ImportFrom) and node.module == "matplotlib":
            keep.append(node)
    found = {n.name for n in keep if isinstance(n, ast.FunctionDef)}
    assert found == set(functions), f"{name}.py: missing {set(functions) - found}"
    namespace: dict = {}
    exec(compile(ast.Module(body=keep, type_ignores=[]), f"{name}.py", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def table_problems():
    return _load("matmul_timing", ("_table_problems",))["_table_problems"]


# ------------------------------------------------------------------------------ tables


def test_the_slides_good_table_passes(table_problems):
    assert table_problems(GOOD) == []


def test_the_slides_bad_table_fails_for_units_and_digits(table_problems):
    problems = table_problems(BAD)
    assert any("no unit" in p and "'numpy'" in p for p in problems), problems
    assert any("no unit" in p and "'torch'" in p for p in problems), problems
    assert any("significant figures" in p for p in problems), problems
    # each rule alone: the good numbers without units, the bad numbers with units
    no_units = GOOD.rename(columns={"numpy[s]": "numpy", "torch[s]": "torch"})
    assert [p for p in table_problems(no_units) if "significant" in p] == []
    assert len(table_problems(no_units)) == 2
    digits = BAD.rename(columns={"numpy": "numpy [s]", "torch": "torch [s]"})
    assert table_problems(digits) and all("significant figures" in p for p in table_problems(digits))


def test_the_model_answers_rounding_passes(table_problems):
    raw = pd.DataFrame({"N": [64, 128], "matmul numpy [ms]": [0.0123456, 1234.5678]})
    rounded = raw.assign(**{"matmul numpy [ms]": raw["matmul numpy [ms]"].map(lambda x: float(f"{x:.3g}"))})
    assert table_problems(raw) and table_problems(rounded) == []


# ------------------------------------------------------------------------------ figures


# ------------------------------------------------------------------------------ instructions


@pytest.mark.parametrize("name", SOURCES)
def test_report_rules_are_in_every_assignment(name):
    text = (ROOT / "assignments" / f"{name}.py").read_text(encoding="utf-8")
    for rule in (
        "グラフタイトル",
        "文字化け",
        "だ・である調",
        "です・ます調",
        "fonts-ipafont-gothic",
        "check_figure(fig)",
        "24.55",
        "from course_utils.report import check_figure",
    ):
        assert rule in text, f"{name}.py does not mention {rule!r}"


def test_cupy_is_measured_or_skipped_with_one_message():
    text = (ROOT / "assignments" / "matmul_timing.py").read_text(encoding="utf-8")
    assert "cupy not measured: no CUDA GPU / cupy not installed" in text
    assert '"matmul cupy"' in text and "cupyの畳み込みは省略しても良い" in text
