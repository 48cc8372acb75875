"""Site: the course as a static website, built from the students' tree only.

    coursekit site                        # publish into _build/site/public, HTML in _build/site/html
    coursekit site --from ../dl-course    # from a tree `coursekit publish` wrote
    coursekit publish DEST                # writes DEST/docs/ too (GitHub Pages: "/docs" on main)

One page per lesson with every track on it. Where the tracks' notebooks share a cell (the same
cell id: an untagged cell of the lesson source) it is shown once; where they differ, the
versions are tabs of one sync group (sphinx-design), so choosing PyTorch switches every block
of the page, and of every later page: the choice is kept in the browser's localStorage. The
outputs come from executed copies of the published notebooks (:func:`coursekit.execute.execute`,
cached by content, so an unchanged lesson is not run again). Each assignment gets a page with
its student version and download and Colab links; the course_utils reference comes from its
docstrings (``sphinx.ext.autodoc``).

Built with Sphinx, MyST-Parser and sphinx-design, the engine of Jupyter Book 1, driven directly:
a page here interleaves two notebooks, each run in its own kernel, which neither Jupyter Book 1
(one notebook, one kernel per page) nor Jupyter Book 2 (a Node.js tool) does; the page's MyST
text is written by :func:`lesson_page` instead. Because the site is made from the published
tree, it cannot show what that tree does not hold, and ``publish`` scans it with the rest.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from coursekit.config import Course
from coursekit.errors import CourseError
from coursekit.execute import CACHE, execute

BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)[ \t]*\n?")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# what TensorFlow's C++ logging writes to stderr however quiet it is told to be
NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\)|[IWE]\d{4} \d\d:\d\d:\d\d)")
MAX_LINES = 60  # of one text output; a longer one keeps its start and end
PRIORITY = ("image/png", "image/jpeg", "image/svg+xml", "text/html", "text/markdown", "text/plain")
SUFFIX = {"image/png": ".png", "image/jpeg": ".jpg", "image/svg+xml": ".svg"}


class SiteError(CourseError):
    """A page that cannot be made (the message says which notebook and what to do)."""


# ------------------------------------------------------------------------- MyST pieces


def fence(text: str, info: str = "") -> str:
    """A fenced block longer than any backtick run inside ``text``."""
    ticks = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", text)), default=0))
    return f"{ticks}{info}\n{text.rstrip()}\n{ticks}"


def tabs(items: dict[str, str], course: Course) -> str:
    """One tab per track, in the course's sync group (a choice on one page holds on all)."""
    parts = ["`````{tab-set}", ":sync-group: track", ""]
    for track, body in items.items():
        parts += [f"````{{tab-item}} {course.tracks[track]}", f":sync: {track}", "", body.strip(), "````", ""]
    parts.append("`````")
    return "\n".join(parts)


def demote_headings(markdown: str) -> str:
    """Headings inside a tab become bold lines (a section cannot start inside a directive)."""
    out, in_code = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_code = not in_code
        match = None if in_code else HEADING.match(line)
        out.append(f"**{match.group(2)}**" if match else line)
    return "\n".join(out)


