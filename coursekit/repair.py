"""Validate and repair a hand-in before nbgrader sees it (the pre-step of ``make grade``).

    result = repair_submission(submitted_notebook, released_notebook)
    result.ok       False: not gradable, result.reason says why ("not valid JSON: ...")
    result.notes    what was repaired, one readable line each
    result.nb       the repaired notebook (when ok)

What it repairs, against the released notebook ``release/<a>/<a>.ipynb``:

* a cell whose grade_id exists twice (copy and paste): the first copy keeps the nbgrader
  metadata, the later copies become ordinary cells (they still run);
* a grade_id that is not in the release: the metadata is removed, then the cell is matched
  like a cell without metadata;
* cells without their nbgrader metadata (stripped by an editor, or a cell deleted and
  re-created): matched back to the released cells, locked cells by their text, answer cells
  by their position between the matched cells (and their text), and given the released
  metadata again;
* altered metadata (points, grade/solution/locked flags): the released metadata is restored;
* deleted cells: the released cell is inserted again where it was, so its tests (hidden ones
  included, nbgrader restores them) run and the student gets 0 points for them instead of a
  silently missing part.

A notebook that is not JSON, JSON but not a notebook, or a notebook without most of the
assignment's cells (the wrong file) is not gradable.
"""

from __future__ import annotations

import copy
import difflib
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat


@dataclass
class Repair:
    ok: bool
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    nb: object = None
    changed: bool = False


