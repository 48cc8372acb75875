"""No import cycle among coursekit's modules: each job can be read, imported and changed alone."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import ROOT


def _module_level(tree: ast.Module) -> list[ast.stmt]:
    """The statements Python runs when it imports the module: not those inside functions, nor those
    under ``if TYPE_CHECKING:``; those of class bodies, ``if``, ``try`` and ``with`` blocks included."""
    found, todo = [], list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        found.append(node)
        for field in ("body", "orelse", "finalbody", "handlers"):  # handlers: a try's except blocks
            todo.extend(getattr(node, field, None) or [])
    return found


def _imported(node: ast.stmt, module: str, is_package: bool) -> set[str]:
    """What one import statement of ``module`` names: ``a.b`` and, for ``from a.b import c``, ``a.b.c``."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names}
    if not isinstance(node, ast.ImportFrom):
        return set()
    base = node.module or ""
    if node.level:  # relative: from the module's package, one level up per extra dot
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    return {base} | {f"{base}.{a.name}" for a in node.names}


def import_graph(package: Path, module_level_only: bool) -> dict[str, set[str]]:
    """``{module: modules of the same package it imports}``, for every ``.py`` file under ``package``.

    A module's own packages (``a`` and ``a.b`` of ``a.b.c``) are left out: Python imports them before
    the module, whoever asks for it."""
    modules = {
        ".".join(p.relative_to(package.parent).with_suffix("").parts).removesuffix(".__init__"): p
        for p in package.rglob("*.py")
    }
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = _module_level(tree) if module_level_only else list(ast.walk(tree))
        wanted = set().union(*(_imported(n, name, path.name == "__init__.py") for n in nodes))
        graph[name] = {m for m in wanted if m in modules and m != name and not name.startswith(m + ".")}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as ``[a, b, ..., a]``, or None when it has none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, trail: list[str]) -> list[str] | None:
        state[name] = 1
        for other in sorted(graph[name]):
            if state.get(other) == 1:
                return [*trail[trail.index(other) :], other]
            if other not in state and (cycle := visit(other, [*trail, other])):
                return cycle
        state[name] = 2
        return None

    for name in sorted(graph):
        if name not in state and (cycle := visit(name, [name])):
            return cycle
    return None


@pytest.mark.parametrize("module_level_only", [True, False], ids=["module-level", "with-function-level"])
def test_no_import_cycle_in_coursekit(module_level_only):
    """Module-level imports (what runs at import time) and also those inside functions form no cycle."""
    cycle = find_cycle(import_graph(ROOT / "coursekit", module_level_only))
    assert cycle is None, (
        "import cycle: " + " -> ".join(cycle) + ": move what both modules need into "
        "one module, or import in one direction only"
    )


def test_the_check_finds_a_cycle(tmp_path):
    """The graph sees absolute, relative and class-body imports; not function-level ones (module level
    only) nor ``TYPE_CHECKING`` ones."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import c\n")
    (pkg / "a.py").write_text("import os\nfrom pkg import b\n")
    (pkg / "b.py").write_text("class B:\n    from .sub.c import C\n")
    (pkg / "sub" / "c.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pkg import a\n"
        "def f():\n    from ..a import x\n"
    )
    graph = import_graph(pkg, module_level_only=True)
    assert graph == {
        "pkg": set(),
        "pkg.sub": {"pkg.sub.c"},
        "pkg.a": {"pkg.b"},
        "pkg.b": {"pkg.sub.c"},
        "pkg.sub.c": set(),
    }
    assert find_cycle(graph) is None
    assert find_cycle(import_graph(pkg, module_level_only=False)) == ["pkg.a", "pkg.b", "pkg.sub.c", "pkg.a"]
    (pkg / "sub" / "c.py").write_text("try:\n    from pkg.a import x\nexcept ImportError:\n    pass\n")
    assert find_cycle(import_graph(pkg, module_level_only=True)) == ["pkg.a", "pkg.b", "pkg.sub.c", "pkg.a"]
