"""Publish: write the students' public repository, then prove it leaks nothing.

This repository is the instructor's private master: it holds the solutions and the hidden
tests. Students get another repository, written by ``coursekit publish DEST``:

    README.md                 for students: Colab badges per lesson and track, local install
    LICENSE
    pyproject.toml            installs course_utils (what the Colab install cell fetches)
    course_utils/             the students' runtime package
    notebooks/keras/ …        the lesson notebooks of every track, without outputs
    notebooks/pytorch/ …
    lessons/data/             the small CSV files lesson 02 reads
    assignments/<name>/<name>.ipynb   the released student versions (nbgrader's release/)
    docs/                     the course website (coursekit.site; GitHub Pages serves /docs)

Before it finishes, :func:`scan` reads every file of ``DEST`` and fails, naming file and line,
on any solution line, hidden-test line, assignment source, gradebook, hand-in, instructor tool
(``coursekit``, ``benchmarks``: students have neither) or absolute path of the build machine (a
notebook output that shows where the course was built). ``make course`` publishes into a
temporary folder and runs the same scan.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import site as python_site
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

import nbformat

from coursekit.config import Course, environment
from coursekit.errors import CourseError

PACKAGE = "course_utils"
COPIED = ("notebooks", PACKAGE, "lessons/data")  # folders copied as they are (then scanned)
MIN_SECRET = 16  # shorter lines ("return x", "pass") say nothing about an answer
_REGION = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.S)
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
# what only the instructor's side has: names of files and folders
PRIVATE_NAMES = {
    "course.toml": "course configuration",
    "nbgrader_config.py": "nbgrader configuration",
    "gradebook.db": "gradebook",
    "grades.csv": "gradebook export",
    "grading_report.csv": "grading report",
    "lms_ids.csv": "students' LMS ids",
    "lms_export": "grades for the LMS",
    "timestamp.txt": "hand-in (nbgrader timestamp)",
    "submitted": "hand-ins",
    "autograded": "hand-ins",
    "feedback": "hand-ins (feedback)",
    "grading_logs": "grading logs",
    "exchange": "nbgrader exchange",
    "coursekit": "instructor tool",
    "solutions": "worked solutions",
    "release": "nbgrader release folder",
}


PLACEHOLDER_REPO = "course-kit/dl-course"  # course.toml's public_repo as the kit ships it
# The instructor's tools, named as students would have to run them. Students have neither
# package, so student material must say what *they* can do. Allowed: "benchmark" and "benchmarks"
# as English words (the course's benchmark notes are cited as a source of numbers); only the
# package as a command or module (`benchmarks/…`, `benchmarks.…`, `python -m benchmarks`) counts.
# `coursekit` has no meaning but the tool, so the word counts wherever it stands.
TOOL_WORDS = re.compile(r"\bcoursekit\b|\bbenchmarks(?=[./][A-Za-z_])|-m\s+benchmarks\b", re.I)


@dataclass(frozen=True)
class Leak:
    """Something in the published tree that students must not see."""

    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


# ------------------------------------------------------------------------------ write


def released(course: Course) -> dict[str, Path]:
    """The student version of every assignment, releasing again those that are stale."""
    from coursekit.release import release

    stale = []
    for name in course.notebook_names():
        source = course.root / "assignments" / name / f"{name}.ipynb"
        target = course.root / "release" / name / f"{name}.ipynb"
        if not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
            stale.append(name)
    if stale and release(course, stale):
        raise CourseError(
            f"nbgrader could not release {', '.join(stale)}: fix what it said above "
            "(`coursekit release NAME` repeats it), then publish again"
        )
    return {name: course.root / "release" / name / f"{name}.ipynb" for name in course.notebook_names()}


def student_pyproject(course: Course) -> str:
    """The students' pyproject.toml: course_utils only, from [tool.coursekit.student-package]."""
    from course_utils import __version__

    meta = tomllib.loads((course.root / "pyproject.toml").read_text(encoding="utf-8"))
    pkg = meta["tool"]["coursekit"]["student-package"]
    extras = "\n".join(f"{k} = {json.dumps(v)}" for k, v in pkg.get("optional-dependencies", {}).items())
    return f"""[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = {json.dumps(pkg["name"])}
version = {json.dumps(__version__)}
description = {json.dumps(pkg["description"])}
readme = "README.md"
requires-python = {json.dumps(pkg["requires-python"])}
license = {{ text = "MIT" }}
dependencies = {json.dumps(pkg["dependencies"])}

[project.optional-dependencies]
{extras}

[tool.setuptools.packages.find]
include = ["{PACKAGE}*"]
"""


