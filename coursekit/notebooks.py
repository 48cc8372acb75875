"""The one notebook build: jupytext percent sources → notebooks, one per track.

Every notebook of the course (lessons, lecture solutions, assignments) is written once as a
jupytext "percent" source, valid Python that ruff lints (jupytext comments out magics such as
``# %matplotlib inline`` and restores them when it reads the file)::

    # %% [markdown]
    # # Perceptron ({{Track}})
    # %%
    import numpy as np                 # untagged: in every track's notebook
    # %% tags=["pytorch"]
    import torch                       # only in the PyTorch notebook
    # %% tags=["keras"]
    import keras                       # only in the Keras notebook

Placeholders filled in per notebook: ``{{track}}`` (``keras``), ``{{Track}}`` (``Keras``),
``{{path}}`` (the notebook's path in the students' repository), ``{{repo}}`` (its GitHub
``owner/name``, from course.toml), ``{{branch}}`` (its branch), ``{{colab}}`` (the notebook's
"Open in Colab" address), and a line ``# {{install}}``: the install cell's code
(:func:`coursekit.colab.install_code`), written once for every notebook.

This module reads sources (:func:`read_cells`), picks one track's cells
(:func:`track_cells`), makes the notebook (:func:`make_notebook`, the one kernelspec),
renders it (:func:`render`) and writes or checks the results (:func:`sync`).
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Callable
from pathlib import Path

import jupytext
import nbformat

from coursekit.config import Course
from coursekit.errors import CourseError

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python"}
OTHER_TAGS = {"remove-input", "parameters", "skip-ci"}
# what jupytext keeps in a cell's metadata to write the text back the same way
JUPYTEXT_KEYS = {"skipline", "noskipline", "cell_marker", "lines_to_next_cell", "lines_to_end_of_cell_marker"}


class SourceError(CourseError, ValueError):
    """A percent source that cannot be built (the message names the file and the cell)."""


def read_cells(path: Path, tracks: dict[str, str]) -> list[nbformat.NotebookNode]:
    """The cells of a percent source, as jupytext reads them; unknown tags are refused."""
    nb = jupytext.read(path, fmt="py:percent")
    for i, cell in enumerate(nb.cells):
        unknown = set(cell.metadata.get("tags", [])) - set(tracks) - OTHER_TAGS
        if unknown:
            first = cell.source.splitlines()[0] if cell.source else ""
            raise SourceError(
                f"{path}: cell {i + 1} ({first[:40]!r}) has unknown tag(s) "
                f"{sorted(unknown)}; use a track of course.toml ({', '.join(tracks)}) "
                f"or one of {sorted(OTHER_TAGS)}"
            )
    return nb.cells


def substitute(text: str, course: Course, track: str | None, path: str) -> str:
    """Fill in the placeholders of one cell for the notebook at ``path`` of ``track``."""
    if "# {{install}}" in text:
        from coursekit.colab import install_code

        text = text.replace("# {{install}}", install_code(course, track))
    if track is not None:
        text = text.replace("{{track}}", track).replace("{{Track}}", course.tracks[track])
    return (
        text.replace("{{colab}}", course.colab_url(path))
        .replace("{{repo}}", course.public_repo)
        .replace("{{path}}", path)
        .replace("{{branch}}", course.branch)
    )


def stable_id(*parts: object) -> str:
    """A cell id that stays the same from build to build (so rebuilds are byte-identical)."""
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()[:12]


def track_cells(
    cells: list,
    course: Course,
    track: str | None,
    path: str,
    cell_id: Callable[[int, int, nbformat.NotebookNode], str],
) -> list:
    """The cells of ``track`` (untagged cells and those tagged with it), placeholders filled in.

    ``cell_id(source_index, notebook_index, cell)`` names each cell; track tags are dropped.
    """
    out = []
    for i, cell in enumerate(cells):
        tags = cell.metadata.get("tags", [])
        wanted = [t for t in tags if t in course.tracks]
        if wanted and track not in wanted:
            continue
        metadata = {k: v for k, v in cell.metadata.items() if k != "tags" and k not in JUPYTEXT_KEYS}
        other = [t for t in tags if t not in course.tracks]
        if other:
            metadata["tags"] = other
        text = substitute(cell.source, course, track, path)
        new = nbformat.v4.new_markdown_cell if cell.cell_type == "markdown" else nbformat.v4.new_code_cell
        made = new(text, metadata=metadata)
        made.id = cell_id(i, len(out), made)
        out.append(made)
    return out


def make_notebook(cells: list, **metadata) -> nbformat.NotebookNode:
    """An nbformat 4.5 notebook with the course's kernelspec and ``metadata`` added."""
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": dict(LANGUAGE_INFO), **metadata}
    nbformat.validate(nb)
    return nb


