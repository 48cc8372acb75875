"""What an LMS gives the instructor, turned into (student id, assignment, notebook, extra files).

Used by ``coursekit collect HANDINS [--assignment NAME]`` (``make collect``).
``HANDINS`` is a folder, or a ``.zip`` file (an LMS bulk download), which is unpacked into a
temporary folder first: members with an absolute path, ``..`` or a control character in their
name and symbolic links are refused (reported, not written), ``__MACOSX/`` and dot files are
skipped, every member becomes a plain file with the zip entry's date as its modification time.
A zip whose only top-level entry is a folder that holds the hand-ins (``submissions/...``) is
read from inside that folder. A tar archive is refused (it can carry links and device files):
hand in a zip or a folder.

Hand-in files are data (:mod:`coursekit.plainfiles`): only plain regular files are read.
Symbolic links, hard links, FIFOs, device files and names with control characters, in the
folder or in a student's folder, are never followed or opened; each is named in ``Plan.errors``
(a ``.git`` folder in ``Plan.notes``), and the rest of the hand-in is collected.

Naming conventions, tried in this order for each entry of the folder:

1. **An LMS's bulk download**, read by the LMS plugins of :mod:`coursekit.lms` (nbgrader's
   ``FileNameCollectorPlugin`` interface): Moodle's "Download all submissions", in folders
   (``<Full Name>_<participant id>_assignsubmission_file_/<file>``) or flat, and Canvas'
   ``submissions.zip`` (``<name>_[LATE_]<user id>_<submission id>_<original name>``). The
   plugin gives the student id, the name the student gave the file and the LMS's own ids
   (kept for ``coursekit export``); the other files of the same student in the download are the
   notebook's data files. See each plugin's module for its names.
2. **Ours**: ``<student_id>__<assignment>.ipynb`` (two underscores), data files
   ``<student_id>__<assignment>__<file>`` copied next to the notebook as ``<file>``.
3. ``<student_id>.ipynb``, with ``assignment`` given.
4. One folder per student, ``<student_id>/<any name>.ipynb`` plus data files, with
   ``assignment`` given.

Where the assignment is not given (no ``--assignment``), a Moodle or Canvas hand-in or a
student folder whose notebook is named like an assignment (``matmul_timing.ipynb``, as
downloaded from Colab, also ``matmul_timing (1).ipynb`` or Canvas's ``matmul_timing-1.ipynb``)
goes to that assignment. When two hand-ins map to one (student, assignment), the newest
(zip entry date, or modification time) is kept and the other is reported in
``Plan.notes``, never dropped silently.

No LMS was at hand to download from: check the names of your own LMS's first download with
``collect`` (each line shows the file it came from).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from coursekit import lms, plainfiles

SEP = "__"  # <student_id>__<assignment>.ipynb
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
COPY_SUFFIX = re.compile(r"(?: ?\(\d+\)|-\d+)$")  # "name (1)" (browser), "name-1" (Canvas resubmission)
MAX_UNZIPPED = 2 << 30  # bytes: a bigger archive is refused (a zip bomb, or the wrong file)
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst")
TAR_REFUSED = (
    "a tar archive, which collect does not unpack (it can carry links, device files and paths "
    'outside the folder): hand in a .zip (the LMS\'s "download all") or a folder'
)


@dataclass
class Handin:
    """One notebook to collect."""

    student: str
    assignment: str
    notebook: Path
    extras: list[tuple[Path, str]] = field(default_factory=list)  # (file, its name in submitted/)
    label: str = ""  # where it came from, relative to HANDINS
    layout: str = ""  # "ours", "plain", "folder", or the LMS's name ("moodle", "canvas")
    late: bool = False  # the LMS marked it late (Canvas' LATE)
    when: float = 0.0  # modification time (zip entry date), to keep the newest of two
    lms: dict = field(default_factory=dict)  # the LMS's own ids, to send grades back (coursekit export)

    def __post_init__(self) -> None:
        self.label = self.label or self.notebook.name


@dataclass
class Plan:
    """The hand-ins to collect, the errors (nothing collected for them) and notes."""

    handins: list[Handin] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- zip files


def _member_path(name: str) -> PurePosixPath | None:
    """The relative path of a zip member, or None when it must not be written (absolute, ``..``,
    a control character)."""
    name = name.replace("\\", "/")
    path = PurePosixPath(name)
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or any(map(plainfiles.name_problem, path.parts)):
        return None
    return path


def extract_zip(archive: Path, target: Path) -> list[str]:
    """Unpack ``archive`` into ``target`` safely; the problems found (members refused).

    Only plain files are written (symbolic links are refused, other special files become plain
    files), each below ``target``; the modification time of each file is its zip entry's date.
    """
    problems = []
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        if sum(m.file_size for m in members) > MAX_UNZIPPED:
            return [f"{archive.name}: more than {MAX_UNZIPPED >> 30} GiB unpacked: not extracted"]
        for member in members:
            path = _member_path(member.filename)
            if path is None:
                problems.append(
                    f"{archive.name}: {member.filename!r} refused (absolute path, '..' or a "
                    "control character)"
                )
                continue
            if stat.S_ISLNK(member.external_attr >> 16):
                problems.append(
                    f"{archive.name}: {member.filename!r} refused (a symbolic link in the zip: "
                    "hand in the file itself)"
                )
                continue
            if not path.parts or path.parts[0] == "__MACOSX" or any(p.startswith(".") for p in path.parts):
                continue
            out = target.joinpath(*path.parts)
            try:
                if member.is_dir():
                    out.mkdir(parents=True, exist_ok=True)
                    continue
                out.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, open(out, "xb") as dst:
                    shutil.copyfileobj(src, dst)
            except (FileExistsError, NotADirectoryError):  # twice in the zip, or a file and a folder
                problems.append(
                    f"{archive.name}: {member.filename!r} not extracted (a second entry of that "
                    "name, or a file where a folder is: the first one is kept)"
                )
                continue
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as err:
                out.unlink(missing_ok=True)  # encrypted, corrupt, or an unknown compression
                why = f"{type(err).__name__}: {err}"
                problems.append(f"{archive.name}: {member.filename!r} not extracted ({why})")
                continue
            stamp = time.mktime((*member.date_time, 0, 0, -1))
            os.utime(out, (stamp, stamp))
    return problems


def _named_by_an_lms(entry: Path) -> bool:
    """Is folder ``entry`` one student's folder of an LMS download (not a wrapper)?"""
    return any(c.identify(f"{entry.name}/") or c.skipped(f"{entry.name}/") for c in lms.collectors())