def _gid(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _norm(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _similar(a: str, b: str, at_least: float = 0.0) -> float:
    """difflib's similarity of two cell texts; 0.0 where its cheap upper bounds already fall short
    of ``at_least`` (the full comparison costs seconds on long cells)."""
    matcher = difflib.SequenceMatcher(None, _norm(a), _norm(b), autojunk=False)
    if matcher.real_quick_ratio() < at_least or matcher.quick_ratio() < at_least:
        return 0.0
    return matcher.ratio()


def load_notebook(path: Path):
    """``(notebook, None)`` or ``(None, reason it cannot be graded)``."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        return None, f"cannot read the file ({err.strerror})"
    if not raw.strip():
        return None, "the file is empty"
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, "not a text file (not UTF-8), so not a notebook"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        return None, f"not valid JSON ({err.msg}: line {err.lineno}, column {err.colno})"
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        kind = type(data).__name__
        return None, f"valid JSON but not a Jupyter notebook (a {kind} without a 'cells' list)"
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as err:  # nbformat raises many kinds
        return None, f"not a readable Jupyter notebook ({type(err).__name__}: {str(err)[:120]})"
    for index, cell in enumerate(nb.cells):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            return None, f"not a readable Jupyter notebook (cell {index + 1} is not a cell)"
    return nb, None


def _ensure_valid(nb, notes: list[str]) -> None:
    """Unique cell ids and the fields nbformat requires (copied cells share ids)."""
    seen = set()
    for cell in nb.cells:
        cell.setdefault("metadata", nbformat.NotebookNode())
        if "id" in cell and (not cell.id or cell.id in seen):
            cell.id = uuid.uuid4().hex[:8]
        seen.add(cell.get("id"))
        if cell.cell_type == "code":
            cell.setdefault("outputs", [])
            cell.setdefault("execution_count", None)
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)


LOST = "lost nbgrader metadata restored: "


def _summarize(notes: list[str]) -> list[str]:
    """One note for all the cells whose metadata was restored (a stripped notebook has dozens)."""
    lost = [n[len(LOST) :] for n in notes if n.startswith(LOST)]
    rest = [n for n in notes if not n.startswith(LOST)]
    if lost:
        rest.insert(
            0,
            f"{len(lost)} cell(s) had lost their nbgrader metadata, restored by matching them "
            f"to the assignment: {', '.join(lost)}",
        )
    return rest


def _restore(cell, released, notes: list[str], how: str) -> None:
    want = copy.deepcopy(released.metadata["nbgrader"])
    have = cell.metadata.get("nbgrader")
    if have is None:
        notes.append(f"{LOST}{_gid(released)} (cell {how})")
    else:

        def strip(meta):
            return {k: v for k, v in meta.items() if k != "checksum"}

        if strip(have) != strip(want):
            notes.append(f"cell {_gid(released)!r}: altered nbgrader metadata restored")
    cell.metadata["nbgrader"] = want
    for flag in ("editable", "deletable"):
        if flag in released.metadata:
            cell.metadata[flag] = released.metadata[flag]
        else:
            cell.metadata.pop(flag, None)


def repair_notebook(nb, release) -> tuple[list[str], int]:
    """Repair ``nb`` in place against the released notebook.

    Returns the notes (what changed) and the number of released cells that had to be inserted.
    """
    notes: list[str] = []
    inserted = 0
    graded = [c for c in release.cells if _gid(c)]
    released = {_gid(c): c for c in graded}

    # 1. duplicates and unknown ids
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        gid = _gid(cell)
        if gid is None:
            cell.get("metadata", {}).pop("nbgrader", None)  # nbgrader metadata without an id
            continue
        if gid not in released:
            notes.append(
                f"cell {index + 1} has grade_id {gid!r}, which is not in the assignment: metadata removed"
            )
            del cell.metadata["nbgrader"]
        elif gid in seen:
            notes.append(
                f"cell {index + 1} is a second copy of {gid!r}: graded the first copy, "
                "this one runs as an ordinary cell"
            )
            del cell.metadata["nbgrader"]
            for flag in ("editable", "deletable"):
                cell.metadata.pop(flag, None)
        else:
            seen.add(gid)

    def position(gid):
        return next((i for i, c in enumerate(nb.cells) if _gid(c) == gid), None)

    def window(k):
        """Indices in nb strictly between the matched neighbours of graded[k]."""
        lo = next((position(_gid(c)) for c in reversed(graded[:k]) if position(_gid(c)) is not None), -1)
        hi = next(
            (position(_gid(c)) for c in graded[k + 1 :] if position(_gid(c)) is not None), len(nb.cells)
        )
        return lo, hi

    def free(i, cell_type=None):
        cell = nb.cells[i]
        return "nbgrader" not in cell.metadata and (cell_type is None or cell.cell_type == cell_type)

    # 2. present ids: restore altered metadata
    for gid, rel in released.items():
        i = position(gid)
        if i is not None:
            _restore(nb.cells[i], rel, notes, "")

    # 3. locked cells (instructions, given code, tests) by their text, then answers by position
    def match(k, locked: bool):
        rel = graded[k]
        lo, hi = window(k)
        candidates = [i for i in range(lo + 1, hi) if free(i)]
        if locked:
            text = _norm(rel.source)
            same = [i for i in candidates if _norm(nb.cells[i].source) == text]
            if same:  # unchanged (the usual case): the first, as the best score below would pick
                return same[0], "by text"
            scored = [(_similar(nb.cells[i].source, rel.source, 0.8), -i, i) for i in candidates]
            scored = [s for s in scored if s[0] >= 0.8]
            if scored:
                return max(scored)[2], "by text"
            return None, ""
        same_type = [i for i in candidates if nb.cells[i].cell_type == rel.cell_type]
        if len(same_type) == 1:
            return same_type[0], "by position"
        scored = [(_similar(nb.cells[i].source, rel.source, 0.3), -i, i) for i in same_type]
        scored = [s for s in scored if s[0] >= 0.3]
        if scored:
            return max(scored)[2], "by position and text"
        return None, ""

    for locked in (True, False):
        for k, rel in enumerate(graded):
            meta = rel.metadata["nbgrader"]
            is_locked = bool(meta.get("locked")) and not meta.get("solution")
            if is_locked != locked or position(_gid(rel)) is not None:
                continue
            i, how = match(k, locked)
            if i is not None:
                _restore(nb.cells[i], rel, notes, f"{i + 1}, {how}")

    # 4. still missing: insert the released cell where it was
    for k, rel in enumerate(graded):
        if position(_gid(rel)) is not None:
            continue
        lo, hi = window(k)
        cell = copy.deepcopy(rel)
        cell.pop("id", None)
        if (nb.nbformat, nb.nbformat_minor) >= (4, 5):  # 4.0-4.4 (Colab saves 4.0) have no cell ids
            cell["id"] = uuid.uuid4().hex[:8]
        nb.cells.insert(lo + 1, cell)
        inserted += 1
        meta = rel.metadata["nbgrader"]
        if meta.get("grade") and not meta.get("solution"):
            what = (
                f"test cell {_gid(rel)!r} ({meta.get('points', 0):g} points) was deleted: re-inserted, "
                "its tests run and count"
            )
        elif meta.get("solution"):
            what = f"answer cell {_gid(rel)!r} was deleted: re-inserted empty (no answer)"
        else:
            what = f"cell {_gid(rel)!r} was deleted: re-inserted from the assignment"
        notes.append(what)
    _ensure_valid(nb, notes)
    return _summarize(notes), inserted


def repair_submission(path: Path, release_path: Path) -> Repair:
    """Read, check and repair one submitted notebook (the file is not touched)."""
    nb, reason = load_notebook(path)
    if nb is None:
        return Repair(False, reason)
    release = nbformat.read(release_path, as_version=4)
    before = json.dumps(nb, sort_keys=True)
    notes, inserted = repair_notebook(nb, release)
    total = sum(1 for c in release.cells if _gid(c))
    if inserted > total / 2:
        return Repair(
            False,
            f"not this assignment's notebook: {inserted} of its {total} cells are missing "
            "(wrong file handed in?)",
        )
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as err:
        return Repair(False, f"not a valid notebook after repair ({str(err).splitlines()[0][:150]})", notes)
    changed = json.dumps(nb, sort_keys=True) != before
    return Repair(True, "", notes, nb, changed)


def repair_in_place(path: Path, release_path: Path) -> Repair:
    """``repair_submission``, then write the repaired notebook over ``path``.

    The hand-in as it was is kept as ``<name>.ipynb.orig`` (nbgrader ignores ``*.orig``),
    once: running it again repairs the original, not an earlier repair.
    """
    original = path.with_name(path.name + ".orig")
    source = original if original.exists() else path
    result = repair_submission(source, release_path)
    if result.ok and result.changed:
        if not original.exists():
            path.replace(original)
        nbformat.write(result.nb, path)
    elif result.ok and original.exists():
        nbformat.write(result.nb, path)
    return result