def assignment_links(course: Course, names: list[str]) -> list[str]:
    """One line per assignment in ``names`` (released notebook names): title, points, and an
    "Open in Colab" link per notebook, to its student version in the students' repository."""
    lines = []
    for spec in course.assignments.values():
        mine = [n for n in spec.names if n in names]
        if not mine:
            continue
        links = [
            f"[Open in Colab{f' ({course.tracks[t]})' if (t := spec.track_of(n)) else ''}]"
            f"({course.colab_url(f'assignments/{n}/{n}.ipynb')})"
            for n in mine
        ]
        files = ", ".join(f"`assignments/{n}/{n}.ipynb`" for n in mine)
        title, points = spec.title or spec.key, f"{spec.points:g} points"
        if spec.counts_at_most is not None:
            points += f", at most {spec.counts_at_most:g} count"
        lines.append(f"* **{title}** ({points}): {' · '.join(links)} ({files})")
    return lines


def student_readme(course: Course, assignments: list[str]) -> str:
    """The students' README: a Colab badge per lesson and track, a Colab link per released
    assignment notebook (``assignments``: their names), the local install; nothing for the instructor."""
    badge = "https://colab.research.google.com/assets/colab-badge.svg"
    lessons = sorted({p.stem for p in (course.root / "notebooks").glob("*/*.ipynb")})
    head = " | ".join(["lesson", *course.tracks.values()])
    rows = [f"| {head} |", "|" + "---|" * (len(course.tracks) + 1)]
    for lesson in lessons:
        cells = [
            f"[![Open In Colab]({badge})]({course.colab_url(f'notebooks/{track}/{lesson}.ipynb')})"
            for track in course.tracks
        ]
        gpu = any(
            json.loads(p.read_text()).get("metadata", {}).get("accelerator") == "GPU"
            for p in (course.root / "notebooks").glob(f"*/{lesson}.ipynb")
        )
        rows.append(f"| `{lesson}`{' (GPU)' if gpu else ''} | " + " | ".join(cells) + " |")
    tasks = "\n".join(assignment_links(course, assignments))
    return f"""# {course.title or course.id}

The lecture notebooks and assignments of the course, in {" and ".join(course.tracks.values())}.
Read them as a website, with a tab per framework, at {course.site_url}.

## On Google Colab

Open a lesson with its badge. Its first code cell installs the course helpers (`course_utils`) from
this repository and changes nothing else; Colab already has the frameworks. Lessons marked (GPU)
train networks and open on a GPU runtime; when Colab has none free, they run on the CPU, slower.

{chr(10).join(rows)}

## On your own machine

```bash
git clone --branch {course.branch} https://github.com/{course.public_repo}.git
cd {course.public_repo.split("/")[1]}
python -m venv .venv && . .venv/bin/activate
pip install -e ".[torch]"        # or ".[keras]", or ".[torch,keras]"
pip install jupyterlab
jupyter lab notebooks/
```

Set `COURSE_FAST=1` before starting Jupyter to run any notebook in seconds (small data, one epoch).

## Assignments

Open an assignment with its Colab link (File → Save a copy in Drive keeps your work) or, on your
own machine, open its notebook in Jupyter. Answer in the cells marked `YOUR CODE HERE` /
`YOUR ANSWER HERE`, run all cells, then download it (File → Download → .ipynb) and hand it in as
your instructor says. Do not delete or copy cells: they carry the grading metadata.

{tasks}

## Licence

MIT, see `LICENSE`.
"""


def write_tree(course: Course, dest: Path, force: bool = False) -> list[str]:
    """Write the students' repository into ``dest`` (its ``.git``, if any, is kept)."""
    dest = dest.resolve()
    if dest == course.root or course.root in dest.parents:
        raise CourseError(
            f"DEST {dest} is inside the course directory: publish outside it, "
            "into the students' repository (for example ../dl-course)"
        )
    existing = [p for p in dest.iterdir() if p.name != ".git"] if dest.exists() else []
    if existing and not force:
        raise CourseError(f"{dest} is not empty: pass --force to replace its content (its .git is kept)")
    for p in existing:
        shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
    dest.mkdir(parents=True, exist_ok=True)
    for folder in COPIED:  # (the master's README files of these folders are for the instructor)
        ignore = shutil.ignore_patterns(
            "__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info", "README.md"
        )
        shutil.copytree(course.root / folder, dest / folder, ignore=ignore)
    releases = released(course)
    for name, path in releases.items():
        (dest / "assignments" / name).mkdir(parents=True)
        shutil.copy2(path, dest / "assignments" / name / path.name)
    (dest / "pyproject.toml").write_text(student_pyproject(course), encoding="utf-8")
    (dest / "README.md").write_text(student_readme(course, list(releases)), encoding="utf-8")
    shutil.copy2(course.root / "LICENSE", dest / "LICENSE")
    return sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file() and ".git" not in p.parts)