def _content_root(folder: Path) -> Path:
    """The folder itself, or its only subfolder when that is a wrapper (``submissions/``)."""
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir() and not _named_by_an_lms(entries[0]):
        inner = entries[0]
        if any(p.is_dir() for p in inner.iterdir()) or len(list(inner.glob("*.ipynb"))) > 1:
            return inner
    return folder


@contextlib.contextmanager
def opened(handins: Path) -> Iterator[tuple[Path | None, list[str]]]:
    """``(folder to read, problems)`` for a folder or a ``.zip`` (unpacked into a temporary folder).

    The folder is None when ``handins`` cannot be read at all (the problems say why).
    """
    if handins.is_dir():
        yield handins, []
    elif handins.is_file() and zipfile.is_zipfile(handins):
        with tempfile.TemporaryDirectory(prefix="handins-") as tmp:
            try:
                problems = extract_zip(handins, Path(tmp))
            except (zipfile.BadZipFile, OSError) as err:
                yield None, [f"HANDINS={handins}: cannot read the zip file ({type(err).__name__}: {err})"]
                return
            yield _content_root(Path(tmp)), problems
    elif handins.is_file() and _is_tar(handins):
        yield None, [f"HANDINS={handins} is {TAR_REFUSED}"]
    elif handins.is_file():
        yield None, [f"HANDINS={handins} is neither a folder nor a zip file"]
    else:
        yield None, [f"HANDINS={handins} is not a folder (nor a zip file): it does not exist"]


def _is_tar(path: Path) -> bool:
    import tarfile

    if path.name.lower().endswith(TAR_SUFFIXES):
        return True
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


def _passed_over(rel: str, st: os.stat_result) -> bool:
    """Dot files (a ``.git`` folder is named, though) and macOS's ``__MACOSX``: skipped silently."""
    name = rel.rsplit("/", 1)[-1]
    return (name.startswith(".") and name not in plainfiles.NOT_COPIED_DIRS) or name == "__MACOSX"