def render(nb: nbformat.NotebookNode) -> str:
    """The text of a notebook file as the course stores it (no outputs, stable ids)."""
    return nbformat.writes(nb) + "\n"


def sync(
    expected: dict[Path, str],
    orphans: list[Path],
    *,
    root: Path,
    check: bool,
    rebuild: str,
    problems: tuple[str, ...] = (),
) -> int:
    """Write the generated files that differ and remove ``orphans``; with ``check``, only report.

    Returns the exit status: 1 when ``check`` finds anything out of date.
    """
    stale = [p for p, text in expected.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    if check:
        for p in stale:
            print(f"out of date: {p.relative_to(root)}")
        for p in orphans:
            print(f"no source for: {p.relative_to(root)}")
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
        print(f"wrote {p.relative_to(root)}")
    for p in orphans:
        p.unlink()
        print(f"removed {p.relative_to(root)}")
    for line in problems:
        print(f"warning: {line}")
    print(f"{len(expected)} notebooks.")
    return 0


# ------------------------------------------------------------------ the course's targets


def uses_device(cells: list) -> bool:
    """True when a lesson (any track) trains on the accelerator: it calls ``pick_device()``.

    Such a lesson's notebooks ask Colab for a GPU runtime (``accelerator`` in their metadata).
    """
    for cell in cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # IPython syntax (magics): only plain Python calls count
            continue
        for node in ast.walk(tree):
            called = getattr(node, "func", None)
            name = getattr(called, "id", getattr(called, "attr", None))
            if isinstance(node, ast.Call) and name == "pick_device":
                return True
    return False


def colab_metadata(gpu: bool) -> dict:
    """Colab's notebook metadata; with ``gpu``, a GPU runtime (``gpuType`` as Colab writes it)."""
    colab = {"provenance": [], "toc_visible": True, **({"gpuType": "T4"} if gpu else {})}
    return {"colab": colab, "accelerator": "GPU" if gpu else "None"}


def lesson_sources(course: Course) -> list[Path]:
    return sorted((course.root / "lessons").glob("[0-9][0-9]_*.py"))


def lesson_targets(course: Course) -> dict[Path, str]:
    """``notebooks/<track>/NN_name.ipynb`` for every lesson and track."""
    files = {}
    for source in lesson_sources(course):
        cells = read_cells(source, course.tracks)
        name = source.stem
        for track in course.tracks:
            path = f"notebooks/{track}/{name}.ipynb"
            ids = lambda i, _j, _c, name=name: stable_id(name, i)  # noqa: E731
            nb = make_notebook(
                track_cells(cells, course, track, path, ids), **colab_metadata(gpu=uses_device(cells))
            )
            files[course.root / path] = render(nb)
    return files


def lecture_solution_targets(course: Course) -> dict[Path, str]:
    """The worked solutions of the lecture exercises, from ``solutions/lectures/src/NN_name.py``.

    A source with track-tagged cells builds one notebook per track,
    ``solutions/lectures/<track>/NN_name.ipynb``, as a lesson does; a source without builds
    ``solutions/lectures/NN_name.ipynb``.
    """
    files = {}
    for source in sorted((course.root / "solutions" / "lectures" / "src").glob("[0-9][0-9]_*.py")):
        name = source.stem
        cells = read_cells(source, course.tracks)
        tracked = any(set(c.metadata.get("tags", [])) & set(course.tracks) for c in cells)
        for track in course.tracks if tracked else [None]:
            path = f"solutions/lectures/{track}/{name}.ipynb" if track else f"solutions/lectures/{name}.ipynb"
            ids = lambda i, _j, _c, path=path: stable_id(path.removesuffix(".ipynb"), i)  # noqa: E731
            files[course.root / path] = render(make_notebook(track_cells(cells, course, track, path, ids)))
    return files


def build(course: Course, check: bool = False) -> int:
    """Lessons and lecture solutions (``coursekit build``; ``--check`` only compares)."""
    expected = lesson_targets(course)
    orphans = [p for p in (course.root / "notebooks").glob("*/*.ipynb") if p not in expected]
    status = sync(
        expected,
        orphans,
        root=course.root,
        check=check,
        rebuild="Run `coursekit build` (make notebooks) and commit the result.",
    )
    expected = lecture_solution_targets(course)
    folder = course.root / "solutions" / "lectures"
    built = [*folder.glob("[0-9][0-9]_*.ipynb"), *folder.glob("*/[0-9][0-9]_*.ipynb")]
    orphans = [p for p in built if p not in expected]
    lessons = {p.stem for p in lesson_sources(course)}
    missing = tuple(
        f"no solution source for lesson: lessons/{name}.py"
        for name in sorted(lessons - {p.stem for p in expected})
    )
    status |= sync(
        expected,
        orphans,
        root=course.root,
        check=check,
        problems=missing,
        rebuild="Run `coursekit build` (make notebooks) and commit the result.",
    )
    return status
