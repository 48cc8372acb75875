"""Static rules checked on the submitted notebook (with ``ast``), beside the autograder's tests.

``check_rules(assignment, nb)`` returns the violations; ``coursekit grade`` then
withholds the points of the listed test cells in the gradebook (manual score 0; the
message is the grader's comment on the answer cell, shown in the feedback). Rules read the source; nothing
is executed, so the student's code cannot hide the violation at run time.

matmul_timing, Part A: the cell that defines ``matmul`` may import only ``time`` and
``matplotlib``, must not get around that (``__import__``, ``exec``, ``importlib``), and
``matmul`` must not use a module imported anywhere else in the notebook under any name.
"""

from __future__ import annotations

import ast
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class ImportRule:
    function: str  # the function whose defining cell is checked
    allowed: frozenset  # top-level modules that cell may import
    withhold: tuple  # grade_ids of the test cells whose points are withheld
    part: str
    comment_cell: str  # the answer cell that gets the message (nbgrader comments answer cells only)


RULES = {
    "matmul_timing": [
        ImportRule(
            "matmul",
            frozenset({"time", "matplotlib"}),
            ("test_matmul", "test_pure_python", "test_time_matmul", "test_exponent_a"),
            "Part A",
            "matmul_python",
        ),
    ],
}
MARK = ": points withheld: "  # in every message: finds the withholdings of an earlier run
BANNED_CALLS = {"__import__", "exec", "eval", "compile", "import_module", "run_module", "run_path"}


@dataclass
class Violation:
    rule: ImportRule
    message: str

    @property
    def withhold(self) -> tuple:
        return self.rule.withhold


def _parse(source: str):
    from IPython.core.inputtransformer2 import TransformerManager

    try:  # magics (%timeit, !ls) become Python first
        source = TransformerManager().transform_cell(source)
    except Exception:
        pass
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # nested too deeply to parse: that
        return None  # cell raises in the kernel too, and defines nothing


def _imports(tree) -> list[tuple[str, str]]:
    """``[(module, local name)]`` of every import in the tree."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, (a.asname or a.name).split(".")[0]) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            found += [(node.module or "", a.asname or a.name) for a in node.names]
    return found


def check_import_rule(rule: ImportRule, nb) -> list[str]:
    """Problems with ``rule`` in notebook ``nb`` (empty: the rule is kept)."""
    trees = [t for c in nb.cells if c.cell_type == "code" and (t := _parse(c.source)) is not None]
    defining = [
        t for t in trees if any(isinstance(n, ast.FunctionDef) and n.name == rule.function for n in t.body)
    ]
    if not defining:
        return []  # no function: its tests fail anyway
    tree = defining[-1]  # the last definition is the one the tests call
    problems = []
    for module, _ in _imports(tree):
        if module.split(".")[0] not in rule.allowed:
            problems.append(f"the cell defining {rule.function} imports {module!r}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = node.func
            name = fn.id if isinstance(fn, ast.Name) else getattr(fn, "attr", "")
            if name in BANNED_CALLS:
                problems.append(f"the cell defining {rule.function} calls {name}()")
    # modules imported elsewhere, used inside the function under their local name
    aliases = {
        local: module
        for t in trees
        if t is not tree
        for module, local in _imports(t)
        if module.split(".")[0] not in rule.allowed
    }
    func = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == rule.function][-1]
    names = [n for n in ast.walk(func) if isinstance(n, ast.Name)]
    local_names = {n.id for n in names if not isinstance(n.ctx, ast.Load)}
    local_names |= {a.arg for a in ast.walk(func.args) if isinstance(a, ast.arg)}
    used = {n.id for n in names} - local_names
    for local in sorted(used & set(aliases)):
        problems.append(f"{rule.function} uses {local!r} ({aliases[local]!r}, imported in another cell)")
    return sorted(set(problems))


# CPython 3.11's ast.parse is not safe in several threads at once ("SystemError: AST constructor
# recursion depth mismatch"), and `coursekit grade --jobs` checks hand-ins in threads.
_AST_LOCK = threading.Lock()


def check_rules(assignment: str, nb) -> list[Violation]:
    violations = []
    for rule in RULES.get(assignment, []):
        with _AST_LOCK:
            problems = check_import_rule(rule, nb)
        if problems:
            allowed = " and ".join(sorted(rule.allowed))
            message = (
                f"{rule.part}{MARK}{'; '.join(problems)}. Only {allowed} may be imported there (pure Python)."
            )
            violations.append(Violation(rule, message))
    return violations


def withhold(gradebook_url: str, assignment: str, student: str, violations: list[Violation]) -> float:
    """Give the withheld test cells a manual score of 0; the message goes to the answer cell.

    nbgrader keeps manual scores when it autogrades again, so a withholding of an earlier run
    whose violation is gone (a corrected notebook) is taken back here; it is recognised by
    its comment. Returns the points withheld (what the autograder gave those cells).
    """
    from nbgrader.api import Gradebook

    lost = 0.0
    found = {v.rule: v for v in violations}
    with Gradebook(gradebook_url) as gb:
        nb = gb.find_submission_notebook(assignment, assignment, student)
        grades = {g.name: g for g in nb.grades}
        comments = {c.name: c for c in nb.comments}
        for rule in RULES.get(assignment, []):
            comment = comments.get(rule.comment_cell)
            cells = [grades[gid] for gid in rule.withhold if gid in grades]
            if rule in found:
                for grade in cells:
                    lost += grade.auto_score or 0.0
                    grade.manual_score = 0.0
                    grade.needs_manual_grade = False
                if comment is not None:
                    comment.manual_comment = found[rule].message
            elif comment is not None and MARK in (comment.manual_comment or ""):
                for grade in cells:  # ours, from an earlier run: the rule is kept now
                    if grade.manual_score == 0:
                        grade.manual_score = None
                        grade.needs_manual_grade = grade.auto_score is None
                comment.manual_comment = None
        gb.db.commit()
    return lost