def _listing(folder: Path, plan: Plan, label: str | None = None) -> list[tuple[Path, os.stat_result]]:
    """The plain files and real folders directly in ``folder``, with their ``lstat``.

    Links, FIFOs, devices, hard links and bad names are never followed or opened: each goes to
    ``plan.errors`` (a ``.git`` folder to ``plan.notes``). ``label``: ``folder`` as shown, for a
    student's folder (None: the folder the instructor named, which may itself be a link).
    """
    skipped: list[plainfiles.Skipped] = []
    entries = plainfiles.walk(
        folder, skipped, follow_root=label is None, recursive=False, ignore=_passed_over
    )
    found = [(folder / e.name, e.st) for e in entries]
    for item in skipped:
        where = f"{label or ''}{item.path}"
        if item.path.rstrip("/") in plainfiles.NOT_COPIED_DIRS:
            plan.notes.append(f"{where}: {item.reason}")
        else:
            plan.errors.append(f"{where}: not collected: {item.reason}")
    return found


def _files(listing: list[tuple[Path, os.stat_result]]) -> dict[Path, os.stat_result]:
    return {p: st for p, st in listing if stat.S_ISREG(st.st_mode)}


# ------------------------------------------------------------------------------ names


def _known_name(filename: str, known: list[str]) -> str | None:
    """The assignment a notebook is named after (``matmul_timing (1).ipynb``), else None."""
    stem = Path(filename).stem
    for candidate in (stem, COPY_SUFFIX.sub("", stem)):
        if candidate in known:
            return candidate
        if SEP in candidate and candidate.rsplit(SEP, 1)[1] in known:
            return candidate.rsplit(SEP, 1)[1]
    return None


def _from_folder(
    entry: Path,
    student: str,
    layout: str,
    assignment: str | None,
    known: list[str],
    root: Path,
    plan: Plan,
    lms: dict | None = None,
) -> None:
    try:
        files = _files(_listing(entry, plan, f"{entry.name}/"))
    except OSError as err:  # swapped for a link since it was listed, or unreadable
        plan.errors.append(f"{entry.name}/: not collected: {err}")
        return
    notebooks = [p for p in files if p.suffix == ".ipynb"]
    name = assignment or (_known_name(notebooks[0].name, known) if len(notebooks) == 1 else None)
    if len(notebooks) != 1:
        plan.errors.append(f"{entry.name}/: expected exactly one .ipynb, found {len(notebooks)}")
    elif not name:
        plan.errors.append(f"{entry.name}/: a folder per student needs ASSIGNMENT=<name>")
    else:
        extras = [(p, p.name) for p in files if p != notebooks[0]]
        plan.handins.append(
            Handin(
                student,
                name,
                notebooks[0],
                extras,
                str(notebooks[0].relative_to(root)),
                layout,
                when=files[notebooks[0]].st_mtime,
                lms=lms or {},
            )
        )


def _lms_file(entry: Path, files: dict[Path, os.stat_result], collectors: list) -> tuple | None:
    """``(collector, what it read, data files)`` of a notebook named by an LMS download, else None;
    the data files are the student's other files of the same download and lateness."""
    for collector in collectors:
        found = collector.collect(entry.name)
        if found is None:
            continue
        extras = []
        for path in files:
            other = collector.identify(path.name) if path != entry and path.suffix != ".ipynb" else None
            if other and (other["student_id"], other["late"]) == (found["student_id"], found["late"]):
                extras.append((path, other["file_id"]))
        return collector, found, extras
    return None


def _from_file(
    entry: Path,
    files: dict[Path, os.stat_result],
    assignment: str | None,
    known: list[str],
    root: Path,
    plan: Plan,
    collectors: list,
) -> None:
    """A notebook directly in the folder; ``files``: the plain files beside it (its data files)."""
    stem, layout, late, lms, extras = entry.stem, "plain", False, {}, []
    if by_lms := _lms_file(entry, files, collectors):
        collector, found, extras = by_lms
        student, layout, late, lms = found["student_id"], collector.lms, found["late"], found["ids"]
        name = assignment or _known_name(found["file_id"], known)
    elif SEP in stem:
        (student, name), layout = stem.split(SEP, 1), "ours"
        prefix = f"{student}{SEP}{name}{SEP}"
        extras = [(p, p.name.split(SEP)[-1]) for p in files if p.name.startswith(prefix)]
    elif assignment:
        student, name = stem, assignment
    else:
        plan.errors.append(
            f"{entry.name}: name it <student_id>{SEP}<assignment>.ipynb or pass ASSIGNMENT=<name>"
        )
        return
    if not name:
        plan.errors.append(
            f"{entry.name}: {layout} hand-in of a notebook not named after an assignment: "
            "pass ASSIGNMENT=<name>"
        )
        return
    if name not in known:
        plan.errors.append(f"{entry.name}: unknown assignment {name!r} (known: {', '.join(known)})")
        return
    plan.handins.append(
        Handin(
            student,
            name,
            entry,
            extras,
            str(entry.relative_to(root)),
            layout,
            late,
            files[entry].st_mtime,
            lms,
        )
    )