def clean_stream(text: str) -> str:
    """A stream as a terminal shows it: ANSI colours gone, ``\\r`` progress bars at their end."""
    lines = []
    for line in ANSI.sub("", text).split("\n"):
        line = line.rstrip("\r").split("\r")[-1]
        kept: list[str] = []
        for char in line:  # a backspace takes back the character before it
            kept.pop() if char == "\b" else kept.append(char)
        line = "".join(kept)
        lines.append(line)
    if len(lines) > MAX_LINES:
        cut = len(lines) - MAX_LINES
        lines = [*lines[: MAX_LINES // 2], f"… ({cut} lines left out)", *lines[-MAX_LINES // 2 :]]
    return "\n".join(lines).strip("\n")


class Outputs:
    """Turns cell outputs into MyST; figures are written once, named by their content."""

    def __init__(self, folder: Path, link: str):
        self.folder, self.link = folder, link
        self.written: set[Path] = set()

    def figure(self, data: str | bytes, mime: str) -> str:
        import base64

        raw = data.encode() if mime == "image/svg+xml" else base64.b64decode(data)
        name = hashlib.sha1(raw).hexdigest()[:16] + SUFFIX[mime]
        path = self.folder / name
        if not path.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            path.write_bytes(raw)
        self.written.add(path)
        return f"![output]({self.link}/{name})"

    def render(self, outputs: list) -> str:
        parts: list[str] = []
        for out in outputs:
            kind = out.get("output_type")
            if kind == "stream":
                text = clean_stream(out.get("text", ""))
                if out.get("name") == "stderr":
                    text = "\n".join(line for line in text.splitlines() if not NOISE.match(line))
                if text.strip():
                    parts.append(fence(text, "text"))
            elif kind == "error":
                parts.append(fence(f"{out.get('ename')}: {out.get('evalue')}", "text"))
            elif kind in ("display_data", "execute_result"):
                data = out.get("data", {})
                mime = next((m for m in PRIORITY if m in data), None)
                widget = "application/vnd.jupyter.widget-view+json" in data
                if mime is None or (widget and mime == "text/plain"):
                    continue  # a widget without a static picture: nothing to show on a web page
                value = data[mime]
                if mime in SUFFIX:
                    parts.append(self.figure(value, mime))
                elif mime == "text/html":
                    parts.append(fence(value, "{raw} html"))
                elif mime == "text/markdown":
                    parts.append(value)
                else:
                    parts.append(fence(clean_stream(value), "text"))
        return "\n\n".join(parts)


# ----------------------------------------------------------------------------- pages


def aligned(nbs: dict[str, nbformat.NotebookNode], name: str) -> list[tuple[str, dict]]:
    """The tracks' cells side by side: ``("shared", {track: cell})`` for a cell every track has
    (same id), ``("tabs", {track: [cells]})`` for the runs of track-only cells between them."""
    common = set.intersection(*({c.id for c in nb.cells} for nb in nbs.values()))
    pos = dict.fromkeys(nbs, 0)
    blocks: list[tuple[str, dict]] = []
    while any(pos[t] < len(nb.cells) for t, nb in nbs.items()):
        runs: dict[str, list] = {}
        for track, nb in nbs.items():
            runs[track] = []
            while pos[track] < len(nb.cells) and nb.cells[pos[track]].id not in common:
                runs[track].append(nb.cells[pos[track]])
                pos[track] += 1
        if any(runs.values()):
            blocks.append(("tabs", runs))
        heads = {t: nb.cells[pos[t]] for t, nb in nbs.items() if pos[t] < len(nb.cells)}
        if not heads:
            break
        if len(heads) != len(nbs) or len({c.id for c in heads.values()}) != 1:
            raise SiteError(
                f"{name}: the tracks' notebooks share cells in a different order; rebuild them "
                "from the lesson source (coursekit build) and publish again"
            )
        blocks.append(("shared", heads))
        for track in heads:
            pos[track] += 1
    return blocks


def _cell(cell, outputs: Outputs, *, in_tab: bool) -> str:
    if cell.cell_type == "markdown":
        text = BADGE.sub("", cell.source).strip()
        return demote_headings(text) if in_tab else text
    tags = cell.metadata.get("tags", [])
    code = "" if "remove-input" in tags else fence(cell.source, "python")
    return "\n\n".join(p for p in (code, outputs.render(cell.get("outputs", []))) if p)


def _shared(cells: dict, outputs: Outputs, course: Course) -> str:
    first = next(iter(cells.values()))
    if first.cell_type == "markdown" or len({c.source for c in cells.values()}) > 1:
        shown = {t: _cell(c, outputs, in_tab=False) for t, c in cells.items()}
        if len(set(shown.values())) == 1:
            return shown[next(iter(shown))]
        return tabs({t: _cell(c, outputs, in_tab=True) for t, c in cells.items()}, course)
    code = "" if "remove-input" in first.metadata.get("tags", []) else fence(first.source, "python")
    results = {t: outputs.render(c.get("outputs", [])) for t, c in cells.items()}
    if len(set(results.values())) == 1:
        return "\n\n".join(p for p in (code, results[next(iter(results))]) if p)
    return "\n\n".join(p for p in (code, tabs(results, course)) if p)


def title_of(nbs: dict[str, nbformat.NotebookNode], course: Course, fallback: str) -> str:
    """The page title: the first heading, without the track's name; taken out of the cells."""
    titles = set()
    for track, nb in nbs.items():
        first = nb.cells[0] if nb.cells else None
        if first is None or first.cell_type != "markdown" or not first.source.startswith("# "):
            return fallback
        heading, _, rest = first.source.partition("\n")
        titles.add(heading[2:].replace(f" ({course.tracks[track]})", "").strip())
        first.source = rest
    return titles.pop() if len(titles) == 1 else fallback


def colab_buttons(course: Course, paths: dict[str, str]) -> str:
    """One "Open in Colab" button per track, to the notebook in the students' repository."""
    buttons = [
        f"{{bdg-link-primary}}`Open in Colab: {course.tracks[t]} <{course.colab_url(p)}>`"
        for t, p in paths.items()
    ]
    return " ".join(buttons)


def lesson_page(
    course: Course, name: str, nbs: dict[str, nbformat.NotebookNode], outputs: Outputs, provenance: str
) -> str:
    """The MyST text of one lesson: shared cells once, track cells as synced tabs."""
    nbs = {t: nbformat.from_dict(nb) for t, nb in nbs.items()}  # titles are taken out of a copy
    title = title_of(nbs, course, name)
    body = []
    for kind, cells in aligned(nbs, name):
        if kind == "shared":
            body.append(_shared(cells, outputs, course))
        else:
            items = {}
            for track, run in cells.items():
                text = "\n\n".join(_cell(c, outputs, in_tab=True) for c in run)
                has = [course.tracks[t] for t, r in cells.items() if r]
                items[track] = text or f"*This part is only in the {' and '.join(has)} notebook.*"
            body.append(tabs(items, course))
    buttons = colab_buttons(course, {t: f"notebooks/{t}/{name}.ipynb" for t in nbs})
    note = f"```{{note}}\n{provenance}\n```"
    return "\n\n".join([f"# {title}", buttons, note, *[b for b in body if b.strip()]]) + "\n"


def assignment_page(course: Course, key: str, released: dict[str, Path], src: Path) -> str:
    """An assignment's student version(s), with a download and an "Open in Colab" link each."""
    spec = course.assignments[key]
    items = {}
    outputs = Outputs(src / "assignments" / "_out", "_out")
    for name, path in released.items():
        copy = src / "assignments" / path.name
        if not copy.exists() or copy.read_bytes() != path.read_bytes():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
        nb = nbformat.read(path, as_version=4)
        link = f"{{download}}`Download {path.name} <{path.name}>` · " + colab_buttons(
            course, {spec.track_of(name) or next(iter(course.tracks)): f"assignments/{name}/{path.name}"}
        )
        cells = "\n\n".join(_cell(c, outputs, in_tab=True) for c in nb.cells)
        items[spec.track_of(name)] = f"{link}\n\n{cells}"
    how = (
        "Answer in the cells marked `YOUR CODE HERE` / `YOUR ANSWER HERE`, run all cells, download "
        "the notebook and hand it in as your instructor says. Do not delete or copy cells: they "
        "carry the grading metadata."
    )
    head = f"# {spec.title or key}\n\n{spec.points} points. {how}"
    if spec.tracks:
        return f"{head}\n\n{tabs(items, course)}\n"
    return f"{head}\n\n{items[None]}\n"


def api_page(published: Path) -> str:
    """The course_utils reference, from its docstrings."""
    package = published / "course_utils"
    modules = sorted(p for p in package.rglob("*.py") if not p.name.startswith("_"))
    parts = [
        "# course_utils reference",
        "",
        "The helpers the notebooks import. On Colab the first cell of every notebook installs them.",
        "",
        "```{automodule} course_utils",
        ":members:",
        "```",
    ]
    for path in modules:
        module = ".".join(path.relative_to(published).with_suffix("").parts)
        parts += ["", f"## `{module}`", "", "```{automodule} " + module, ":members:", "```"]
    return "\n".join(parts) + "\n"


def index_page(course: Course, lessons: list[str], keys: list[str], provenance: str) -> str:
    tracks = " and ".join(course.tracks.values())
    toc = lambda caption, entries: "\n".join(  # noqa: E731
        ["```{toctree}", f":caption: {caption}", ":maxdepth: 1", "", *entries, "```"]
    )
    return f"""# {course.title or course.id}

Every lesson is written once and runs in {tracks}. Where the frameworks differ, a page shows one
tab per framework: pick yours once, and every block on every page follows.

Run a lesson yourself with its "Open in Colab" button (Colab already has the frameworks; the
notebook's first cell installs the course helpers), or clone
[the course repository](https://github.com/{course.public_repo}) and open `notebooks/` in Jupyter.

{provenance}

{toc("Lessons", [f"lessons/{n}" for n in lessons])}

{toc("Assignments", [f"assignments/{k}" for k in keys])}

{toc("Reference", ["api"])}
"""


def conf_py(course: Course) -> str:
    return f"""# Written by coursekit.site: the Sphinx configuration of the course website.
project = {course.title or course.id!r}
html_title = project
extensions = ["myst_parser", "sphinx_design", "sphinx.ext.autodoc", "sphinx.ext.napoleon",
              "sphinx.ext.githubpages"]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
myst_update_mathjax = False  # its MathJax 3 settings would confuse MathJax 2
html_theme = "sphinx_book_theme"
html_theme_options = {{"repository_url": "https://github.com/{course.public_repo}",
                      "use_repository_button": True, "show_toc_level": 2}}
html_static_path = ["_static_extra"]
# MathJax from the site itself (jupyter-server-mathjax's copy): formulas render offline too
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
mathjax2_config = {{"tex2jax": {{"inlineMath": [["\\\\(", "\\\\)"]], "displayMath": [["\\\\[", "\\\\]"]],
                               "processRefs": False, "processEnvironments": False}},
                    # the copy has the STIX-Web fonts only (as Jupyter's classic notebook used it)
                    "HTML-CSS": {{"availableFonts": [], "preferredFont": None, "webFont": "STIX-Web",
                                 "imageFont": None}}}}
html_copy_source = False
html_show_sourcelink = False
autodoc_member_order = "bysource"
suppress_warnings = ["misc.highlighting_failure", "myst.header"]
"""


# ----------------------------------------------------------------------------- build


def _write(path: Path, text: str, written: set[Path]) -> None:
    """Write only what changed, so Sphinx rebuilds only the pages that changed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    written.add(path)


def mathjax(folder: Path) -> set[Path]:
    """MathJax 2 (from jupyter-server-mathjax) into the site: its files, copied once."""
    import jupyter_server_mathjax

    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    files = set()
    for path in static.rglob("*"):
        rel = path.relative_to(static)
        if path.is_file() and rel.parts[0] != "localization":  # English only
            target = folder / rel
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
            files.add(target)
    return files


def provenance_of(fast: bool) -> str:
    machine = (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores, "
        f"Python {platform.python_version()}"
    )
    if fast:
        return (
            f"Outputs on these pages come from a fast-mode run (`COURSE_FAST=1`: small data, few epochs) "
            f"on {machine}; accuracies in them are far below a full run's. The figures in the text are "
            "the lessons' own (measured or labelled as a source's claim)."
        )
    return f"Outputs on these pages come from a full-mode run (`COURSE_FAST=0`) on {machine}."


def build_site(
    course: Course,
    published: Path,
    out: Path,
    *,
    fast: bool = True,
    work: Path | None = None,
    cache: Path | None = None,
) -> list[str]:
    """Pages from the published tree at ``published``, HTML into ``out``; failures as sentences.

    ``work``: Sphinx's sources and doctrees, kept for the next build (default ``_build/site``);
    ``cache``: executed notebooks (default ``_build/cache``, what ``coursekit execute`` fills).
    """
    published, out = published.resolve(), out.resolve()
    work = (work or course.root / "_build" / "site").resolve()
    src, cache = work / "src", cache or course.root / CACHE
    if not (published / "notebooks").is_dir():
        return [f"{published} has no notebooks/: pass a tree written by `coursekit publish`"]
    written: set[Path] = set()
    provenance = provenance_of(fast)
    first = next(iter(course.tracks))
    lessons = sorted(p.stem for p in (published / "notebooks" / first).glob("[0-9][0-9]_*.ipynb"))
    outputs = Outputs(src / "lessons" / "_out", "_out")
    t0 = time.perf_counter()
    for name in lessons:
        nbs = {}
        for track in course.tracks:
            rel = f"notebooks/{track}/{name}.ipynb"
            if not (published / rel).exists():
                return [f"{published / rel} is missing: a lesson needs a notebook per track (build it)"]
            try:
                nbs[track], seconds = execute(published / rel, cache, fast=fast, reuse=True)
            except Exception as err:  # the notebook's own error, with its cell
                return [f"{rel} failed to run: {type(err).__name__}: {str(err)[-1500:]}"]
            print(f"{'cached' if seconds == 0 else f'{seconds:5.1f} s'}  {rel}", flush=True)
        try:
            page = lesson_page(course, name, nbs, outputs, provenance)
            _write(src / "lessons" / f"{name}.md", page, written)
        except SiteError as err:
            return [str(err)]
    keys = []
    for key, spec in course.assignments.items():
        found = {n: published / "assignments" / n / f"{n}.ipynb" for n in spec.names}
        if all(p.exists() for p in found.values()):
            keys.append(key)
            _write(src / "assignments" / f"{key}.md", assignment_page(course, key, found, src), written)
            written |= {src / "assignments" / p.name for p in found.values()}
    _write(src / "api.md", api_page(published), written)
    _write(src / "index.md", index_page(course, lessons, keys, provenance), written)
    _write(src / "conf.py", conf_py(course), written)
    written |= mathjax(src / "_static_extra" / "mathjax")
    written |= outputs.written | {p for p in (src / "assignments" / "_out").glob("*")}
    for stale in [p for p in src.rglob("*") if p.is_file() and p not in written]:
        stale.unlink()
    cmd = [
        sys.executable,
        "-m",
        "sphinx",
        "-b",
        "html",
        "-q",
        "-d",
        str(work / "doctrees"),
        "-w",
        str(work / "warnings.txt"),
        str(src),
        str(out),
    ]
    # run in the published tree: autodoc documents its course_utils (python -m puts the cwd first)
    done = subprocess.run(cmd, cwd=published, capture_output=True, text=True)
    if done.returncode:
        return [f"Sphinx failed ({done.returncode}): {(done.stderr or done.stdout)[-3000:]}"]
    warnings = (work / "warnings.txt").read_text(encoding="utf-8").strip()
    for line in warnings.splitlines()[:20]:
        print(f"sphinx: {line}")
    pages = len(list(out.rglob("*.html")))
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(
        f"site: {pages} pages, {size / 1e6:.1f} MB in {out} ({time.perf_counter() - t0:.0f} s); "
        f"open {out / 'index.html'}"
    )
    return []
