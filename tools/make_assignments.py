"""Write the nbgrader source notebooks and their worked solutions from readable specs.

    python tools/make_assignments.py            # (re)write assignments/ and solutions/
    python tools/make_assignments.py --check    # fail if either differs from the specs

The cells live in ``tools/assignment_specs/*.py`` (plain Python strings, reviewable in a
diff). ``assignments/<name>/<name>.ipynb`` is the nbgrader *source* (solutions and hidden
tests included); ``solutions/<name>.ipynb`` is the same notebook with the solution markers
and the hidden tests removed, so it is what a perfect student would hand in. Both are
written without outputs.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

SPEC_DIR = Path(__file__).resolve().parent / "assignment_specs"
SPEC_MODULES = tuple(sorted(p.stem for p in SPEC_DIR.glob("*.py") if p.stem not in {"__init__", "cells"}))
_HIDDEN = re.compile(r"\n*[ \t]*### BEGIN HIDDEN TESTS\n.*?### END HIDDEN TESTS[ \t]*", re.S)
_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)


def load_specs() -> dict[str, list[dict]]:
    """``{assignment name: cells}`` from every spec module, in course order."""
    notebooks: dict[str, list[dict]] = {}
    for name in SPEC_MODULES:
        module = importlib.import_module(f"assignment_specs.{name}")
        notebooks.update(module.NOTEBOOKS)
    return notebooks


def to_notebook(name: str, cells: list[dict]) -> nbformat.NotebookNode:
    """Cells as an nbformat 4.5 notebook with stable cell ids (so rebuilds are identical)."""
    built = []
    seen: set[str] = set()
    for i, cell in enumerate(cells):
        cell = copy.deepcopy(cell)
        cell_id = cell.pop("_id") or f"{name[:20]}-{i:02d}"
        if cell_id in seen:
            raise ValueError(f"{name}: duplicate cell id / grade_id {cell_id!r}")
        seen.add(cell_id)
        cell["id"] = cell_id
        built.append(cell)
    nb = nbformat.from_dict({
        "cells": built,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    })  # fmt: skip
    nbformat.validate(nb)
    return nb


def to_solution(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The source notebook without solution markers and hidden tests."""
    solution = copy.deepcopy(nb)
    for cell in solution.cells:
        text = _HIDDEN.sub("", cell.source)
        cell.source = _MARKER.sub("", text).rstrip("\n")
    return solution


def render(nb) -> str:
    return nbformat.writes(nb) + "\n"


def targets() -> dict[Path, str]:
    """Every file this script writes, with its content."""
    files = {}
    for name, cells in load_specs().items():
        nb = to_notebook(name, cells)
        files[ROOT / "assignments" / name / f"{name}.ipynb"] = render(nb)
        files[ROOT / "solutions" / f"{name}.ipynb"] = render(to_solution(nb))
    return files


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    stale = []
    for path, text in targets().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path.relative_to(ROOT))
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print("Out of date (run: python tools/make_assignments.py):", *stale, sep="\n  ")
        return 1
    print(f"{'checked' if args.check else 'wrote'}: {len(stale)} file(s) "
          f"{'out of date' if args.check else 'changed'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