def _data_names(plan: Plan) -> None:
    """Refuse data files whose name in ``submitted/`` would be a path trick or the notebook's own."""
    for h in plan.handins:
        kept = []
        for path, name in h.extras:
            problem = plainfiles.name_problem(name)
            if problem is None and name in (f"{h.assignment}.ipynb", "timestamp.txt"):
                problem = f"the name {name!r} is the grader's own"
            if problem:
                plan.errors.append(f"{path.name}: not collected: {problem}")
            else:
                kept.append((path, name))
        h.extras = kept


def _date(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def _newest(plan: Plan) -> None:
    """One hand-in per (student, assignment): the newest; the others reported in ``plan.notes``."""
    groups: dict[tuple[str, str], list[Handin]] = {}
    for handin in plan.handins:
        groups.setdefault((handin.student, handin.assignment), []).append(handin)
    kept = []
    for (student, name), group in groups.items():
        group.sort(key=lambda h: (h.when, h.label))
        kept.append(group[-1])
        new = group[-1]
        for old in group[:-1]:
            same = " (same date: kept the last by name)" if old.when == new.when else ""
            kept_one = f"kept the newer {new.label} ({_date(new.when)})"
            plan.notes.append(
                f"{student} {name}: two hand-ins, {kept_one}, skipped {old.label} ({_date(old.when)}){same}"
            )
    plan.handins = sorted(kept, key=lambda h: (h.student, h.assignment))


def _lms_folder(
    entry: Path, collectors: list, assignment: str | None, known: list[str], root: Path, plan: Plan
) -> bool:
    """Collect ``entry`` if it is an LMS's folder of one student (True), or skip it with a note."""
    for collector in collectors:
        if note := collector.skipped(f"{entry.name}/"):
            plan.notes.append(note)
            return True
        found = collector.identify(f"{entry.name}/")
        if found is not None and not found["file_id"]:
            student, ids = found["student_id"], found["ids"]
            _from_folder(entry, student, collector.lms, assignment, known, root, plan, ids)
            return True
    return False


def plan_folder(folder: Path, assignment: str | None, known: list[str]) -> Plan:
    """The hand-ins in ``folder`` (see the module docstring for the names understood)."""
    plan = Plan()
    listing = _listing(folder, plan)
    files = _files(listing)
    collectors = lms.collectors()
    for entry, st in listing:
        name = f"{entry.name}/" if stat.S_ISDIR(st.st_mode) else entry.name
        if problems := [p for c in collectors if (p := c.ambiguous(name))]:
            plan.errors.append(problems[0])  # a notebook, folder or data file: never guessed
            continue
        if stat.S_ISDIR(st.st_mode) and _lms_folder(entry, collectors, assignment, known, folder, plan):
            continue
        if stat.S_ISDIR(st.st_mode):
            if not assignment:
                try:
                    inside = _files(_listing(entry, Plan(), f"{entry.name}/"))  # reported when collected
                except OSError:
                    inside = {}
                notebooks = [p for p in inside if p.suffix == ".ipynb"]
                if len(notebooks) != 1 or not _known_name(notebooks[0].name, known):
                    plan.errors.append(f"{entry.name}/: a folder per student needs ASSIGNMENT=<name>")
                    continue
            _from_folder(entry, entry.name, "folder", assignment, known, folder, plan)
        elif entry.suffix == ".ipynb":
            _from_file(entry, files, assignment, known, folder, plan, collectors)
        elif entry.name.lower().endswith(TAR_SUFFIXES):
            plan.errors.append(f"{entry.name}: not collected: {TAR_REFUSED}")
        # other files are data files, picked up with their notebook
    _data_names(plan)
    valid = []
    for handin in plan.handins:
        if STUDENT_ID.match(handin.student):
            valid.append(handin)
        else:
            plan.errors.append(
                f"{handin.label}: student id {handin.student!r} may contain only letters, digits, . _ -"
            )
    plan.handins = valid
    _newest(plan)
    return plan
