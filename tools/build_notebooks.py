"""Write the Keras and PyTorch notebooks of every lesson from its one source file.

A lesson is written once, in ``lessons/NN_name.py`` (jupytext-style "percent" format):

    # %% [markdown]
    # # Perceptron
    # %%
    import numpy as np                 # shared: in both notebooks
    # %% tags=["pytorch"]
    import torch                       # only in notebooks/pytorch/NN_name.ipynb
    # %% tags=["keras"]
    import keras                       # only in notebooks/keras/NN_name.ipynb

Markdown and code may use ``{{track}}`` (``keras``/``pytorch``), ``{{Track}}``
(``Keras``/``PyTorch``), ``{{path}}`` (the notebook's path in the repository),
``{{repo}}`` (the GitHub ``owner/name`` in :data:`COLAB_REPO`) and ``{{colab}}`` (the
notebook's "Open in Colab" address).

    python tools/build_notebooks.py            # (re)write notebooks/
    python tools/build_notebooks.py --check    # fail if a committed notebook differs
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
OUT = ROOT / "notebooks"
TRACKS = {"keras": "Keras", "pytorch": "PyTorch"}
# The one place that names the public repository (Colab badges and the Colab pip install).
COLAB_REPO = "course-kit/dl-course"
COLAB_URL = "https://colab.research.google.com/github/{repo}/blob/main/{path}"
HEADER = re.compile(r"^# %%(?P<rest>.*)$")
TAGS = re.compile(r"tags\s*=\s*(\[[^\]]*\])")


def parse(text: str) -> list[dict]:
    """Split a percent-format source into cells: ``{"type", "tags", "source"}``."""
    cells: list[dict] = []
    current: dict | None = None
    for line in text.splitlines():
        match = HEADER.match(line)
        if match:
            rest = match.group("rest")
            tags_match = TAGS.search(rest)
            tags = json.loads(tags_match.group(1)) if tags_match else []
            unknown = set(tags) - set(TRACKS) - {"remove-input", "parameters", "skip-ci"}
            if unknown:
                raise ValueError(f"Unknown cell tag(s) {sorted(unknown)} in header {line!r}.")
            current = {"type": "markdown" if "[markdown]" in rest else "code",
                       "tags": tags, "lines": []}  # fmt: skip
            cells.append(current)
        elif current is not None:
            current["lines"].append(line)
        elif line.strip():
            raise ValueError(f"Text before the first '# %%' cell header: {line!r}")
    for cell in cells:
        lines = cell.pop("lines")
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if cell["type"] == "markdown":
            lines = [ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in lines]
        cell["source"] = "\n".join(lines)
    return cells


def substitute(text: str, track: str, name: str) -> str:
    """Fill in the placeholders of one cell for one track's notebook of lesson ``name``."""
    path = f"notebooks/{track}/{name}.ipynb"
    return (text.replace("{{track}}", track).replace("{{Track}}", TRACKS[track])
            .replace("{{colab}}", COLAB_URL.format(repo=COLAB_REPO, path=path))
            .replace("{{repo}}", COLAB_REPO).replace("{{path}}", path))  # fmt: skip


def cell_id_of(name: str, index: int) -> str:
    """Stable id of the ``index``-th source cell of lesson ``name`` (the same in both tracks)."""
    return hashlib.sha1(f"{name}:{index}".encode()).hexdigest()[:12]


def build(source: Path, track: str):
    """The notebook of one lesson for one track."""
    name = source.stem
    cells = []
    for i, cell in enumerate(parse(source.read_text(encoding="utf-8"))):
        wanted = [t for t in cell["tags"] if t in TRACKS]
        if wanted and track not in wanted:
            continue
        text = substitute(cell["source"], track, name)
        cell_id = cell_id_of(name, i)
        tags = [t for t in cell["tags"] if t not in TRACKS]
        metadata = {"tags": tags} if tags else {}
        if cell["type"] == "markdown":
            nb_cell = nbformat.v4.new_markdown_cell(text, metadata=metadata, id=cell_id)
        else:
            nb_cell = nbformat.v4.new_code_cell(text, metadata=metadata, id=cell_id)
        cells.append(nb_cell)
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "colab": {"provenance": [], "toc_visible": True},
        "accelerator": "GPU" if "cifar" in name else "None",
    }
    return nb


def render(nb) -> str:
    return nbformat.writes(nb) + "\n"


def sync(expected: dict[Path, str], orphans: list[Path], *, check: bool, rebuild: str,
         problems: tuple[str, ...] = ()) -> int:  # fmt: skip
    """Write the generated files that differ and remove ``orphans``; with ``check``, only report.

    Returns the exit status: 1 when ``check`` finds anything out of date.
    """
    stale = [p for p, text in expected.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    if check:
        for p in stale:
            print(f"out of date: {p.relative_to(ROOT)}")
        for p in orphans:
            print(f"no source for: {p.relative_to(ROOT)}")
        for line in problems:
            print(line)
        if stale or orphans or problems:
            print(rebuild)
            return 1
        print(f"{len(expected)} notebooks are up to date.")
        return 0
    for p in stale:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(expected[p], encoding="utf-8")
        print(f"wrote {p.relative_to(ROOT)}")
    for p in orphans:
        p.unlink()
        print(f"removed {p.relative_to(ROOT)}")
    for line in problems:
        print(f"warning: {line}")
    print(f"{len(expected)} notebooks.")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    expected: dict[Path, str] = {}
    for source in sorted(LESSONS.glob("[0-9][0-9]_*.py")):
        for track in TRACKS:
            expected[OUT / track / f"{source.stem}.ipynb"] = render(build(source, track))
    orphans = [p for p in OUT.glob("*/*.ipynb") if p not in expected]
    return sync(expected, orphans, check=args.check,
                rebuild="Run `make notebooks` (python tools/build_notebooks.py) and commit the result.")


if __name__ == "__main__":
    sys.exit(main())