# ------------------------------------------------------------------------------- scan


def _lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines() if len(line.strip()) >= MIN_SECRET}


def _sources_of(nb: nbformat.NotebookNode) -> str:
    return "\n".join(cell.source for cell in nb.cells)


def secrets(course: Course) -> dict[str, str]:
    """``{line: what}``: lines of solutions and hidden tests that no student material contains.

    A line counts when it has at least ``MIN_SECRET`` characters and is not given to students
    by design (the student versions, the lesson sources, course_utils): ``return self.fc2(x)``
    is in a lesson as much as in a solution and proves nothing. The published notebooks are
    built from the lesson sources, so a secret line in one of them did not come from a source.
    """
    found: dict[str, str] = {}
    for name in course.notebook_names():
        nb = nbformat.read(course.root / "assignments" / name / f"{name}.ipynb", as_version=4)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            for kind, body in _REGION.findall(cell.source):
                for line in _lines(body):
                    found.setdefault(line, f"{kind.lower()} line of {name}")
            if cell.cell_type == "markdown" and meta.get("solution"):
                for line in _lines(cell.source):
                    found.setdefault(line, f"model answer of {name}")
    for path in sorted((course.root / "solutions" / "lectures" / "src").glob("*.py")):
        for line in _lines(path.read_text(encoding="utf-8")):
            found.setdefault(line, f"lecture solution line ({path.stem})")
    # what students are given anyway, by design: the student versions (imports, given code), the
    # lesson sources and their data scripts, the course_utils package
    given: set[str] = set()
    for path in (course.root / "release").glob("*/*.ipynb"):
        given |= _lines(_sources_of(nbformat.read(path, as_version=4)))
    for path in [*(course.root / "lessons").rglob("*.py"), *(course.root / PACKAGE).rglob("*.py")]:
        given |= _lines(path.read_text(encoding="utf-8"))
    return {line: what for line, what in found.items() if line not in given}
    return found


def _text_of(path: Path) -> list[str] | None:
    """The lines of a text file (a notebook's cell sources and outputs as text); None for binaries."""
    data = path.read_bytes()
    if data.startswith(b"SQLite format 3"):
        return None
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return None


def _unquoted(line: str) -> str:
    """A line as it reads in the cell: a notebook's JSON string (``"  x = 1\\n",``) decoded."""
    text = line.strip().rstrip(",")
    if text.startswith('"') and text.endswith('"'):
        try:
            return str(json.loads(text)).strip()
        except ValueError:
            pass
    return line.strip()


def machine_paths(course: Course, dest: Path) -> dict[str, str]:
    """``{absolute path: what it is}`` of the machine that builds the course, longest first.

    A published file that contains one shows where the course was built (a notebook output
    printing a data folder, a warning naming a file of the Python environment): that belongs to
    the build machine, not to the students' material. ``/`` alone and ``/usr`` are left out (a
    path like ``/usr/bin/env`` says nothing about this machine); ``/path/to/...`` examples are no
    real path of it and pass.
    """
    found: dict[str, str] = {}

    def add(path: str | Path | None, what: str) -> None:
        if not path:
            return
        # a relative $COURSE_DATA_DIR ("../shared/data") is no path of this machine: its resolved form is
        for variant in {str(Path(path)), os.path.realpath(path)}:
            if Path(variant).is_absolute() and variant not in ("/", "/usr", "/usr/local"):
                found.setdefault(variant, what)

    add(dest, "the published tree's own location")
    add(course.root, "the course directory")
    add(environment().data_dir, "the data folder ($COURSE_DATA_DIR)")
    for folder in [*python_site.getsitepackages(), python_site.getusersitepackages()]:
        add(folder, "the Python environment's site-packages")
    add(sys.prefix, "the Python environment (sys.prefix)")
    add(sys.exec_prefix, "the Python environment (sys.exec_prefix)")
    add(
        Path(sys.base_prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}",
        "the Python standard library",
    )
    add(tempfile.gettempdir(), "the temporary folder")
    add(Path.home(), "the build machine's home folder")
    return dict(sorted(found.items(), key=lambda item: -len(item[0])))


def _path_pattern(paths: dict[str, str]) -> re.Pattern:
    """One of ``paths`` as a whole path: not inside a longer name (``/tmpfile``, ``x/root``)."""
    alternatives = "|".join(re.escape(p) for p in paths)
    return re.compile(rf"(?<![\w.~/-])({alternatives})(?![\w.-])")


