"""Write the worked solutions of the lecture exercises from their percent-format sources.

Each lesson ``lessons/NN_name.py`` ends with exercises; their solutions are written once, in
``solutions/lectures/src/NN_name.py`` (the same "percent" format as the lessons, parsed by
``tools/build_notebooks.py``'s ``parse()``), and built into ``solutions/lectures/NN_name.ipynb``
without outputs. Cells tagged ``keras`` or ``pytorch`` are not used here: the solutions are
one notebook per lesson.

    python solutions/lectures/build.py            # (re)write the notebooks
    python solutions/lectures/build.py --check    # fail if a notebook is missing or stale
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SRC = HERE / "src"
LESSONS = ROOT / "lessons"

_spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "tools" / "build_notebooks.py")
build_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_notebooks)


def cell_id(name: str, index: int) -> str:
    """Stable id of the ``index``-th cell of the solution of lesson ``name``."""
    return hashlib.sha1(f"solutions/lectures/{name}:{index}".encode()).hexdigest()[:12]


def build(source: Path):
    """The solution notebook of one lesson."""
    name = source.stem
    cells = []
    for i, cell in enumerate(build_notebooks.parse(source.read_text(encoding="utf-8"))):
        tags = [t for t in cell["tags"] if t not in build_notebooks.TRACKS]
        metadata = {"tags": tags} if tags else {}
        make = nbformat.v4.new_markdown_cell if cell["type"] == "markdown" else nbformat.v4.new_code_cell
        cells.append(make(cell["source"], metadata=metadata, id=cell_id(name, i)))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return nb


def render(nb) -> str:
    return nbformat.writes(nb) + "\n"


def expected_notebooks() -> dict[Path, str]:
    return {HERE / f"{source.stem}.ipynb": render(build(source))
            for source in sorted(SRC.glob("[0-9][0-9]_*.py"))}  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    expected = expected_notebooks()
    orphans = [p for p in HERE.glob("[0-9][0-9]_*.ipynb") if p not in expected]
    lessons = {p.stem for p in LESSONS.glob("[0-9][0-9]_*.py")}
    missing = tuple(f"no solution source for lesson: lessons/{name}.py"
                    for name in sorted(lessons - {p.stem for p in expected}))  # fmt: skip
    rebuild = "Run `python solutions/lectures/build.py` to rebuild the solution notebooks."
    return build_notebooks.sync(expected, orphans, check=args.check, rebuild=rebuild, problems=missing)


if __name__ == "__main__":
    sys.exit(main())