def scan(dest: Path, course: Course) -> list[Leak]:
    """Everything in ``dest`` that students must not see, with file and line."""
    dest = dest.resolve()
    hidden = secrets(course)
    paths = machine_paths(course, dest)
    where = _path_pattern(paths)
    sources = {f"assignments/{key}.py" for key in course.assignments}
    leaks: list[Leak] = []
    for path in sorted(p for p in dest.rglob("*") if ".git" not in p.relative_to(dest).parts):
        rel = str(path.relative_to(dest))
        private = [PRIVATE_NAMES[part] for part in path.relative_to(dest).parts if part in PRIVATE_NAMES]
        if private:
            leaks.append(Leak(rel, 0, private[0]))
            continue
        if path.is_dir():
            continue
        if rel in sources or (path.suffix == ".py" and "nbgrader={" in path.read_text(errors="replace")):
            leaks.append(Leak(rel, 0, "assignment source (solutions and hidden tests)"))
            continue
        if path.name.endswith((".orig", ".db", ".sqlite")) or path.read_bytes()[:15] == b"SQLite format 3":
            leaks.append(Leak(rel, 0, "gradebook or hand-in file"))
            continue
        if path.suffix == ".ipynb":
            leaks += _scan_notebook(path, rel)
        lines = _text_of(path)
        for number, line in enumerate(lines or [], start=1):
            text = _unquoted(line)
            if any(marker in line for marker in MARKERS):
                leaks.append(Leak(rel, number, "nbgrader solution / hidden-test marker"))
            elif text in hidden:
                leaks.append(Leak(rel, number, hidden[text]))
            elif re.search(r"^\s*(from|import)\s+coursekit\b", text):
                leaks.append(Leak(rel, number, "instructor tool (imports coursekit)"))
            elif match := where.search(line):
                found = match.group(1)
                leaks.append(
                    Leak(
                        rel,
                        number,
                        f"absolute path of the build machine ({paths[found]}: "
                        f"{found}); print paths relative to the notebook or without "
                        "their folder, silence or filter the warning at its source, "
                        "then publish again",
                    )
                )
            elif match := TOOL_WORDS.search(line):
                leaks.append(
                    Leak(
                        rel,
                        number,
                        f"names an instructor tool ({match.group(0)!r}), which "
                        "students do not have; say what a student can run instead "
                        "(in the lesson source), rebuild and publish again",
                    )
                )
    return leaks


def _scan_notebook(path: Path, rel: str) -> list[Leak]:
    """A published notebook has no outputs; one with outputs is a hand-in or an executed copy."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:
        return [Leak(rel, 0, f"not a readable notebook ({type(err).__name__})")]
    ran = [i for i, c in enumerate(nb.cells, 1) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    if ran:
        return [Leak(rel, 0, f"notebook with outputs (a hand-in or an executed copy; cell {ran[0]})")]
    return []


def publish(
    course: Course, dest: Path, force: bool = False, site: bool = True, cache: Path | None = None
) -> list[str]:
    """``coursekit publish DEST``: write the students' repository and its website, then scan both.

    ``cache``: where the site finds executed notebooks (default ``_build/cache``).
    """
    if course.public_repo == PLACEHOLDER_REPO:
        print(
            f"WARNING: public_repo in {course.root / 'course.toml'} is still the kit's placeholder "
            f"{PLACEHOLDER_REPO!r}: every Colab badge and install cell would point at a repository "
            'that is not yours. Set [course] public_repo = "<owner>/<name>" of your students\' '
            "GitHub repository (and branch), run `coursekit build`, then publish again.",
            file=sys.stderr,
        )
    try:
        files = write_tree(course, dest, force=force)
    except CourseError as err:  # DEST refused, or a release failed: one FAILED line, status 1
        return [str(err)]
    if site:
        from coursekit.site import build_site

        fast = environment().fast is not False
        failed = build_site(course, dest, dest / "docs", fast=fast, cache=cache)
        if failed:
            return failed
        files = sorted(
            str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file() and ".git" not in p.parts
        )
    leaks = scan(dest, course)
    size = sum((dest / f).stat().st_size for f in files)
    if leaks:
        for leak in leaks:
            print(f"LEAK: {leak}")
        return [f"{len(leaks)} leak(s) in {dest}: do not push it; fix the sources named above"]
    print(
        f"published {len(files)} files ({size / 1e6:.1f} MB) into {dest}; scan: no solution, hidden test, "
        "assignment source, gradebook, hand-in, instructor tool or path of this machine"
    )
    return []
